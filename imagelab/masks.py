"""Masks and markup for image edits, from canvas strokes or uploaded pictures. No Streamlit here.

The Images API wants the mask as a PNG with an alpha channel, exactly the size of the (first)
input image, fully transparent (alpha 0) where the image should change and opaque elsewhere,
under 4 MB. Every mask this module writes is RGBA, black, alpha strictly 0 or 255.

Canvas data comes from ``streamlit_drawable_canvas.st_canvas(return_image_data=True)``: an
RGBA array of the canvas's own display size holding the strokes only (the background image is
drawn on a separate layer, so do not give the canvas a ``background_color`` when you read the
mask from it). ``CanvasFit`` says where on the canvas the picture is shown.
"""

from __future__ import annotations

import io
import warnings
import zlib
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from .errors import ImageLabError

__all__ = [
    "CanvasFit",
    "canvas_fit",
    "mask_from_strokes",
    "markup_from_strokes",
    "mask_from_black_and_white",
    "mask_from_alpha_or_luma",
    "mask_from_model_drawing",
    "mask_request",
    "mask_preview",
    "validate_mask",
    "mask_edit_fraction",
    "MaskError",
    "MAX_MASK_BYTES",
    "MAX_MASK_PIXELS",
    "PREVIEW_SIDE",
]

MAX_MASK_BYTES = 4_000_000  # "under 4 MB"; decimal to stay on the safe side
MAX_MASK_PIXELS = 89_478_485  # Pillow's own decompression-bomb threshold
PREVIEW_SIDE = 768  # the mask preview's longer side: as wide as the page shows it



class MaskError(ImageLabError, ValueError):
    """An uploaded mask cannot be used; ``sentence`` says what to change."""


@dataclass(frozen=True)
class CanvasFit:
    """The rectangle of the canvas (in canvas pixels) where the picture is drawn."""

    left: float
    top: float
    width: float
    height: float

    @classmethod
    def from_background_fit(cls, fit: dict[str, Any]) -> CanvasFit:
        """From ``CanvasResult.background_fit`` (natural size, scale, offset)."""
        return cls(
            left=float(fit["offset_x"]),
            top=float(fit["offset_y"]),
            width=float(fit["natural_width"]) * float(fit["scale_x"]),
            height=float(fit["natural_height"]) * float(fit["scale_y"]),
        )

    @classmethod
    def from_fabric_background(cls, obj: dict[str, Any]) -> CanvasFit:
        """From the ``backgroundImage`` object of fabric.js ``json_data``."""
        return cls(
            left=float(obj.get("left", 0.0)),
            top=float(obj.get("top", 0.0)),
            width=float(obj["width"]) * float(obj.get("scaleX", 1.0)),
            height=float(obj["height"]) * float(obj.get("scaleY", 1.0)),
        )


def canvas_fit(image_size: tuple[int, int], canvas_size: tuple[int, int]) -> CanvasFit:
    """Where an image of ``image_size`` (w, h) sits in a canvas of ``canvas_size`` (w, h) when
    scaled to fit with its aspect ratio kept and centred -- the same arithmetic as the canvas's
    ``background_image_fit="contain"``."""
    iw, ih = _check_size(image_size)
    cw, ch = _check_size(canvas_size)
    scale = min(cw / iw, ch / ih)
    width, height = iw * scale, ih * scale
    return CanvasFit(left=(cw - width) / 2, top=(ch - height) / 2, width=width, height=height)


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    w, h = int(size[0]), int(size[1])
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return w, h


# --------------------------------------------------------------------------- strokes


def _painted(strokes: np.ndarray | None) -> np.ndarray | None:
    """Boolean (H_c, W_c): where something was drawn (alpha > 0)."""
    if strokes is None:
        return None
    arr = np.asarray(strokes)
    if arr.ndim == 2:
        return arr > 0
    if arr.ndim == 3 and arr.shape[2] == 4:
        return arr[:, :, 3] > 0
    if arr.ndim == 3 and arr.shape[2] in (1, 2):
        return arr[:, :, -1] > 0
    raise ValueError(f"strokes must be an RGBA array (H, W, 4), got shape {arr.shape}")


def _sample(painted: np.ndarray, image_size: tuple[int, int], fit: CanvasFit | None) -> np.ndarray:
    """Nearest-neighbour: each image pixel takes the canvas pixel under its centre."""
    w, h = image_size
    ch, cw = painted.shape
    if fit is None:
        fit = CanvasFit(0.0, 0.0, float(cw), float(ch))
    xs = np.floor(fit.left + (np.arange(w, dtype=np.float64) + 0.5) * (fit.width / w)).astype(np.intp)
    ys = np.floor(fit.top + (np.arange(h, dtype=np.float64) + 0.5) * (fit.height / h)).astype(np.intp)
    valid_x = (xs >= 0) & (xs < cw)
    valid_y = (ys >= 0) & (ys < ch)
    out = np.take(np.take(painted, np.clip(ys, 0, ch - 1), axis=0), np.clip(xs, 0, cw - 1), axis=1)
    if not valid_x.all() or not valid_y.all():  # the picture reaches past the canvas edge
        out &= valid_y[:, None] & valid_x[None, :]
    return out


def _encode_mask(edit: np.ndarray) -> bytes:
    """RGBA PNG, black, alpha 0 where ``edit`` is True and 255 elsewhere."""
    h, w = edit.shape
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(edit, np.uint8(0), np.uint8(255))
    out = io.BytesIO()
    # Run-length zlib suits a two-valued mask: small (a few KB) and fast to write.
    Image.fromarray(rgba, "RGBA").save(out, "PNG", compress_level=6, compress_type=zlib.Z_RLE)
    return out.getvalue()


def mask_from_strokes(
    strokes_rgba: np.ndarray | None,
    image_size: tuple[int, int],
    *,
    invert: bool = False,
    fit: CanvasFit | None = None,
) -> bytes:
    """The API mask (RGBA PNG of exactly ``image_size``) from canvas strokes.

    A canvas pixel counts as painted where its alpha > 0; ``fit`` is where the picture sits on
    the canvas (default: the whole canvas). Painted = transparent = edited; ``invert=True``
    edits everything that was not painted. Strokes in the letterbox margins are ignored.
    """
    size = _check_size(image_size)
    painted = _painted(strokes_rgba)
    if painted is None or painted.size == 0:
        edit = np.zeros((size[1], size[0]), dtype=bool)
    else:
        edit = _sample(painted, size, fit)
    if invert:
        edit = ~edit
    return _encode_mask(edit)


@overload
def paint_minus_eraser(strokes_rgba: np.ndarray, paint_rgb: tuple[int, int, int],
                       eraser_rgb: tuple[int, int, int]) -> np.ndarray: ...
@overload
def paint_minus_eraser(strokes_rgba: None, paint_rgb: tuple[int, int, int],
                       eraser_rgb: tuple[int, int, int]) -> None: ...
def paint_minus_eraser(strokes_rgba: np.ndarray | None, paint_rgb: tuple[int, int, int],
                       eraser_rgb: tuple[int, int, int]) -> np.ndarray | None:
    """Strokes with the eraser's taken away: a pixel stays painted where its colour is nearer the
    brush's than the eraser's (the canvas composites later strokes over earlier ones)."""
    if strokes_rgba is None:
        return None
    rgb = strokes_rgba[..., :3].astype(np.int32)
    d_paint = ((rgb - np.array(paint_rgb)) ** 2).sum(axis=-1)
    d_erase = ((rgb - np.array(eraser_rgb)) ** 2).sum(axis=-1)
    out = strokes_rgba.copy()
    out[..., 3] = np.where((strokes_rgba[..., 3] > 0) & (d_paint < d_erase), 255, 0).astype(np.uint8)
    return out


def markup_from_strokes(
    strokes_rgba: np.ndarray | None,
    image_size: tuple[int, int],
    fit: CanvasFit | None = None,
) -> bytes:
    """The strokes themselves as a transparent RGBA PNG of ``image_size`` (markup mode):
    colours kept, alpha 0 where nothing was drawn. Scaled with bilinear filtering (Pillow
    premultiplies alpha, so edges do not get dark fringes)."""
    w, h = _check_size(image_size)
    if strokes_rgba is None:
        img = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    else:
        arr = np.ascontiguousarray(np.asarray(strokes_rgba, dtype=np.uint8))
        if arr.ndim != 3 or arr.shape[2] != 4:
            raise ValueError(f"strokes must be an RGBA array (H, W, 4), got shape {arr.shape}")
        ch, cw = arr.shape[:2]
        if fit is None:
            fit = CanvasFit(0.0, 0.0, float(cw), float(ch))
        canvas = Image.fromarray(arr)
        # Pad so that a box reaching past the canvas edge stays inside the source.
        pad_l = max(0, int(np.ceil(-fit.left)))
        pad_t = max(0, int(np.ceil(-fit.top)))
        pad_r = max(0, int(np.ceil(fit.left + fit.width - cw)))
        pad_b = max(0, int(np.ceil(fit.top + fit.height - ch)))
        if pad_l or pad_t or pad_r or pad_b:
            bigger = Image.new("RGBA", (cw + pad_l + pad_r, ch + pad_t + pad_b), (0, 0, 0, 0))
            bigger.paste(canvas, (pad_l, pad_t))
            canvas = bigger
        left, top = fit.left + pad_l, fit.top + pad_t
        box = (left, top, left + fit.width, top + fit.height)
        box = (max(0.0, box[0]), max(0.0, box[1]), min(float(canvas.width), box[2]),
               min(float(canvas.height), box[3]))
        img = canvas.resize((w, h), Image.Resampling.BILINEAR, box=box)
        # Nothing drawn stays fully transparent, with no stray colour in the RGB channels.
        a = np.asarray(img)
        if (a[:, :, 3] == 0).any():
            a = a.copy()
            a[a[:, :, 3] == 0] = 0
            img = Image.fromarray(a)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=3)
    return buf.getvalue()


# --------------------------------------------------------------------------- uploaded masks


def _open(data: bytes, what: str = "The mask") -> Image.Image:
    """Decoded and upright; ``MaskError`` for what cannot be read."""
    return _open_loaded(_open_lazy(data, what), what)


def _open_lazy(data: bytes, what: str) -> Image.Image:
    """Opened from the header only (so a JPEG can still be drafted to a smaller scale)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MaskError(f"{what} is too large to read; use a picture under 89 megapixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise MaskError(f"{what} is not an image ImageLab can read; upload a PNG file.") from None


def _open_loaded(img: Image.Image, what: str) -> Image.Image:
    """Decode an opened picture (refusing bombs and damaged files) and turn it upright."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if img.width * img.height > MAX_MASK_PIXELS:
                raise MaskError(f"{what} is {img.width}x{img.height}, too large to read; "
                                "use a picture under 89 megapixels.")
            img.load()
    except MaskError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MaskError(f"{what} is too large to read; use a picture under 89 megapixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise MaskError(f"{what} is not an image ImageLab can read; upload a PNG file.") from None
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # a broken EXIF block is not worth refusing the mask for
        return img


def _luma(img: Image.Image, transparent_as: int) -> Image.Image:
    """Grayscale, with any transparency flattened onto ``transparent_as`` (0 or 255)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode in ("P", "L", "RGB") and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (transparent_as,) * 3 + (255,))
        bg.alpha_composite(rgba)
        return bg.convert("L")
    if img.mode == "1":
        return img.convert("L")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(arr / top * 255.0, 0, 255).astype(np.uint8))
    return img.convert("L")


def _fit_to(gray: Image.Image, image_size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    width, height = image_size
    if gray.size != (width, height):
        gray = gray.resize((width, height), resample)
    return np.asarray(gray)


def mask_from_black_and_white(
    data: bytes,
    image_size: tuple[int, int],
    *,
    edit_colour: Literal["white", "black"] = "white",
) -> bytes:
    """The API mask from an uploaded black-and-white (or grayscale, or RGBA) picture.

    ``edit_colour`` is the colour marking the part to change. Brightness is thresholded at 128
    after a NEAREST resize to ``image_size``. Transparent areas count as "keep" (flattened onto
    the colour that is not ``edit_colour``). Raises ``MaskError`` for unreadable files.
    """
    if edit_colour not in ("white", "black"):
        raise ValueError("edit_colour must be 'white' or 'black'")
    size = _check_size(image_size)
    img = _open(data)
    gray = _luma(img, transparent_as=0 if edit_colour == "white" else 255)
    g = _fit_to(gray, size, Image.Resampling.NEAREST)
    edit = g >= 128 if edit_colour == "white" else g < 128
    return _encode_mask(edit)


def mask_from_alpha_or_luma(
    data: bytes,
    image_size: tuple[int, int],
    *,
    edit_colour: Literal["white", "black"] = "white",
) -> tuple[bytes, Literal["alpha", "luma"]]:
    """Accept either kind of mask upload: a picture with real transparency is read as an API
    mask already (alpha < 128 = edit), anything else as black and white. Returns the mask and
    which reading was used, so the page can say so."""
    size = _check_size(image_size)
    img = _open(data)
    has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    if has_alpha:
        alpha = img.convert("RGBA").getchannel("A")
        lowest = alpha.getextrema()[0]  # one band: (min, max)
        if isinstance(lowest, int | float) and lowest < 255:
            a = _fit_to(alpha, size, Image.Resampling.NEAREST)
            return _encode_mask(a < 128), "alpha"
    return mask_from_black_and_white(data, size, edit_colour=edit_colour), "luma"


MASK_REQUEST = ("Make a black and white mask of {subject} in this picture: {subject} pure white, everything else "
                "pure black, same framing, no grey, no other detail.")


def mask_request(subject: str) -> str:
    """The words that ask a model to draw ``subject`` as a mask (``mask_from_model_drawing`` reads the answer)."""
    return MASK_REQUEST.format(subject=subject.strip())


def mask_from_model_drawing(data: bytes, image_size: tuple[int, int], *, grow_px: int = 0) -> bytes:
    """The API mask from a black-and-white drawing made by the model (white = the subject to
    change): bilinear resize to ``image_size``, threshold at 128, subject transparent.
    ``grow_px`` widens the subject by that many pixels (a margin for soft edges)."""
    size = _check_size(image_size)
    img = _open(data, "The model's mask drawing")
    gray = _luma(img, transparent_as=0)
    if gray.size != size:
        gray = gray.resize(size, Image.Resampling.BILINEAR)
    if grow_px > 0:
        gray = gray.point(lambda v: 255 if v >= 128 else 0).filter(ImageFilter.MaxFilter(2 * int(grow_px) + 1))
    return _encode_mask(np.asarray(gray) >= 128)


# --------------------------------------------------------------------------- preview / checks


def mask_preview(
    image: bytes,
    mask_png: bytes,
    colour: tuple[int, int, int] = (255, 0, 80),
    opacity: float = 0.5,
    *,
    max_side: int = PREVIEW_SIDE,
) -> bytes:
    """PNG of the picture with the editable area (transparent in the mask) tinted, at most
    ``max_side`` on its longer side. Built at that display size in 8-bit: a JPEG is decoded at a
    reduced scale and the mask is sampled down to the preview, never the other way round."""
    src = _open_lazy(image, "The image")
    src.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
    img = _open_loaded(src, "The image").convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    mask = _open(mask_png)
    alpha = mask.getchannel("A") if mask.mode in ("RGBA", "LA") else mask.convert("RGBA").getchannel("A")
    if alpha.size != img.size:
        alpha = alpha.resize(img.size, Image.Resampling.NEAREST)
    level = float(np.clip(opacity, 0.0, 1.0))
    strength = alpha.point(lambda a: round((255 - a) * level))  # how much tint each pixel takes
    out = Image.composite(Image.new("RGB", img.size, colour), img, strength)
    buf = io.BytesIO()
    out.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def mask_edit_fraction(mask_png: bytes) -> float:
    """Share of the picture that is fully transparent (will be edited), 0..1."""
    alpha = _open(mask_png).convert("RGBA").getchannel("A")
    hist = alpha.histogram()
    return hist[0] / float(alpha.width * alpha.height)


def validate_mask(mask_png: bytes, image_size: tuple[int, int], *, include_notes: bool = True) -> list[str]:
    """Sentences about what is wrong with a mask for an image of ``image_size``; ``[]`` = fine.

    Blocking problems: not a PNG, wrong size, no alpha channel, no transparent pixel, over
    4 MB. Notes (only with ``include_notes``): fully transparent, partly transparent pixels.
    """
    size = _check_size(image_size)
    problems: list[str] = []
    notes: list[str] = []
    if len(mask_png) >= MAX_MASK_BYTES:
        problems.append(f"The mask is {len(mask_png) / 1_000_000:.1f} MB; masks must be under 4 MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(mask_png))
            fmt = img.format
            if img.width * img.height > MAX_MASK_PIXELS:
                raise MaskError("too large")
            img.load()
    except (MaskError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return problems + ["The mask is too large to read; it must be the same size as the image."]
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return problems + ["The mask is not an image ImageLab can read; it must be a PNG with transparency."]
    if fmt != "PNG":
        problems.append(f"The mask must be a PNG file; this one is {fmt or 'another format'}.")
    if img.size != size:
        problems.append(
            f"The mask is {img.width}x{img.height} but the image is {size[0]}x{size[1]}; "
            "they must be the same size."
        )
    if img.mode not in ("RGBA", "LA", "PA"):
        problems.append("The mask has no alpha channel; save it as a PNG with transparency "
                        "(transparent where the image should change).")
        return problems + (notes if include_notes else [])
    hist = img.getchannel("A").histogram()
    total = img.width * img.height
    if hist[0] == 0:
        problems.append("Paint over the part to change: the mask has no transparent area.")
    elif hist[0] == total:
        notes.append("The mask is fully transparent, so the whole image may change.")
    partial = total - hist[0] - hist[255]
    if partial:
        notes.append(
            f"{partial / total:.1%} of the mask is only partly transparent; "
            "only fully transparent pixels are edited."
        )
    return problems + (notes if include_notes else [])
