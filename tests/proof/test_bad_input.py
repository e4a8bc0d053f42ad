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


RED, BLUE, BLACK = (255, 0, 0), (0, 0, 255), (0, 0, 0)

# What each file becomes: the type sent, its size, its colour mode, the top-left pixel and the note shown.
ACCEPTED = {
    "rgb.png": ("image/png", (64, 48), "RGB", (200, 30, 30), None),
    "one.png": ("image/png", (1, 1), "RGB", BLACK, None),
    "cmyk.jpg": ("image/jpeg", (32, 32), "RGB", RED, "Converted from CMYK to RGB colours."),
    # 40000 of 65535 is 156 of 255 (the top eight bits)
    "sixteen.png": ("image/png", (20, 20), "L", 156, "Converted from 16-bit to 8-bit colour."),
    "palette.png": ("image/png", (16, 16), "RGBA", (0, 0, 0, 0),
                    "Converted the palette image with transparency to RGBA."),
    "animated.gif": ("image/png", (20, 20), "RGB", RED, "Used the first of its 2 animation frames"),
    "animated.webp": ("image/webp", (20, 20), "RGB", RED, "Used the first of its 2 animation frames"),
    "rotated.jpg": ("image/jpeg", (20, 40), "RGB", BLUE, "Rotated upright from its EXIF orientation."),
    # the first picture (red), not the second (green)
    "iphone.mpo": ("image/jpeg", (20, 20), "RGB", RED,
                   "Converted from MPO to JPEG, keeping the first of its pictures."),
    "tiny-header.png": ("image/png", (1, 1), "RGB", BLACK, None),
}
REFUSED = {
    "empty": '"empty" is empty; upload a PNG, JPEG or WebP file.',
    "truncated.png": "is damaged or cut short and cannot be read",
    "huge-header.png": "has too many pixels for ImageLab to open (more than 89.5 megapixels)",
}


# Readable, but below the API's minimum of 16 pixels a side: refused as an input (a mask that small is
# still scaled to its picture, see below).
TOO_SMALL = {
    "one.png": '"one.png" is only 1×1 pixels; the API needs at least 16 pixels on each side',
    "tiny-header.png": '"tiny-header.png" is only 1×1 pixels; the API needs at least 16 pixels on each side',
}


def test_every_special_file_has_a_pinned_outcome():
    assert {n for n, _ in special_files()} == set(ACCEPTED) | set(REFUSED)


@pytest.mark.parametrize("name,data", special_files(), ids=[n for n, _ in special_files()])
def test_every_special_upload_is_normalised_or_refused_with_a_sentence(name, data):
    refusals = {**REFUSED, **TOO_SMALL}
    if name in refusals:
        with pytest.raises(InputRefused) as refused:
            normalize_input(data, name)
        assert refusals[name] in refused.value.sentence and refused.value.sentence.endswith(".")
        return
    mime, size, mode, pixel, note = ACCEPTED[name]
    out = normalize_input(data, name)
    assert (out.mime, (out.width, out.height)) == (mime, size)
    with Image.open(io.BytesIO(out.data)) as img:
        img.load()
        assert Image.MIME[img.format] == mime and img.size == size and img.mode == mode
        got = img.getpixel((0, 0))
    if isinstance(pixel, int):
        assert got == pixel
    else:  # JPEG and lossy WebP move a colour by a step or two
        assert len(got) == len(pixel) and all(abs(a - b) <= 4 for a, b in zip(got, pixel, strict=True)), got
    if note is None:
        assert out.notes == ()
    else:
        assert any(note in n for n in out.notes), out.notes


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


# A mask upload's alpha after reading: 0 is repainted, 255 kept. A mask without alpha is read by its
# lightness (light = repaint); an opaque colour picture keeps everything.
MASK_ALPHA = {"rgb.png": 255, "one.png": 255, "cmyk.jpg": 255, "sixteen.png": 0, "palette.png": 0,
              "animated.gif": 255, "animated.webp": 255, "rotated.jpg": 255, "iphone.mpo": 255,
              "tiny-header.png": 255}


@pytest.mark.parametrize("name,data", special_files(), ids=[n for n, _ in special_files()])
def test_special_masks_become_alpha_masks_or_a_sentence(name, data):
    if name in REFUSED:
        with pytest.raises(MaskError) as refused:
            mask_from_alpha_or_luma(data, (64, 48))
        assert refused.value.sentence.startswith("The mask ")
        return
    out, _ = mask_from_alpha_or_luma(data, (64, 48))
    with Image.open(io.BytesIO(out)) as m:
        assert m.size == (64, 48) and m.mode == "RGBA"
        assert set(np.unique(np.asarray(m.getchannel("A")))) == {MASK_ALPHA[name]}


@FAST
@given(st.binary(max_size=4096))
def test_load_settings_from_random_bytes_is_none(data):
    assert read_metadata(data) is None


@pytest.mark.parametrize("name,data", special_files(), ids=[n for n, _ in special_files()])
def test_load_settings_from_special_files(name, data):
    assert read_metadata(data) is None  # none of them carries ImageLab's record


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
