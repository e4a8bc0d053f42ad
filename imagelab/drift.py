"""Keep-exact compositing and drift: what a model changed outside the mask, and putting it back.

OpenAI's image models repaint the whole picture on an edit; the pixels the mask protects come
back close to the original but not identical. This module owns, as plain NumPy/Pillow:

- ``keep_weights(protected, feather)``: per pixel, how much of the original to keep — 1 wherever
  the mask is opaque (protected), falling linearly over ``feather`` pixels into the transparent
  (edited) area (1 - d / (feather + 1) at distance d), 0 beyond. The seam lies in the edited
  area, so protected pixels stay exact.
- ``keep_exact(original, result, mask, feather)``: the result with the original composited back
  by those weights, at the result's size (original and mask are resized when the model answered
  at another size; then "exact" means exact to the resized original).
- ``measure_drift(original, result, mask)``: ``Drift`` — mean ΔE (CIE76, in CIELAB) over the
  protected pixels and the share of them that moved by more than ``DRIFT_THRESHOLD`` ΔE.
- ``drift_heatmap(original, result, mask)``: the result dimmed, with the drift drawn over it in
  heat colours (transparent where nothing moved), so a designer sees where the model drifted.
- ``pair_heatmap(raw, kept)``: the same heat map from the two saved pictures alone: a kept-exact
  composite equals the original wherever the mask protects, so the raw result's difference from
  it there *is* the drift (the seam band, where both blend, shows faintly).
- ``postprocess_edit``: the run engine's hook for an edit with keep-exact on (``KeepExact``).

The sRGB → CIELAB conversion is the standard formula (D65) in float: Pillow's LAB mode is 8-bit
and would quantise by up to about one ΔE, as much as the drift worth reporting.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = ["Drift", "KeepExact", "DerivedImage", "DRIFT_THRESHOLD", "DEFAULT_FEATHER", "MAX_FEATHER",
           "srgb_to_lab", "delta_e", "keep_weights", "keep_exact", "measure_drift", "drift_heatmap",
           "protected_region", "postprocess_edit", "pair_heatmap"]

# A pixel "moved" when its colour changed by more than this many ΔE (about what a person can see side by side).
DRIFT_THRESHOLD = 2.0
DEFAULT_FEATHER = 8
MAX_FEATHER = 64
# ΔE at which the heat map is at full strength.
_HEAT_FULL = 20.0


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB (..., 3) → CIELAB (..., 3) as float32, D65 white."""
    c = rgb.astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]], dtype=np.float32)
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883], dtype=np.float32)
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
    return lab.astype(np.float32)


def delta_e(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel ΔE (CIE76) between two 8-bit sRGB arrays of the same shape."""
    out: np.ndarray = np.linalg.norm(srgb_to_lab(a) - srgb_to_lab(b), axis=-1)
    return out


def _rgb(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))


def protected_region(mask: Image.Image, size: tuple[int, int] | None = None) -> np.ndarray:
    """True where the mask protects the picture (alpha > 0), at ``size`` (the mask's own by default)."""
    alpha = mask.convert("RGBA").getchannel("A")
    if size is not None and alpha.size != size:
        alpha = alpha.resize(size, Image.Resampling.NEAREST)
    region: np.ndarray = np.asarray(alpha) > 0
    return region


def keep_weights(protected: np.ndarray, feather: int) -> np.ndarray:
    """How much of the original to keep, per pixel (float32, 0–1); see the module docstring."""
    if feather <= 0 or not protected.any():
        return protected.astype(np.float32)
    # distance of every edited pixel to the nearest protected one (0 on protected pixels)
    distance = ndimage.distance_transform_edt(~protected)
    weights: np.ndarray = np.clip(1.0 - distance / (feather + 1.0), 0.0, 1.0).astype(np.float32)
    return weights


def _at(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    return img if img.size == size else img.resize(size, Image.Resampling.LANCZOS)


def keep_exact(original: Image.Image, result: Image.Image, mask: Image.Image, feather: int = DEFAULT_FEATHER
               ) -> Image.Image:
    """The result with the original's protected pixels put back, a ``feather``-pixel seam into the edit."""
    size = result.size
    mode = "RGBA" if "A" in result.getbands() else "RGB"
    weights = keep_weights(protected_region(mask, size), feather)[..., None]
    base = np.asarray(_at(original, size).convert(mode), dtype=np.float32)
    new = np.asarray(result.convert(mode), dtype=np.float32)
    out = np.rint(base * weights + new * (1.0 - weights)).clip(0, 255).astype(np.uint8)
    return Image.fromarray(out, mode)


@dataclass(frozen=True)
class Drift:
    """How far a result moved from the original where the mask protected it."""

    mean_delta_e: float          # over the protected pixels
    changed_share: float         # share of protected pixels that moved by more than ``threshold`` ΔE
    max_delta_e: float
    threshold: float = DRIFT_THRESHOLD

    def in_words(self) -> str:
        """The drift said plainly, for the result's card; ``sentence`` gives the ΔE figures for its help."""
        if self.max_delta_e == 0:
            return "Outside the mask, the picture did not change at all."
        # about 1 ΔE is the smallest difference a trained eye sees side by side; about 2.3 a person notices
        amount = ("too little to see" if self.mean_delta_e < 1 else
                  "a barely visible amount" if self.mean_delta_e < 2.3 else
                  "a visible amount" if self.mean_delta_e < 5 else "a clearly visible amount")
        return (f"Outside the mask, the picture changed by {amount}: {self.changed_share:.0%} of its pixels "
                "there visibly.")

    def sentence(self) -> str:
        if self.max_delta_e == 0:
            return "The model kept every protected pixel exactly (mean ΔE 0)."
        return (f"Outside the mask the model changed the picture by a mean ΔE of {self.mean_delta_e:.2f}; "
                f"{self.changed_share:.1%} of those pixels moved by more than {self.threshold:g} ΔE.")

    def to_record(self) -> dict[str, float]:
        return {"mean_delta_e": round(self.mean_delta_e, 4), "changed_share": round(self.changed_share, 6),
                "max_delta_e": round(self.max_delta_e, 3), "threshold": self.threshold}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Drift:
        return cls(float(rec["mean_delta_e"]), float(rec["changed_share"]), float(rec.get("max_delta_e", 0.0)),
                   float(rec.get("threshold", DRIFT_THRESHOLD)))


def _drift_map(original: Image.Image, result: Image.Image, mask: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    size = result.size
    protected = protected_region(mask, size)
    de = delta_e(_rgb(_at(original, size)), _rgb(result))
    return de, protected


def measure_drift(original: Image.Image, result: Image.Image, mask: Image.Image,
                  threshold: float = DRIFT_THRESHOLD) -> Drift:
    """The drift figure of a raw result against the original, over the pixels the mask protects."""
    de, protected = _drift_map(original, result, mask)
    moved = de[protected]
    if moved.size == 0:
        return Drift(0.0, 0.0, 0.0, threshold)
    return Drift(float(moved.mean()), float((moved > threshold).mean()), float(moved.max()), threshold)


def drift_heatmap(original: Image.Image, result: Image.Image, mask: Image.Image) -> Image.Image:
    """The raw result dimmed to grey, with the drift outside the mask in heat colours (RGB)."""
    de, protected = _drift_map(original, result, mask)
    strength = np.clip(de / _HEAT_FULL, 0.0, 1.0) * protected
    grey = np.asarray(result.convert("L"), dtype=np.float32)[..., None] * 0.45
    # black → red → yellow → white as the drift grows
    heat = np.stack([np.clip(strength * 3, 0, 1), np.clip(strength * 3 - 1, 0, 1),
                     np.clip(strength * 3 - 2, 0, 1)], axis=-1) * 255
    shown = np.clip(strength * 4, 0, 1)[..., None]  # even a small drift shows clearly
    out = grey * (1 - shown) + heat * shown
    return Image.fromarray(out.clip(0, 255).astype(np.uint8), "RGB")


def pair_heatmap(raw: Image.Image, kept: Image.Image) -> Image.Image:
    """The drift map of a raw result against its kept-exact composite (see the module docstring)."""
    everywhere = Image.new("RGBA", kept.size, (0, 0, 0, 255))
    return drift_heatmap(kept, raw, everywhere)


# --- the run engine's hook -----------------------------------------------------------------------

@dataclass(frozen=True)
class DerivedImage:
    """A picture made from a saved result (the kept-exact composite), saved beside it."""

    data: bytes
    format: str
    width: int
    height: int
    variant: str                 # what it is: "kept"
    drift: dict[str, float] | None = None


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg":
        img.convert("RGB").save(buf, "JPEG", quality=95)
    elif fmt == "webp":
        img.save(buf, "WEBP", lossless=True)
    else:
        img.save(buf, "PNG", compress_level=1)  # the run waits for it; the smallest file is not worth seconds
    return buf.getvalue()


@dataclass(frozen=True)
class KeepExact:
    """Put the original back outside the mask of an edit's results (and measure the drift).

    ``original`` is the picture as sent (for Extend: the padded canvas), ``mask`` the mask sent
    with it (PNG bytes; transparent = edit). Called by the run engine for every saved result.
    """

    original: bytes = b""
    mask: bytes = b""
    feather: int = DEFAULT_FEATHER

    def __call__(self, data: bytes, fmt: str) -> list[DerivedImage]:
        return postprocess_edit(data, fmt, self.original, self.mask, self.feather)


def postprocess_edit(data: bytes, fmt: str, original: bytes, mask: bytes, feather: int) -> list[DerivedImage]:
    """The kept-exact composite of one raw result, with the raw result's drift; none for GIF or SVG."""
    if fmt not in ("png", "jpeg", "webp"):
        return []
    with Image.open(io.BytesIO(data)) as raw_file, Image.open(io.BytesIO(original)) as orig_file, \
            Image.open(io.BytesIO(mask)) as mask_file:
        raw, orig, guide = raw_file.copy(), orig_file.copy(), mask_file.copy()
    drift = measure_drift(orig, raw, guide)
    kept = keep_exact(orig, raw, guide, feather)
    # a lossy format would blur the exact pixels again: the composite is kept losslessly
    out_fmt = "webp" if fmt == "webp" else "png"
    return [DerivedImage(_encode(kept, out_fmt), out_fmt, kept.width, kept.height, "kept", drift.to_record())]
