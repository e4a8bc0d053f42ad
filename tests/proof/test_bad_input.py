"""Property-based bad input for every path that reads a file a user brings: uploads, masks and
"load settings from image". Never a traceback: accepted files come out normalised, refused ones
with a sentence."""

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from imagelab.export import embed_metadata, read_metadata, settings_from_metadata
from imagelab.inputs import InputRefused, normalize_input
from imagelab.masks import MaskError, mask_from_alpha_or_luma

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **kw)
    return buf.getvalue()


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its data does not have."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def special_files() -> list[tuple[str, bytes]]:
    rgb = Image.new("RGB", (64, 48), (200, 30, 30))
    files = [("rgb.png", png(rgb)), ("empty", b""), ("one.png", png(Image.new("RGB", (1, 1))))]
    buf = io.BytesIO()
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(buf, "JPEG")
    files.append(("cmyk.jpg", buf.getvalue()))
    files.append(("sixteen.png", png(Image.fromarray(np.full((20, 20), 40000, np.uint16)))))
    pal = Image.new("P", (16, 16))
    pal.putpalette([0, 0, 0, 255, 0, 0] * 128)
    files.append(("palette.png", png(pal, transparency=0)))
    frames = [Image.new("RGB", (20, 20), c) for c in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    files.append(("animated.gif", buf.getvalue()))
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:])
    files.append(("animated.webp", buf.getvalue()))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 0, 255)).save(buf, "JPEG", exif=exif)
    files.append(("rotated.jpg", buf.getvalue()))
    buf = io.BytesIO()
    frames[0].save(buf, "MPO", save_all=True, append_images=frames[1:])
    files.append(("iphone.mpo", buf.getvalue()))
    full = png(rgb)
    files.append(("truncated.png", full[: len(full) // 2]))
    files.append(("huge-header.png", header_only_png(20000, 20000)))
    files.append(("tiny-header.png", header_only_png(1, 1)))
    return files


@pytest.mark.parametrize("name,data", special_files(), ids=[n for n, _ in special_files()])
def test_every_special_upload_is_normalised_or_refused_with_a_sentence(name, data):
    try:
        out = normalize_input(data, name)
    except InputRefused as exc:
        assert exc.sentence.endswith(".") and len(exc.sentence) > 20
        return
    with Image.open(io.BytesIO(out.data)) as img:
        img.load()
        assert img.format in ("PNG", "JPEG", "WEBP") and img.mode in ("RGB", "RGBA", "L", "LA")
        assert img.size == (out.width, out.height)
    assert out.mime in ("image/png", "image/jpeg", "image/webp")
    if name == "rotated.jpg":
        assert (out.width, out.height) == (20, 40)  # turned upright


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise_anything_but_a_refusal(data):
    try:
        normalize_input(data, "random.bin")
    except InputRefused as exc:
        assert exc.sentence


@FAST
@given(st.binary(min_size=1, max_size=2048), st.integers(min_value=8, max_value=2000))
def test_damaged_pngs_are_refused_or_read(noise, cut):
    good = png(Image.new("RGB", (50, 50), (10, 200, 10)))
    damaged = good[:cut] + noise
    try:
        out = normalize_input(damaged, "damaged.png")
    except InputRefused:
        return
    assert out.width > 0 and out.height > 0


@FAST
@given(st.binary(max_size=2048))
def test_random_masks_are_refused_with_a_sentence(data):
    try:
        mask_from_alpha_or_luma(data, (64, 64))
    except MaskError as exc:
        assert exc.sentence


@pytest.mark.parametrize("name,data", special_files(), ids=[n for n, _ in special_files()])
def test_special_masks_become_alpha_masks_or_a_sentence(name, data):
    try:
        out, _ = mask_from_alpha_or_luma(data, (64, 48))
    except MaskError as exc:
        assert exc.sentence
        return
    with Image.open(io.BytesIO(out)) as m:
        assert m.size == (64, 48) and m.mode == "RGBA"
        assert set(np.unique(np.asarray(m.getchannel("A")))) <= {0, 255}


@FAST
@given(st.binary(max_size=4096))
def test_load_settings_from_random_bytes_is_none(data):
    assert read_metadata(data) is None or isinstance(read_metadata(data), dict)


@pytest.mark.parametrize("name,data", special_files(), ids=[n for n, _ in special_files()])
def test_load_settings_from_special_files(name, data):
    meta = read_metadata(data)
    assert meta is None or isinstance(meta, dict)


@FAST
@given(st.dictionaries(st.text(max_size=20), st.one_of(st.text(max_size=50), st.integers(), st.none(),
                                                       st.booleans(), st.lists(st.integers(), max_size=3)),
                       max_size=12))
def test_settings_from_any_metadata_are_checked(params):
    meta = {"app": "ImageLab", "page": "generate", "model": "gpt-image-2", "prompt": "x", "params": params}
    try:
        page, settings_ = settings_from_metadata(meta)
    except ValueError:
        return
    assert page in ("generate", "reference_edit", "mask_edit", "conversation")
    from imagelab.specs import GenerateSpec

    allowed = {f for f in GenerateSpec.__dataclass_fields__}
    assert set(settings_) <= allowed | {"mainline", "action", "input_fidelity", "attach_as"}


def test_settings_round_trip_through_a_file():
    data = png(Image.new("RGB", (32, 32), (1, 2, 3)))
    record = {"prompt": "<b>a fox</b>", "model": "gpt-image-1.5", "page": "generate",
              "params": {"quality": "high", "size": "1024x1536", "n": 2, "output_format": "png", "evil": "x"}}
    loaded = settings_from_metadata(read_metadata(embed_metadata(data, "png", record)))
    page, got = loaded
    assert page == "generate" and got["prompt"] == "<b>a fox</b>" and got["quality"] == "high"
    assert "evil" not in got and any("evil" in s for s in loaded.dropped)
