"""Image bytes from a server: base64 decoding and the check that they really are a picture."""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image

from .errors import NotAnImage, RequestFailed
from .events import Failed, FinalImage

__all__ = ["check_image_bytes", "decode_b64", "final_image"]

_MIME_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif", "MPO": "jpeg"}


def check_image_bytes(data: bytes, expected_format: str | None = None) -> tuple[str, int | None, int | None]:
    """(format, width, height) of the bytes, or raise ``NotAnImage``. Never decodes the whole picture."""
    head = data[:256].lstrip()
    if expected_format == "svg" or head.startswith((b"<svg", b"<?xml")):
        if b"<svg" in data[:4096]:
            return "svg", None, None
        raise NotAnImage("The server sent SVG output that is not an SVG document; nothing was saved.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = _MIME_FORMATS.get(img.format or "")
            size = img.size
            img.verify()
    except Exception as exc:  # Pillow raises many types for bad bytes
        raise NotAnImage("The server answered with something that is not an image; nothing was saved. "
                         "Check that the base URL points at an OpenAI-compatible image API.",
                         api_message=f"{type(exc).__name__}: {exc}") from None
    if fmt is None:
        raise NotAnImage(f"The server sent an image in an unsupported format ({img.format}); nothing was saved.")
    return fmt, size[0], size[1]


def decode_b64(b64: object) -> bytes:
    """The bytes of a base64 image field, or raise ``NotAnImage`` when it is missing or not base64."""
    if not b64:
        raise NotAnImage("The server sent an empty image; nothing was saved.")
    if not isinstance(b64, str):
        raise NotAnImage("The server sent image data that is not valid base64; nothing was saved.")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise NotAnImage("The server sent image data that is not valid base64; nothing was saved.") from None


def final_image(index: int, b64: object, fmt: str, revised: str | None = None) -> FinalImage | Failed:
    """A checked ``FinalImage`` from a base64 field, or ``Failed`` saying what was wrong with it."""
    try:
        data = decode_b64(b64)
        real_fmt, w, h = check_image_bytes(data, fmt)
    except RequestFailed as err:
        return Failed(err, image_index=index)
    return FinalImage(index, data, real_fmt, w, h, revised)
