"""Extending a picture's canvas (outpainting): the new canvas, the padded picture and its mask.

``plan_extend(width, height, target, placement, info)`` decides the request: the canvas size the
model accepts (``ExtendPlan.size``), where the picture sits on it and at what scale, and
sentences for anything the person should know (the canvas was rounded, the picture had to be
scaled). ``padded_picture`` and ``extend_mask`` then make the two files an edit sends: the
picture on the new canvas (the new area filled by stretching the picture's edge, so the model
sees colours that continue it) and a mask transparent over the new area, opaque over the picture.

Sizes the model accepts come from the catalog: a model with custom sizes takes any W×H with
both sides multiples of 16 within the limits in ``catalog.json`` (``limits.custom_size``);
the others take their standard sizes, and the canvas is scaled to the nearest one.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .catalog import ModelInfo, catalog, parse_size
from .errors import ImageLabError

__all__ = ["ASPECTS", "PLACEMENTS", "ExtendPlan", "ExtendError", "aspect_canvas", "plan_extend", "padded_picture",
           "extend_mask", "placement_offset", "plan_preview", "target_for"]

# Preset shapes a designer asks for, as width:height.
ASPECTS: dict[str, tuple[int, int]] = {
    "16:9 banner": (16, 9),
    "9:16 story": (9, 16),
    "1:1": (1, 1),
    "4:5": (4, 5),
    "3:2": (3, 2),
}

# Where the picture sits on the new canvas: (horizontal, vertical), 0 = left/top, 0.5 = centre, 1 = right/bottom.
PLACEMENTS: dict[str, tuple[float, float]] = {
    "centre": (0.5, 0.5),
    "left": (0.0, 0.5),
    "right": (1.0, 0.5),
    "top": (0.5, 0.0),
    "bottom": (0.5, 1.0),
    "top left": (0.0, 0.0),
    "top right": (1.0, 0.0),
    "bottom left": (0.0, 1.0),
    "bottom right": (1.0, 1.0),
}


class ExtendError(ImageLabError, ValueError):
    """The canvas cannot be made as asked; ``sentence`` says what to change."""


@dataclass(frozen=True)
class ExtendPlan:
    """The edit to send: a ``size`` canvas with the picture at ``left, top`` scaled to ``picture``."""

    width: int
    height: int
    left: int
    top: int
    picture: tuple[int, int]
    scale: float
    notes: tuple[str, ...] = field(default=())

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def new_share(self) -> float:
        """The share of the canvas the model paints anew."""
        return 1.0 - (self.picture[0] * self.picture[1]) / (self.width * self.height)


def aspect_canvas(width: int, height: int, aspect: tuple[int, int]) -> tuple[int, int]:
    """The smallest canvas of ``aspect`` that holds a ``width`` x ``height`` picture at its own size."""
    aw, ah = aspect
    if width * ah >= height * aw:  # the picture is wider than the aspect: keep its width, add height
        return width, math.ceil(width * ah / aw)
    return math.ceil(height * aw / ah), height


def placement_offset(canvas: tuple[int, int], picture: tuple[int, int], placement: str) -> tuple[int, int]:
    fx, fy = PLACEMENTS[placement]
    return round((canvas[0] - picture[0]) * fx), round((canvas[1] - picture[1]) * fy)


def _fit_custom(w: int, h: int) -> tuple[int, int, float]:
    """A canvas the custom-size rules accept for a wanted ``w`` x ``h``, and the scale applied to it."""
    rules = catalog().limits["custom_size"]
    m = rules["multiple"]
    scale = min(1.0, rules["max_long_edge"] / max(w, h), rules["max_short_edge"] / min(w, h),
                math.sqrt(rules["max_pixels"] / (w * h)))
    if scale == 1.0:
        scale = max(1.0, math.sqrt(rules["min_pixels"] / (w * h)))
    if scale == 1.0:  # only round the canvas up to multiples of 16: the picture keeps its size
        return math.ceil(w / m) * m, math.ceil(h / m) * m, 1.0
    fw, fh = w * scale, h * scale
    cw, ch = (math.ceil(fw / m) * m, math.ceil(fh / m) * m) if scale > 1 else (int(fw) // m * m, int(fh) // m * m)
    return cw, ch, min(cw / w, ch / h)


def plan_extend(width: int, height: int, target: tuple[int, int], placement: str, info: ModelInfo) -> ExtendPlan:
    """Where a ``width`` x ``height`` picture goes on a ``target`` canvas the model ``info`` accepts.

    Raises ``ExtendError`` when the target is smaller than the picture, adds nothing, or has a
    shape no model size can hold.
    """
    tw, th = target
    if placement not in PLACEMENTS:
        raise ExtendError(f"Place the picture at one of: {', '.join(PLACEMENTS)}.")
    if tw < width or th < height:
        raise ExtendError(f"The new canvas {tw}×{th} is smaller than the picture ({width}×{height}); "
                          f"make it at least {width}×{height} so nothing is cut off.")
    if (tw, th) == (width, height):
        raise ExtendError(f"The new canvas is the picture's own size ({width}×{height}); make it wider or taller "
                          "so there is something to add.")
    rules = catalog().limits["custom_size"]
    notes: list[str] = []
    if info.custom_sizes:
        if max(tw, th) / min(tw, th) > rules["max_ratio"]:
            raise ExtendError(f"A {tw}×{th} canvas is narrower than 1:3 or wider than 3:1, which {info.name} "
                              "cannot make; choose a less extreme shape.")
        cw, ch, scale = _fit_custom(tw, th)
    else:
        standard = [s for s in (parse_size(x) for x in info.sizes) if s is not None]
        ratio = math.log(tw / th)
        cw, ch = min(standard, key=lambda s: (abs(math.log(s[0] / s[1]) - ratio), -s[0] * s[1]))
        scale = min(cw / tw, ch / th)
        if abs(cw / ch - tw / th) > 0.01:
            notes.append(f"{info.name} makes only {', '.join(f'{w}×{h}' for w, h in standard)}: the canvas will "
                         f"be {cw}×{ch}, the nearest shape to {tw}×{th}; choose a model with custom sizes for "
                         "the exact shape.")
    picture = (width, height) if scale == 1.0 else (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = (min(picture[0], cw), min(picture[1], ch))
    if scale != 1.0:
        notes.append(f"The picture is scaled to {scale:.0%} ({picture[0]}×{picture[1]}) so the canvas fits the "
                     f"sizes {info.name} makes.")
    elif (cw, ch) != (tw, th):
        notes.append(f"The canvas is {cw}×{ch}: both sides are rounded up to multiples of {rules['multiple']}.")
    left, top = placement_offset((cw, ch), picture, placement)
    return ExtendPlan(cw, ch, left, top, picture, scale, tuple(notes))


def target_for(width: int, height: int, shape: str, custom: tuple[int, int] | None = None) -> tuple[int, int]:
    """The canvas a person asks for: a preset shape from ``ASPECTS`` around the picture, or ``custom``."""
    if shape in ASPECTS:
        return aspect_canvas(width, height, ASPECTS[shape])
    if custom is None:
        raise ExtendError(f"Choose a shape ({', '.join(ASPECTS)}) or give a width and height.")
    return custom


def plan_preview(picture: Image.Image, plan: ExtendPlan, max_side: int = 768) -> Image.Image:
    """The new canvas at display size: the picture where it will sit, the new area tinted blue."""
    factor = min(1.0, max_side / max(plan.width, plan.height))
    size = (max(1, round(plan.width * factor)), max(1, round(plan.height * factor)))
    canvas = padded_picture(picture, plan).resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(canvas, dtype=np.float32)
    new = np.ones(size[::-1], dtype=bool)
    x0, y0 = round(plan.left * factor), round(plan.top * factor)
    x1, y1 = round((plan.left + plan.picture[0]) * factor), round((plan.top + plan.picture[1]) * factor)
    new[y0:y1, x0:x1] = False
    tint = np.array([59, 130, 246], dtype=np.float32)
    pixels[new] = pixels[new] * 0.35 + tint * 0.65
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB")


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def padded_picture(picture: Image.Image, plan: ExtendPlan) -> Image.Image:
    """The picture on the new canvas (RGB); the new area continues the picture's edge pixels."""
    img = picture.convert("RGB")
    if img.size != plan.picture:
        img = img.resize(plan.picture, Image.Resampling.LANCZOS)
    pw, ph = plan.picture
    pad = ((plan.top, plan.height - plan.top - ph), (plan.left, plan.width - plan.left - pw), (0, 0))
    return Image.fromarray(np.pad(np.asarray(img), pad, mode="edge"), "RGB")


def extend_mask(plan: ExtendPlan) -> bytes:
    """The mask as PNG: transparent (alpha 0) over the new area, opaque over the picture."""
    alpha = np.zeros((plan.height, plan.width), dtype=np.uint8)
    pw, ph = plan.picture
    alpha[plan.top:plan.top + ph, plan.left:plan.left + pw] = 255
    rgba = np.zeros((plan.height, plan.width, 4), dtype=np.uint8)
    rgba[..., 3] = alpha
    return _png(Image.fromarray(rgba, "RGBA"))
