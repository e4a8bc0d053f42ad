"""``POST /v1/images/edits`` with a JSON body, and the endpoint's choice between its two bodies.

Owns ``EDIT_JSON_PARAMS``, ``MAX_JSON_EDIT_BYTES``, ``read_edit_refs`` (the JSON body's image
references → uploads), the JSON handler ``create_edit_from_json`` and ``create_edit_any`` (the
route: ``application/json`` here, anything else to the multipart ``edits.create_edit``, which
refuses a body that is neither). Builds on ``protocol``, ``faults``, ``uploads``, ``validation``,
``edits`` and ``files``.

Request: ``images`` (1–16 objects, each ``{"file_id"}`` from this server's Files store or
``{"image_url"}`` as a base64 data URL), optional ``mask`` (one such object), ``prompt`` and the
same options as the multipart body, typed as JSON. A remote ``http(s)`` URL is refused with a 400
that says why: the offline backend has no network. The answer is the multipart edit's.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .edits import EDIT_PARAMS, FILE_FIELDS, MAX_BODY_BYTES, MAX_IMAGES, answer_edit, create_edit, validate_edit
from .faults import apply_faults
from .files import BoundedStore, file_store, ref_data
from .protocol import JSON, APIError, media_type, read_json
from .uploads import Upload
from .validation import refuse_unknown
from .workload import render_gate

__all__ = ["EDIT_JSON_PARAMS", "MAX_JSON_EDIT_BYTES", "read_edit_refs", "create_edit_from_json", "create_edit_any"]

EDIT_JSON_PARAMS = (EDIT_PARAMS - FILE_FIELDS) | {"images", "mask"}
# What the multipart body allows, with every image as base64 text (4 characters for 3 bytes).
MAX_JSON_EDIT_BYTES = math.ceil(MAX_BODY_BYTES * 4 / 3)


def _reference(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not (value.get("file_id") or value.get("image_url")):
        raise APIError(400, f"Invalid '{param}': expected an object with 'file_id' or 'image_url'.", param=param,
                       code="invalid_value")
    return value


def read_edit_refs(body: dict[str, Any], files: BoundedStore) -> tuple[list[Upload], Upload | None]:
    """The images and mask a JSON edit names, read from the Files store or their data URLs."""
    refs = body.get("images")
    if refs is None:
        raise APIError(400, "Missing required parameter: 'images'.", param="images",
                       code="missing_required_parameter")
    if not isinstance(refs, list):
        raise APIError(400, "Invalid type for 'images': expected an array of objects.", param="images",
                       code="invalid_type")
    if not refs:
        raise APIError(400, "Invalid 'images': empty array. Expected an array with minimum length 1, but got an "
                            "empty array instead.", param="images", code="empty_array")
    if len(refs) > MAX_IMAGES:
        raise APIError(400, f"Invalid 'images': array too long. Expected an array with maximum length {MAX_IMAGES}, "
                            f"but got an array with length {len(refs)} instead.", param="images",
                       code="array_above_max_length")
    images = []
    for i, value in enumerate(refs):
        data, mimetype = ref_data(_reference(value, f"images[{i}]"), f"images[{i}]", files)
        images.append(Upload("image", mimetype, data))
    mask = None
    if body.get("mask") is not None:
        data, mimetype = ref_data(_reference(body["mask"], "mask"), "mask", files)
        mask = Upload("mask", mimetype, data)
    return images, mask


async def create_edit_from_json(request: Request) -> Response:
    body = await read_json(request, MAX_JSON_EDIT_BYTES)
    refuse_unknown(body, EDIT_JSON_PARAMS)
    err, faults = await apply_faults(request, body.get("model") if isinstance(body.get("model"), str) else None)
    if err:
        return err
    images, mask = read_edit_refs(body, file_store(request))
    gate = render_gate(request)
    spec = await gate.run(validate_edit, body, images, mask, None)
    return await answer_edit(spec, faults, gate)


async def create_edit_any(request: Request) -> Response:
    """``POST /v1/images/edits``: a JSON body or a multipart form, as the Content-Type says."""
    if media_type(request) == JSON:
        return await create_edit_from_json(request)
    return await create_edit(request)
