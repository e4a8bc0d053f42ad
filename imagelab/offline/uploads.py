"""Uploaded files for the offline backend: reading multipart bodies and decoding uploaded images.

Owns ``read_multipart`` (a multipart/form-data body read with a byte cap, refusing anything
larger unread), ``Upload`` (one uploaded file's field name, mimetype and bytes) with
``mimetype_of``, the checks on an uploaded image (``SUPPORTED_MIMETYPES``, ``check_mimetype``,
``too_big``), ``decode_image`` (full decode, EXIF orientation applied, decompression bombs
refused) and masks / markups (``has_alpha``, ``load_guide``). Shared by edits, files and
responses. Builds on ``protocol``.
"""

from __future__ import annotations

import io
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass

from PIL import Image, ImageOps
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from imagelab.inputs import probe

from .protocol import APIError, closing, media_type, unsupported_content_type

__all__ = [
    "SUPPORTED_MIMETYPES",
    "MULTIPART",
    "Upload",
    "mimetype_of",
    "read_multipart",
    "check_mimetype",
    "too_big",
    "decode_image",
    "has_alpha",
    "load_guide",
]

SUPPORTED_MIMETYPES = ("image/jpeg", "image/png", "image/webp")
MULTIPART = "multipart/form-data"


# A body declared larger than this is refused without being read (the connection closes on it).
_DRAIN_LIMIT = 64 * 1024 * 1024


async def read_multipart(request: Request, *, max_bytes: int, too_large: APIError, max_files: int,
                         max_fields: int, accepted: Sequence[str] = (MULTIPART,)) -> FormData:
    """Parse the multipart body, raising ``too_large`` for anything larger than ``max_bytes`` (unread
    when the content-length says so). A body of another content type gets the API's 400 naming
    ``accepted`` (the content types the endpoint takes)."""
    if media_type(request) != MULTIPART:
        raise unsupported_content_type(request, accepted)
    too_large = closing(too_large)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        if int(length) <= _DRAIN_LIMIT:
            # read what the client is still sending, a chunk at a time, so it gets the 413 rather than a reset
            async for _chunk in request.stream():
                pass
        raise too_large

    async def capped() -> AsyncGenerator[bytes, None]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > max_bytes:
                raise too_large
            yield chunk

    parser = MultiPartParser(request.headers, capped(), max_files=max_files, max_fields=max_fields)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise APIError(400, f"Could not parse the multipart form: {exc.message}") from None


def mimetype_of(upload: UploadFile) -> str:
    return (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()


@dataclass
class Upload:
    name: str  # form field: image / mask / markup
    mimetype: str
    data: bytes


def check_mimetype(upload: Upload) -> None:
    if upload.mimetype not in SUPPORTED_MIMETYPES:
        raise APIError(400, f"Invalid file '{upload.name}': unsupported mimetype ('{upload.mimetype}'). "
                            "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.",
                       param=upload.name, code="unsupported_file")


def too_big(upload: Upload, limit: int) -> APIError:
    return APIError(400, f"Invalid file '{upload.name}': the file is {len(upload.data):,} bytes; "
                         f"the maximum is {limit // (1024 * 1024)} MB.", param=upload.name, code="file_too_large")


def decode_image(data: bytes) -> Image.Image:
    """Decode fully (EXIF orientation applied); InputRefused / OSError … for unreadable files."""
    probe(data)  # refuses non-images and decompression bombs from the header alone
    img: Image.Image = Image.open(io.BytesIO(data))
    img.load()
    fmt = img.format
    img = ImageOps.exif_transpose(img)
    img.format = fmt  # exif_transpose returns a copy without it
    return img


def has_alpha(img: Image.Image) -> bool:
    return "A" in img.getbands() or "transparency" in img.info


def load_guide(upload: Upload, size: tuple[int, int]) -> Image.Image:
    """A mask or markup: PNG with an alpha channel, the size of the first image."""
    what = upload.name
    try:
        img = decode_image(upload.data)
    except Exception:  # noqa: BLE001 - unreadable: no usable alpha channel either
        img = None
    if img is None or img.format != "PNG" or not has_alpha(img):
        raise APIError(400, f"Invalid {what} image format - {what} image missing alpha channel",
                       param=what, code="invalid_image_format")
    if img.size != size:
        raise APIError(400, f"Invalid {what} image format - {what} size does not match image size",
                       param=what, code="invalid_image_format")
    return img.convert("RGBA")
