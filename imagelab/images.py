"""Image bytes: display copies of every stored format, and what a page says when a picture is gone.

PNG, JPEG and WebP become a display-sized WebP; a GIF stays a GIF so that it still plays; an SVG
is sanitised and drawn as a PNG (see ``imagelab.svg``), so no markup from a server reaches a page.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable

from PIL import Image, ImageSequence

from .svg import svg_to_png

__all__ = ["DELETED_SENTENCE", "MIME_TYPES", "MISSING_FILE_SENTENCE", "is_svg", "mime_of", "preview_bytes",
           "first_frame_png"]

MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
              "svg": "image/svg+xml"}

DELETED_SENTENCE = "This picture was deleted from the history."
MISSING_FILE_SENTENCE = "The file of this picture is missing from the history folder."


def is_svg(data: bytes) -> bool:
    head = data[:4096].lstrip()
    return head.startswith((b"<svg", b"<?xml", b"<!--")) and b"<svg" in head


def mime_of(data: bytes) -> str:
    """The MIME type of picture bytes, read from their first bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if is_svg(data):
        return "image/svg+xml"
    return "application/octet-stream"


def first_frame_png(data: bytes) -> bytes:
    """The first frame of an animated picture as a PNG still (for what reads stills only, such as a vision model)."""
    with Image.open(io.BytesIO(data)) as img:
        still = img.convert("RGBA" if "transparency" in img.info else "RGB")
    out = io.BytesIO()
    still.save(out, "PNG")
    return out.getvalue()


def _gif_preview(data: bytes, max_side: int) -> bytes:
    """The GIF itself when small enough; else every frame scaled down, so it still plays."""
    with Image.open(io.BytesIO(data)) as img:
        if max(img.size) <= max_side:
            return data
        frames = []
        for frame in ImageSequence.Iterator(img):
            small = frame.convert("RGBA")
            small.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
            frames.append(small)
        out = io.BytesIO()
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], loop=img.info.get("loop", 0),
                       duration=img.info.get("duration", 200), disposal=2)
        return out.getvalue()


def preview_bytes(data: bytes, max_side: int = 768) -> bytes:
    """A display-sized copy: JPEG for stills (PNG when they have transparency), GIF for GIFs, PNG drawn
    from a sanitised SVG.

    Raises ``ValueError`` (``imagelab.svg.NotAnSvg``) for an SVG that cannot be read, and Pillow's
    ``UnidentifiedImageError`` (an ``OSError``) for bytes that are no picture at all.
    """
    if is_svg(data):
        return svg_to_png(data, max_side)
    if data.startswith(b"GIF8"):
        return _gif_preview(data, max_side)
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (max_side, max_side))  # JPEG decodes at a reduced scale directly
        still = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P", "PA") else "RGB")
    still.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    # JPEG, or PNG where there is transparency: formats the page passes to the browser as they are,
    # where a WebP would be decoded and encoded again on every redraw.
    if still.mode == "RGBA":
        still.save(out, "PNG", compress_level=1)
    else:
        still.save(out, "JPEG", quality=85)
    return out.getvalue()


# Display copies by content hash, shared by every page and made once: the run engine makes a new
# picture's copy as soon as it is saved, so the page that shows it next finds it ready.
_DISPLAY_COPIES: OrderedDict[str, bytes] = OrderedDict()
_DISPLAY_LOCK = threading.Lock()
_DISPLAY_MAX = 512


def display_copy(digest: str, load: Callable[[], bytes]) -> bytes:
    """The display-sized copy of the picture with this content hash; ``load()`` gives its bytes if needed."""
    with _DISPLAY_LOCK:
        copy = _DISPLAY_COPIES.get(digest)
        if copy is not None:
            _DISPLAY_COPIES.move_to_end(digest)
            return copy
    copy = preview_bytes(load())
    with _DISPLAY_LOCK:
        _DISPLAY_COPIES[digest] = copy
        while len(_DISPLAY_COPIES) > _DISPLAY_MAX:
            _DISPLAY_COPIES.popitem(last=False)
    return copy
