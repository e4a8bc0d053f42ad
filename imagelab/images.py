"""Image bytes: previews for display, and facts about a picture, without Streamlit."""

from __future__ import annotations

import io

from PIL import Image

__all__ = ["preview_bytes", "MIME_TYPES"]

MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
              "svg": "image/svg+xml"}


def preview_bytes(data: bytes, max_side: int = 768) -> bytes:
    """A display-sized WebP of the picture (alpha kept), so the page never ships full PNGs on rerun."""
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (max_side, max_side))  # JPEG decodes at a reduced scale directly
        img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P", "PA") else "RGB")
        img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        out = io.BytesIO()
        img.save(out, "WEBP", quality=85, method=0)
        return out.getvalue()
