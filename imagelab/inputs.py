"""Input images for edits: check, fix up and name them the way the Images API accepts. No Streamlit.

The API takes PNG, JPEG and WebP files under 50 MB each and rejects an upload without a proper
filename and MIME type. ``normalize_input`` turns whatever the user dropped in into one of
those, changing as little as possible: a plain PNG/JPEG/WebP goes through byte for byte, and
every change made is described in ``NormalizedImage.notes``.

Choices:
- Too small: a side under ``MIN_SIDE`` pixels is refused with a sentence (checked from the header).
- What the model reads: ``stage_input`` brings a picture down to ``MODEL_READ_SIDE`` on its longest
  side as it arrives, and those reduced bytes are what is stored and sent. A JPEG is decoded at
  a reduced scale (``draft``), a 16-bit picture is made 8-bit and box-reduced band by band, so a
  48-megapixel photo is never expanded at full size in float or 16-bit.
- Size limit before decoding: the header's width x height must be at most ``MAX_PIXELS``
  (89.5 megapixels, Pillow's own decompression-bomb threshold, e.g. 12000x7456); bigger files
  are refused with a sentence, never decoded.
- Animated GIF/PNG/WebP: the first frame is used, with a note (the API takes stills).
- MPO (iPhone/camera multi-picture JPEG): the first picture, re-encoded as JPEG.
- GIF, BMP, TIFF and other formats Pillow reads: converted to PNG with a note.
- Re-encoding keeps the kind of file: JPEG-like sources become JPEG (quality 95), WebP stays
  WebP (quality 95), everything else PNG. Metadata (EXIF, GPS) is not carried over into
  re-encoded files; the colour profile is kept when the colours were not converted.
- The file is decoded exactly once (that also catches truncated files).
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageLabError
from .specs import InputImage

__all__ = [
    "NormalizedImage",
    "InputRefused",
    "normalize_input",
    "image_file_tuple",
    "probe",
    "MAX_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE",
    "MODEL_READ_SIDE",
    "ACCEPTED_MIMES",
    "reduced_size",
    "stage_input",
    "input_from_store",
]

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 89_478_485  # Pillow's Image.MAX_IMAGE_PIXELS default: ~89.5 megapixels
# No minimum is documented for edit inputs. 16 px is the step the models' own custom sizes come
# in (MODEL-FACTS: "both sides divisible by 16"), so it is the smallest side they deal in.
MIN_SIDE = 16
# OpenAI's vision guide: an input image is first scaled to fit within a 2048x2048 square before
# the model reads it, so more pixels than that are only bytes to upload and memory to hold.
MODEL_READ_SIDE = 2048

ACCEPTED_MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
# Modes the API is sent as-is, per container.
_PASSTHROUGH_MODES = {"PNG": {"L", "LA", "RGB", "RGBA"}, "JPEG": {"L", "RGB"}, "WEBP": {"RGB", "RGBA"}}
# Lossy sources that re-encode as JPEG when they have no alpha.
_JPEG_LIKE = {"JPEG", "MPO", "AVIF", "HEIF", "JPEG2000"}
_SIXTEEN_BIT = {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


@dataclass(frozen=True)
class NormalizedImage:
    """An input image ready to upload."""

    data: bytes
    mime: str
    filename: str
    width: int
    height: int
    notes: tuple[str, ...] = ()
    scaling: str | None = None  # "Scaled from 8000×6000 to 2048×1536, …" when it was brought down

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def changed(self) -> bool:
        return bool(self.notes or self.scaling)


class InputRefused(ImageLabError):
    """The file cannot be used; ``sentence`` says what to change."""


def image_file_tuple(img: NormalizedImage) -> tuple[str, bytes, str]:
    """``(filename, bytes, mime)``: the shape the OpenAI SDK needs to upload with a MIME type
    (a bare BytesIO goes up as application/octet-stream, which the API rejects)."""
    return (img.filename, img.data, img.mime)


def _display(filename: str | None) -> str:
    return f'"{filename}"' if filename else "This file"


def _not_an_image(filename: str | None, data: bytes) -> InputRefused:
    who = _display(filename)
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return InputRefused(
            f"{who} is a HEIC photo, which ImageLab cannot read; export it as JPEG or PNG "
            "(on an iPhone: Settings, Camera, Formats, Most Compatible)."
        )
    return InputRefused(f"{who} is not an image ImageLab can read; upload a PNG, JPEG or WebP file.")


def _too_big(filename: str | None, w: int, h: int, max_pixels: int) -> InputRefused:
    return InputRefused(
        f"{_display(filename)} is {w}x{h} ({w * h / 1e6:.0f} megapixels), more than ImageLab "
        f"opens ({max_pixels / 1e6:.1f} megapixels); scale it down before uploading."
    )


def _open(data: bytes, filename: str | None = None) -> Image.Image:
    """Open lazily: reads the header only. Refuses what Pillow cannot identify and what
    Pillow itself calls a decompression bomb (over twice its pixel limit)."""
    if not data:
        raise InputRefused(f"{_display(filename)} is empty; upload a PNG, JPEG or WebP file.")
    try:
        with warnings.catch_warnings():
            # Between 1x and 2x Pillow's limit it only warns; our own check follows.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise InputRefused(
            f"{_display(filename)} has too many pixels for ImageLab to open "
            f"(more than {MAX_PIXELS / 1e6:.1f} megapixels); scale it down before uploading."
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise _not_an_image(filename, data) from None
    except Exception:  # malformed headers make some plugins fail in odd ways
        raise _not_an_image(filename, data) from None


def probe(data: bytes) -> tuple[str, int, int]:
    """``(format, width, height)`` from the header alone, without decoding the pixels.
    Raises ``InputRefused`` for files that are not images."""
    img = _open(data)
    return (img.format or "UNKNOWN", img.width, img.height)


def _safe_name(filename: str | None, fmt: str) -> str:
    stem = "image"
    if filename:
        base = re.split(r"[\\/]", filename)[-1]
        base = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
        base = re.sub(r"[^\w\- ]+", "_", base).strip(" ._")[:100]
        stem = base or "image"
    return stem + _EXTENSIONS[fmt]


def _png_bit_depth(data: bytes) -> int | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) > 24:
        return data[24]
    return None


def _to_8bit(img: Image.Image, reduce_by: int = 1) -> Image.Image:
    """An 8-bit grayscale copy of a 16-bit (or 32-bit integer or float) picture, made band by
    band so no full-size wide array is ever allocated, and box-reduced by ``reduce_by`` on the way."""
    w, h = img.size
    top = 255.0
    if img.mode == "F":
        highest = img.getextrema()[1]  # one band: (min, max)
        top = 65535.0 if isinstance(highest, int | float) and highest > 255 else 255.0
    reduce_by = max(1, reduce_by)
    out = Image.new("L", ((w + reduce_by - 1) // reduce_by, (h + reduce_by - 1) // reduce_by))
    band = max(reduce_by, (1 << 21) // max(1, w) // reduce_by * reduce_by)  # about 2 megapixels a band
    for y in range(0, h, band):
        arr = np.asarray(img.crop((0, y, w, min(h, y + band))))
        if arr.dtype.kind == "f":
            arr8 = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        else:
            arr8 = (np.clip(arr, 0, 65535) >> 8).astype(np.uint8)
        piece = Image.fromarray(arr8)
        out.paste(piece.reduce(reduce_by) if reduce_by > 1 else piece, (0, y // reduce_by))
    return out


def _fix_mode(img: Image.Image, container: str, sixteen_bit_file: bool,
              reduce_by: int = 1) -> tuple[Image.Image, str | None]:
    """Convert to a mode the API reads; returns the image and a note (None if unchanged).
    A 16-bit picture is box-reduced by ``reduce_by`` while it is made 8-bit."""
    mode = img.mode
    if mode in _SIXTEEN_BIT:
        return _to_8bit(img, reduce_by), "Converted from 16-bit to 8-bit colour."
    if mode == "CMYK":
        return img.convert("RGB"), "Converted from CMYK to RGB colours."
    if mode in ("P", "PA"):
        if mode == "PA" or "transparency" in img.info:
            return img.convert("RGBA"), "Converted the palette image with transparency to RGBA."
        return img.convert("RGB"), "Converted the palette image to RGB."
    if mode == "1":
        return img.convert("L"), "Converted from 1-bit black and white to grayscale."
    if mode not in ("L", "LA", "RGB", "RGBA"):
        target = "RGBA" if "A" in mode else "RGB"
        return img.convert(target), f"Converted from {mode} colours to {target}."
    if container == "JPEG" and mode == "LA":  # cannot happen for real JPEGs; be safe
        return img.convert("L"), None
    if sixteen_bit_file:  # Pillow already reads 16-bit RGB(A) PNGs as 8-bit
        return img, "Converted from 16-bit to 8-bit colour."
    return img, None


def _encode(img: Image.Image, fmt: str, icc: bytes | None) -> bytes:
    buf = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=95, optimize=True, **extra)
    elif fmt == "WEBP":
        img.save(buf, "WEBP", quality=95, method=4, **extra)
    else:
        img.save(buf, "PNG", compress_level=6, **extra)
    return buf.getvalue()


def _size_label(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 1 and mb == int(mb) else f"{n:,} byte"


def reduced_size(width: int, height: int, max_side: int | None, min_side: int = MIN_SIDE) -> tuple[int, int]:
    """``(width, height)`` brought down so the longer side is at most ``max_side``, aspect kept.
    Unchanged when it already fits (or ``max_side`` is None); never takes the shorter side
    under ``min_side`` (a very long, thin picture stays as it is rather than become a line)."""
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max(max_side / max(width, height), min(1.0, min_side / min(width, height)))
    return max(1, round(width * scale)), max(1, round(height * scale))


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def normalize_input(
    data: bytes,
    filename: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_side: int | None = None,
    max_pixels: int = MAX_PIXELS,
    min_side: int = MIN_SIDE,
) -> NormalizedImage:
    """Make ``data`` an upload the Images API accepts (see the module docstring).

    ``max_side`` is the longest side the model reads: a bigger picture is brought down to it
    (``scaling`` then says so). Raises ``InputRefused`` with a sentence for files that are not
    images, too many pixels (checked from the header, before decoding), a side under
    ``min_side``, damaged files, or files that cannot be brought under ``max_bytes``.
    """
    img = _open(data, filename)
    src_fmt = (img.format or "UNKNOWN").upper()
    w0, h0 = img.size
    if w0 <= 0 or h0 <= 0:
        raise _not_an_image(filename, data)
    if w0 * h0 > max_pixels:
        raise _too_big(filename, w0, h0, max_pixels)
    if min(w0, h0) < min_side:
        raise InputRefused(
            f"{_display(filename)} is only {w0}×{h0} pixels; the API needs at least {min_side} pixels "
            "on each side. Upload a bigger picture."
        )
    n_frames = int(getattr(img, "n_frames", 1) or 1)
    tw, th = reduced_size(w0, h0, max_side, min_side)  # in the file's own orientation

    # The single decode; it also catches truncated and corrupt files.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            if n_frames > 1:
                img.seek(0)
            if (tw, th) != (w0, h0) and src_fmt in ("JPEG", "MPO"):
                img.draft(img.mode, (tw, th))  # decode at 1/2, 1/4 or 1/8 scale, still >= the target
            img.load()
    except Image.DecompressionBombError:
        raise _too_big(filename, w0, h0, max_pixels) from None
    except Exception:
        raise InputRefused(
            f"{_display(filename)} is damaged or cut short and cannot be read; "
            "save or export it again as PNG, JPEG or WebP."
        ) from None

    notes: list[str] = []
    reencode = False

    # Container.
    if src_fmt in ACCEPTED_MIMES:
        out_fmt = src_fmt
    elif src_fmt == "MPO":
        out_fmt = "JPEG"
        reencode = True
        notes.append("Converted from MPO to JPEG, keeping the first of its pictures.")
    else:
        out_fmt = "PNG"
        reencode = True
        notes.append(f"Converted from {src_fmt} to PNG.")

    if n_frames > 1 and src_fmt != "MPO":
        reencode = True
        if src_fmt in ACCEPTED_MIMES:
            out_fmt = "PNG" if src_fmt == "PNG" else out_fmt
        notes.append(f"Used the first of its {n_frames} animation frames: the API takes still images.")

    try:
        orientation = int(img.getexif().get(0x0112, 1) or 1)
    except Exception:
        orientation = 1
    icc = img.info.get("icc_profile")
    if orientation in _TRANSPOSE:
        reencode = True
        notes.append("Rotated upright from its EXIF orientation.")

    # Colour mode, before turning: a 16-bit picture is made 8-bit (and smaller) band by band.
    # Box-reduce while the remaining ratio stays >= 2, so the final Lanczos step keeps its quality.
    reduce_by = max(1, int(min(img.width / tw, img.height / th) / 2))
    sixteen = _png_bit_depth(data) == 16
    work, mode_note = _fix_mode(img, out_fmt, sixteen, reduce_by)
    if mode_note:
        reencode = True
        notes.append(mode_note)
        if img.mode == "CMYK":
            icc = None  # the CMYK profile does not describe the RGB pixels

    # Orientation.
    if orientation in _TRANSPOSE:
        work = work.transpose(_TRANSPOSE[orientation])
    if out_fmt == "JPEG" and work.mode in ("RGBA", "LA"):
        out_fmt = "PNG"  # keep the transparency
    if src_fmt not in ACCEPTED_MIMES and src_fmt in _JPEG_LIKE and work.mode in ("RGB", "L"):
        out_fmt = "JPEG"
        notes = [n.replace(f"Converted from {src_fmt} to PNG.", f"Converted from {src_fmt} to JPEG.")
                 for n in notes]
    if out_fmt == "WEBP" and work.mode not in ("RGB", "RGBA"):
        work = work.convert("RGBA" if "A" in work.mode else "RGB")

    # Size limits, in upright pixels.
    w, h = (h0, w0) if orientation in (5, 6, 7, 8) else (w0, h0)
    side_scale = reduced_size(w, h, max_side, min_side)[0] / w
    too_many_bytes = len(data) > max_bytes

    if not reencode and side_scale == 1.0 and not too_many_bytes:
        return NormalizedImage(data=data, mime=ACCEPTED_MIMES[out_fmt], filename=_safe_name(filename, out_fmt),
                               width=w, height=h, notes=())

    scale = side_scale
    if too_many_bytes and not reencode and out_fmt == "PNG":
        # Lossless, same container: re-encoding at full size would not help much, so shrink
        # roughly in proportion to the bytes needed. (JPEG/WebP at quality 95 often fit as is.)
        scale = min(scale, math.sqrt(max_bytes / len(data)) * 0.95)
    byte_limited = False
    for _ in range(8):
        nw, nh = (reduced_size(w, h, max_side, min_side) if scale == side_scale
                  else (max(1, round(w * scale)), max(1, round(h * scale))))
        out_img = work if work.size == (nw, nh) else work.resize((nw, nh), Image.Resampling.LANCZOS,
                                                                reducing_gap=2.0)
        out = _encode(out_img, out_fmt, icc)
        if len(out) <= max_bytes:
            break
        byte_limited = True
        scale *= math.sqrt(max_bytes / len(out)) * 0.95
    else:
        raise InputRefused(
            f"{_display(filename)} cannot be brought under {_size_label(max_bytes)}; "
            "upload a smaller picture."
        )
    scaling = None
    if (nw, nh) != (w, h):
        if byte_limited or scale < side_scale:
            scaling = f"Scaled from {w}×{h} to {nw}×{nh} to fit the {_size_label(max_bytes)} limit."
        else:
            scaling = f"Scaled from {w}×{h} to {nw}×{nh}, the most this model reads."
    elif too_many_bytes and not reencode:
        notes.append(f"Re-encoded at quality 95 to fit the {_size_label(max_bytes)} limit.")
    return NormalizedImage(data=out, mime=ACCEPTED_MIMES[out_fmt], filename=_safe_name(filename, out_fmt),
                           width=nw, height=nh, notes=tuple(notes), scaling=scaling)


_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}
_MIME_OF = {fmt: mime for mime, fmt in _FORMATS.items()}


def stage_input(store: Any, data: bytes, filename: str | None = None, *,
                max_side: int | None = MODEL_READ_SIDE) -> tuple[InputImage, tuple[str, ...], str | None]:
    """Normalise an upload, bring it down to ``max_side`` (what the model reads) and keep those
    reduced bytes in the store: ``(InputImage, notes, scaling)``; raises ``InputRefused``."""
    norm = normalize_input(data, filename, max_side=max_side)
    digest = store.add_input(norm.data, _FORMATS[norm.mime], norm.width, norm.height, norm.filename)
    image = InputImage(norm.data, norm.filename, norm.mime, norm.width, norm.height, digest)
    return image, norm.notes, norm.scaling


def input_from_store(store: Any, digest: str) -> InputImage:
    """A stored picture (a result or an earlier input) as an ``InputImage``, without re-encoding."""
    fmt = store.format_of(digest)
    data = store.read_bytes(digest, fmt)
    _, width, height = probe(data)
    if fmt not in _MIME_OF:
        raise InputRefused(f"A {fmt.upper()} result cannot be sent as an input; pick a PNG, JPEG or WebP image.")
    ext = "jpg" if fmt == "jpeg" else fmt
    return InputImage(data, f"imagelab-{digest[:12]}.{ext}", _MIME_OF[fmt], width, height, digest)
