"""``/v1/files`` for the offline backend: files kept in memory, and the bounded store that holds them.

Owns ``BoundedStore`` (also used for stored responses), ``StoredFile``, ``file_store`` (the
app's file store), the handlers ``upload_file``, ``get_file``, ``get_file_content``,
``delete_file`` and ``list_files``, ``cursor_page`` (one page of a list in the API's shape) and
``ref_data`` / ``ref_bytes`` (an image given by reference, as JSON bodies give them:
``{"file_id"}`` from this store or ``{"image_url"}`` as a base64 data URL; a remote URL is
refused, the offline backend has no network). Files are kept in memory, at most ``MAX_FILES``
files / ``MAX_FILE_STORE_BYTES`` in total, oldest dropped first: ``POST /v1/files`` (multipart
``file`` + ``purpose``; purpose ``vision`` must be an image), ``GET /v1/files`` (``purpose``,
``after``, ``limit`` 1–10,000, ``order`` asc / desc by creation, default desc), ``GET
/v1/files/{id}``, ``GET /v1/files/{id}/content``, ``DELETE /v1/files/{id}``. Unknown ids → 404
``No such File object: file-…``. Builds on ``protocol``, ``faults``, ``validation`` and
``uploads``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .faults import apply_faults
from .protocol import APIError, invalid_value
from .uploads import decode_image, read_multipart
from .validation import refuse_unknown
from .workload import render_gate

__all__ = [
    "MAX_FILES",
    "MAX_FILE_STORE_BYTES",
    "MAX_FILE_BYTES",
    "FILE_PURPOSES",
    "BoundedStore",
    "StoredFile",
    "file_store",
    "no_such_file",
    "upload_file",
    "get_file",
    "get_file_content",
    "delete_file",
    "cursor_page",
    "list_files",
    "ref_data",
    "ref_bytes",
]

MAX_FILES = 256
MAX_FILE_STORE_BYTES = 512 * 1024 * 1024
MAX_FILE_BYTES = 512 * 1024 * 1024

FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")


class BoundedStore:
    """An insertion-ordered dict with at most ``max_items`` entries / ``max_bytes`` in total
    (each entry's size given on ``put``); the oldest entries are dropped first."""

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()
        self.total = 0

    def put(self, key: str, value: Any, size: int = 0) -> None:
        self.pop(key)
        self._items[key] = (value, size)
        self.total += size
        while len(self._items) > self.max_items or (self.total > self.max_bytes and len(self._items) > 1):
            _, (_, old) = self._items.popitem(last=False)
            self.total -= old

    def get(self, key: str) -> Any:
        item = self._items.get(key)
        return None if item is None else item[0]

    def pop(self, key: str) -> Any:
        item = self._items.pop(key, None)
        if item is None:
            return None
        self.total -= item[1]
        return item[0]

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> list[Any]:
        """The entries, oldest first."""
        return [value for value, _ in self._items.values()]


@dataclass
class StoredFile:
    meta: dict[str, Any]
    data: bytes
    content_type: str


def file_store(request: Request) -> BoundedStore:
    """The app's files (created on first use)."""
    state = request.app.state
    if not hasattr(state, "imagelab_files"):
        state.imagelab_files = BoundedStore(MAX_FILES, MAX_FILE_STORE_BYTES)
    files: BoundedStore = state.imagelab_files
    return files


def no_such_file(file_id: str, status: int = 404, param: str | None = "id") -> APIError:
    return APIError(status, f"No such File object: {file_id}", param=param)


async def _read_file_form(request: Request) -> FormData:
    too_large = APIError(413, f"File too large: the maximum is {MAX_FILE_BYTES // (1024 * 1024)} MB.",
                         code="file_too_large")
    return await read_multipart(request, max_bytes=MAX_FILE_BYTES + 1024 * 1024, too_large=too_large, max_files=2,
                                max_fields=20)


async def upload_file(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    form = await _read_file_form(request)
    try:
        refuse_unknown(form.keys(), {"file", "purpose", "expires_after[anchor]", "expires_after[seconds]"})
        purpose = form.get("purpose")
        upload = form.get("file")
        if purpose is None:
            raise APIError(400, "Missing required parameter: 'purpose'.", param="purpose",
                           code="missing_required_parameter")
        if not isinstance(purpose, str) or purpose not in FILE_PURPOSES:
            raise invalid_value("purpose", purpose, FILE_PURPOSES)
        if not isinstance(upload, UploadFile):
            raise APIError(400, "Missing required parameter: 'file'.", param="file",
                           code="missing_required_parameter")
        data = await upload.read()
        filename = upload.filename or "upload"
        content_type = (upload.content_type or "application/octet-stream").split(";")[0].strip()
    finally:
        await form.close()
    if len(data) > MAX_FILE_BYTES:
        raise APIError(413, f"File too large: the maximum is {MAX_FILE_BYTES // (1024 * 1024)} MB.",
                       param="file", code="file_too_large")
    if purpose == "vision":
        gate = render_gate(request)
        gate.admit()  # outside the check below: a busy server is no fault of the file
        try:
            img = await gate.run(decode_image, data, admitted=True)
            content_type = Image.MIME.get(img.format or "", content_type)
        except Exception:  # noqa: BLE001 - not an image Pillow can read
            raise APIError(400, f"Invalid file '{filename}': files with purpose 'vision' must be images "
                                "(PNG, JPEG, WEBP or non-animated GIF).", param="file",
                           code="invalid_file_format") from None
    file_id = "file-" + secrets.token_hex(12)
    meta = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
            "filename": filename, "purpose": purpose, "status": "processed", "expires_at": None,
            "status_details": None}
    file_store(request).put(file_id, StoredFile(meta, data, content_type), len(data))
    return JSONResponse(meta)


def _stored_file(request: Request) -> StoredFile:
    file_id = request.path_params["file_id"]
    stored: StoredFile | None = file_store(request).get(file_id)
    if stored is None:
        raise no_such_file(file_id)
    return stored


async def get_file(request: Request) -> Response:
    err, _ = await apply_faults(request)
    return err or JSONResponse(_stored_file(request).meta)


async def get_file_content(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    stored = _stored_file(request)
    return Response(stored.data, media_type=stored.content_type)


async def delete_file(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    stored = _stored_file(request)
    file_store(request).pop(stored.meta["id"])
    return JSONResponse({"id": stored.meta["id"], "object": "file", "deleted": True})


def _limit(params: Mapping[str, str], max_limit: int, default: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise APIError(400, "Invalid type for 'limit': expected an integer, but got a string instead.",
                       param="limit", code="invalid_type") from None
    if limit < 1:
        raise APIError(400, f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {limit} "
                            "instead.", param="limit", code="integer_below_min_value")
    if limit > max_limit:
        raise APIError(400, f"Invalid 'limit': integer above maximum value. Expected a value <= {max_limit:,}, but "
                            f"got {limit} instead.", param="limit", code="integer_above_max_value")
    return limit


def cursor_page(items: Sequence[dict[str, Any]], params: Mapping[str, str], *, max_limit: int,
                default_limit: int) -> dict[str, Any]:
    """One page of ``items`` (oldest first, each with an ``id``) as the API lists: ``{"object": "list",
    "data", "first_id", "last_id", "has_more"}``, after the query's ``order`` (asc / desc, default desc),
    ``after`` (an id) and ``limit``."""
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid_value("order", order, ["asc", "desc"])
    limit = _limit(params, max_limit, default_limit)
    ordered = list(items) if order == "asc" else list(reversed(items))
    after = params.get("after")
    if after is not None:
        ids = [item.get("id") for item in ordered]
        ordered = ordered[ids.index(after) + 1:] if after in ids else []
    page = ordered[:limit]
    return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None, "has_more": len(ordered) > limit}


async def list_files(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    purpose = request.query_params.get("purpose")
    metas = [f.meta for f in file_store(request).values() if purpose is None or f.meta["purpose"] == purpose]
    return JSONResponse(cursor_page(metas, request.query_params, max_limit=10_000, default_limit=10_000))


def ref_data(ref: dict[str, Any], param: str, files: BoundedStore) -> tuple[bytes, str]:
    """The bytes and MIME type of an image given by reference (an ``input_image``, an
    ``input_image_mask``, an edit's ``images[i]`` or ``mask``): ``file_id`` or ``image_url`` (a data URL)."""
    file_id = ref.get("file_id")
    if file_id:
        stored = files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise no_such_file(str(file_id), 400, f"{param}.file_id")
        return stored.data, stored.content_type
    url = ref.get("image_url")
    if not isinstance(url, str) or not url:
        raise APIError(400, f"Missing required parameter: '{param}.image_url' (or '{param}.file_id').",
                       param=param, code="missing_required_parameter")
    if url.startswith(("http://", "https://")):
        raise APIError(400, "The offline backend cannot fetch image URLs; send a base64 data URL or a "
                            "file_id instead.", param=f"{param}.image_url", code="invalid_value")
    head, sep, payload = url.partition(",")
    if not (url.startswith("data:image/") and sep and head.endswith(";base64")):
        raise APIError(400, f"Invalid '{param}.image_url'. Expected a base64-encoded data URL with an image "
                            "MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got an "
                            "invalid value.", param=f"{param}.image_url", code="invalid_value")
    mimetype = head[len("data:"):-len(";base64")].strip().lower()
    try:
        return base64.b64decode(payload, validate=False), mimetype
    except (binascii.Error, ValueError):
        return b"", mimetype


def ref_bytes(ref: dict[str, Any], param: str, files: BoundedStore) -> bytes:
    """The bytes of an image given by reference (see ``ref_data``)."""
    return ref_data(ref, param, files)[0]
