"""Input normalisation: every kind of file a user may drop in, checked on bytes and pixels."""

import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from imagelab.inputs import (
    MIN_SIDE,
    MODEL_READ_SIDE,
    InputRefused,
    NormalizedImage,
    image_file_tuple,
    normalize_input,
    probe,
    reduced_size,
    stage_input,
)
from imagelab.specs import EditSpec
from imagelab.store import Store


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _decode(n: NormalizedImage) -> Image.Image:
    img = Image.open(io.BytesIO(n.data))
    img.load()
    return img


def _two_tone(w=80, h=40):
    """Left half red, right half blue: tells which way a picture was turned."""
    img = Image.new("RGB", (w, h), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, w // 2, h))
    return img


def test_plain_png_passes_through_byte_for_byte():
    data = _save(_two_tone(), "PNG")
    n = normalize_input(data, "holiday photo.PNG")
    assert n.data is data or n.data == data
    assert (n.mime, n.filename, n.width, n.height, n.notes) == ("image/png", "holiday photo.png", 80, 40, ())
    assert image_file_tuple(n) == ("holiday photo.png", data, "image/png")


def test_plain_jpeg_and_webp_pass_through():
    jpg = _save(_two_tone(), "JPEG")
    n = normalize_input(jpg, "a.jpeg")
    assert n.data == jpg and n.mime == "image/jpeg" and n.filename == "a.jpg"
    webp = _save(_two_tone().convert("RGBA"), "WEBP")
    n = normalize_input(webp, None)
    assert n.data == webp and n.mime == "image/webp" and n.filename == "image.webp"


def test_filename_extension_follows_content_and_is_safe():
    data = _save(_two_tone(), "PNG")
    assert normalize_input(data, "../../etc/passwd.jpg").filename == "passwd.png"
    assert normalize_input(data, "weird<>:name.webp").filename == "weird_name.png"


def test_probe_reads_header_only():
    data = _save(_two_tone(), "PNG")
    assert probe(data) == ("PNG", 80, 40)
    assert probe(_save(_two_tone(), "JPEG")) == ("JPEG", 80, 40)


def test_exif_rotated_jpeg_becomes_upright():
    img = _two_tone(80, 40)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _save(img, "JPEG", exif=exif, quality=95)
    n = normalize_input(data, "IMG_0001.JPG")
    assert "Rotated upright from its EXIF orientation." in n.notes
    assert (n.width, n.height) == (40, 80) and n.mime == "image/jpeg" and n.filename == "IMG_0001.jpg"
    out = _decode(n)
    assert out.size == (40, 80)
    assert out.getexif().get(0x0112, 1) == 1
    arr = np.asarray(out.convert("RGB")).astype(int)
    # turned clockwise: the red left half is now on top
    assert arr[10, 20, 0] > 200 and arr[10, 20, 2] < 60
    assert arr[70, 20, 2] > 200 and arr[70, 20, 0] < 60


def test_mpo_becomes_jpeg_of_first_frame():
    first, second = Image.new("RGB", (64, 48), (255, 0, 0)), Image.new("RGB", (64, 48), (0, 255, 0))
    data = _save(first, "MPO", save_all=True, append_images=[second])
    assert probe(data)[0] == "MPO"
    n = normalize_input(data, "IMG_1234.JPG")
    assert n.mime == "image/jpeg" and n.filename == "IMG_1234.jpg"
    assert any("MPO" in s and "JPEG" in s for s in n.notes)
    out = _decode(n)
    assert out.format == "JPEG" and getattr(out, "n_frames", 1) == 1
    r, g, b = out.convert("RGB").getpixel((32, 24))
    assert r > 200 and g < 50


def test_cmyk_jpeg_becomes_rgb():
    data = _save(Image.new("CMYK", (30, 20), (0, 255, 255, 0)), "JPEG")  # red in CMYK
    n = normalize_input(data, "print.jpg")
    assert "Converted from CMYK to RGB colours." in n.notes
    out = _decode(n)
    assert out.mode == "RGB" and n.mime == "image/jpeg"
    r, g, b = out.getpixel((15, 10))
    assert r > 200 and g < 60 and b < 60


def test_16bit_grayscale_png_becomes_8bit():
    arr = np.full((20, 30), 65535, dtype=np.uint16)
    arr[:, :15] = 256 * 100
    img = Image.fromarray(arr)
    assert img.mode.startswith("I;16")
    data = _save(img, "PNG")
    n = normalize_input(data, "scan.png")
    assert "Converted from 16-bit to 8-bit colour." in n.notes
    out = _decode(n)
    assert out.mode == "L" and n.mime == "image/png"
    assert out.getpixel((5, 5)) == 100 and out.getpixel((25, 5)) == 255


def test_16bit_rgb_png_detected_from_header():
    # Pillow cannot write 16-bit RGB; build one by hand (16x16, left half red, right half blue).
    row = b"\x00" + struct.pack(">48H", *([65535, 0, 0] * 8 + [0, 0, 65535] * 8))
    data = _png_file(16, 16, bit_depth=16, colour_type=2, raw=row * 16)
    n = normalize_input(data, "deep.png")
    assert "Converted from 16-bit to 8-bit colour." in n.notes
    assert n.data[24] == 8
    out = _decode(n)
    assert out.getpixel((0, 0)) == (255, 0, 0) and out.getpixel((15, 0)) == (0, 0, 255)


def test_palette_png_with_transparency_becomes_rgba():
    img = Image.new("P", (20, 20), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.paste(1, (0, 0, 10, 20))
    data = _save(img, "PNG", transparency=0)
    n = normalize_input(data, "icon.png")
    assert "Converted the palette image with transparency to RGBA." in n.notes
    out = _decode(n)
    assert out.mode == "RGBA"
    assert out.getpixel((5, 5)) == (0, 255, 0, 255) and out.getpixel((15, 5))[3] == 0


def test_animated_gif_first_frame_png():
    frames = [Image.new("RGB", (20, 20), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    data = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    n = normalize_input(data, "funny.gif")
    assert n.mime == "image/png" and n.filename == "funny.png"
    assert "Converted from GIF to PNG." in n.notes
    assert any("first of its 3 animation frames" in s for s in n.notes)
    out = _decode(n)
    assert out.convert("RGB").getpixel((10, 10)) == (255, 0, 0)


def test_animated_webp_first_frame_stays_webp():
    frames = [Image.new("RGB", (20, 20), c) for c in [(0, 0, 255), (255, 255, 0)]]
    data = _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    n = normalize_input(data, "clip.webp")
    assert n.mime == "image/webp"
    assert any("first of its 2 animation frames" in s for s in n.notes)
    out = _decode(n)
    assert getattr(out, "n_frames", 1) == 1
    r, g, b = out.convert("RGB").getpixel((10, 10))
    assert b > 200 and r < 50


def test_bmp_and_tiff_become_png():
    for fmt, name in [("BMP", "BMP"), ("TIFF", "TIFF")]:
        n = normalize_input(_save(_two_tone(), fmt), f"x.{fmt.lower()}")
        assert n.mime == "image/png" and f"Converted from {name} to PNG." in n.notes
        assert _decode(n).getpixel((5, 5)) == (255, 0, 0)


def test_random_bytes_refused_with_sentence():
    with pytest.raises(InputRefused) as e:
        normalize_input(os.urandom(4096), "notes.txt")
    assert e.value.sentence == '"notes.txt" is not an image ImageLab can read; upload a PNG, JPEG or WebP file.'
    with pytest.raises(InputRefused) as e:
        probe(b"hello world")
    assert "not an image" in e.value.sentence
    with pytest.raises(InputRefused) as e:
        normalize_input(b"")
    assert "empty" in e.value.sentence


def test_heic_gets_its_own_sentence():
    fake = b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100
    with pytest.raises(InputRefused) as e:
        normalize_input(fake, "IMG_0002.HEIC")
    assert "HEIC" in e.value.sentence and "JPEG" in e.value.sentence


def test_truncated_png_refused():
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8))
    data = _save(noise, "PNG")
    with pytest.raises(InputRefused) as e:
        normalize_input(data[: len(data) // 2], "half.png")
    assert "damaged or cut short" in e.value.sentence


def _png_file(w, h, *, bit_depth=8, colour_type=2, raw=None) -> bytes:
    def chunk(tag, payload):
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload))
    if raw is None:
        raw = b"".join(b"\x00" + b"\x00" * (3 * w) for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _patch_ihdr(data: bytes, w: int, h: int) -> bytes:
    assert data[12:16] == b"IHDR"
    ihdr = struct.pack(">II", w, h) + data[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return data[:16] + ihdr + crc + data[33:]


@pytest.fixture
def no_decoding(monkeypatch):
    def boom(self, *a, **k):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", boom)


def test_decompression_bomb_refused_before_decoding(no_decoding):
    data = _patch_ihdr(_save(Image.new("RGB", (8, 8)), "PNG"), 20000, 20000)
    with pytest.raises(InputRefused) as e:
        normalize_input(data, "bomb.png")
    assert "megapixels" in e.value.sentence and "bomb.png" in e.value.sentence


def test_large_header_under_pillow_error_still_refused_by_our_limit(no_decoding):
    # 10000x9000 = 90 MP: Pillow only warns (warnings are errors under pytest) -- we refuse.
    data = _patch_ihdr(_save(Image.new("RGB", (8, 8)), "PNG"), 10000, 9000)
    assert probe(data) == ("PNG", 10000, 9000)
    with pytest.raises(InputRefused) as e:
        normalize_input(data, "big.png")
    assert "10000x9000 (90 megapixels)" in e.value.sentence
    with pytest.raises(InputRefused):
        normalize_input(_save(Image.new("RGB", (100, 100)), "PNG"), max_pixels=5000)


def test_downscale_when_max_side_exceeded():
    data = _save(_two_tone(400, 200), "PNG")
    n = normalize_input(data, "wide.png", max_side=100)
    assert (n.width, n.height) == (100, 50)
    assert n.notes == ()
    assert n.scaling == "Scaled from 400×200 to 100×50, the most this model reads."
    out = _decode(n)
    assert out.size == (100, 50) and out.getpixel((10, 25)) == (255, 0, 0)
    assert normalize_input(data, max_side=400).data == data


def test_downscale_when_bytes_exceeded():
    noise = Image.fromarray(np.random.default_rng(3).integers(0, 256, (300, 300, 3), dtype=np.uint8))
    data = _save(noise, "PNG")
    limit = len(data) // 3
    n = normalize_input(data, "noise.png", max_bytes=limit)
    assert len(n.data) <= limit
    assert n.width < 300 and n.height == n.width
    assert n.notes == () and n.scaling is not None
    assert n.scaling.startswith("Scaled from 300×300 to ")
    assert n.scaling.endswith(f"to fit the {limit:,} byte limit.")


def test_rotation_and_downscale_notes_together():
    img = _two_tone(400, 200)
    exif = img.getexif()
    exif[0x0112] = 6
    n = normalize_input(_save(img, "JPEG", exif=exif), "p.jpg", max_side=100)
    assert (n.width, n.height) == (50, 100)
    assert n.notes == ("Rotated upright from its EXIF orientation.",)
    assert n.scaling == "Scaled from 200×400 to 50×100, the most this model reads."
    out = _decode(n)
    assert out.getpixel((25, 10))[0] > 200 and out.getpixel((25, 90))[2] > 200  # red on top, blue below


def test_oversized_jpeg_is_first_recompressed_not_shrunk():
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    data = _save(noise, "JPEG", quality=100)
    limit = len(data) * 2 // 3
    n = normalize_input(data, "x.jpg", max_bytes=limit)
    assert len(n.data) <= limit and n.size == (400, 300) and n.mime == "image/jpeg"
    assert n.notes == (f"Re-encoded at quality 95 to fit the {limit:,} byte limit.",)


# --------------------------------------------------------------------------- what the model reads


def test_reduced_size_keeps_aspect_and_the_longest_side_limit():
    assert reduced_size(8000, 6000, 2048) == (2048, 1536)
    assert reduced_size(6000, 8000, 2048) == (1536, 2048)
    assert reduced_size(9000, 9000, 2048) == (2048, 2048)
    assert reduced_size(2048, 1000, 2048) == (2048, 1000)      # fits already
    assert reduced_size(8000, 6000, None) == (8000, 6000)
    assert reduced_size(40000, 20, 2048) == (32000, 16)        # never thinner than the minimum side


def test_big_jpeg_is_brought_down_to_what_the_model_reads():
    photo = _two_tone(3000, 2000)
    n = normalize_input(_save(photo, "JPEG", quality=90), "photo.jpg", max_side=MODEL_READ_SIDE)
    assert n.size == (2048, 1365) and n.mime == "image/jpeg"
    assert n.scaling == "Scaled from 3000×2000 to 2048×1365, the most this model reads."
    out = _decode(n)
    assert out.size == (2048, 1365)
    assert out.getpixel((500, 700))[0] > 200 and out.getpixel((1500, 700))[2] > 200  # red left, blue right


def test_big_16bit_png_is_brought_down_row_for_row():
    # Brightness follows the row: any band put in the wrong place, or the wrong byte kept, shows.
    h, w = 3000, 1200
    arr = np.repeat((np.arange(h, dtype=np.uint32) * 65535 // (h - 1)).astype(np.uint16)[:, None], w, axis=1)
    n = normalize_input(_save(Image.fromarray(arr), "PNG"), "scan.png", max_side=600)
    assert n.size == (240, 600)
    assert "Converted from 16-bit to 8-bit colour." in n.notes
    out = np.asarray(_decode(n), dtype=float)
    expected = np.linspace(0, 255, 600)[:, None]
    assert np.abs(out - expected).max() <= 3


def test_staged_input_is_the_reduced_bytes_that_are_stored_and_sent(tmp_path):
    store = Store(tmp_path)
    big = _save(_two_tone(4096, 1024), "JPEG", quality=90)
    img, notes, scaling = stage_input(store, big, "wide.jpg")
    assert (img.width, img.height) == (2048, 512) and notes == ()
    assert scaling == "Scaled from 4096×1024 to 2048×512, the most this model reads."
    assert store.read_bytes(img.hash, "jpeg") == img.data
    sent = EditSpec(prompt="the same, at dusk", images=(img,)).to_sdk_kwargs()["image"]
    assert sent == ("wide.jpg", img.data, "image/jpeg")
    assert Image.open(io.BytesIO(sent[1])).size == (2048, 512)


def test_a_picture_the_model_reads_whole_is_sent_byte_for_byte(tmp_path):
    data = _save(_two_tone(2048, 1024), "JPEG", quality=80)
    img, notes, scaling = stage_input(Store(tmp_path), data, "fits.jpg")
    assert img.data == data and notes == () and scaling is None


@pytest.mark.parametrize("size", [(1, 1), (15, 400), (400, 15)])
def test_too_small_pictures_are_refused_with_a_sentence(size):
    with pytest.raises(InputRefused) as e:
        normalize_input(_save(Image.new("RGB", size), "PNG"), "dot.png")
    w, h = size
    assert e.value.sentence == (f'"dot.png" is only {w}×{h} pixels; the API needs at least {MIN_SIDE} pixels '
                                "on each side. Upload a bigger picture.")


def test_the_smallest_accepted_picture_passes():
    data = _save(Image.new("RGB", (MIN_SIDE, MIN_SIDE)), "PNG")
    assert normalize_input(data, "small.png").data == data
