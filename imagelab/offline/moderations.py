"""``POST /v1/moderations`` for the offline backend: the API's shape, flagging the image endpoints' trigger words.

Owns ``moderation_result`` (one input's verdict) and the handler ``create_moderation``. The body is
``{"model", "input"}`` where ``input`` is a string, a list of strings, or a list of multi-modal
parts (``{"type": "text", "text"}`` / ``{"type": "image_url", "image_url": {"url"}}``). Text that
contains a trigger word the image endpoints block (``validation.check_moderation``: ``forbidden``)
is flagged under ``illicit``; images are read but never flagged (the offline backend cannot see
what a picture shows). Builds on ``protocol``, ``faults`` and ``validation``.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .faults import apply_faults
from .protocol import APIError, read_json
from .validation import refuse_unknown

__all__ = ["MODERATION_MODELS", "CATEGORIES", "moderation_result", "create_moderation"]

MODERATION_MODELS = ("omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest",
                     "text-moderation-stable")
CATEGORIES = ("harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
              "self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence",
              "violence/graphic")
_IMAGE_CATEGORIES = {"self-harm", "self-harm/instructions", "self-harm/intent", "sexual", "violence",
                     "violence/graphic"}
TRIGGER = "forbidden"


def moderation_result(texts: list[str], images: int) -> dict[str, Any]:
    """The verdict on one input (its text parts and how many images it had), in the API's shape."""
    flagged = any(TRIGGER in t.lower() for t in texts)
    applied = {c: (["text"] if texts else []) + (["image"] if images and c in _IMAGE_CATEGORIES else [])
               for c in CATEGORIES}
    categories = {c: flagged and c == "illicit" for c in CATEGORIES}
    scores = {c: (0.97 if categories[c] else 0.0001) for c in CATEGORIES}
    return {"flagged": flagged, "categories": categories, "category_scores": scores,
            "category_applied_input_types": applied}


def _inputs(value: Any) -> list[tuple[list[str], int]]:
    """The inputs to judge, each as (its texts, its number of images)."""
    if isinstance(value, str):
        return [([value], 0)]
    if not isinstance(value, list) or not value:
        raise APIError(400, "Invalid 'input': expected a string, an array of strings or an array of objects.",
                       param="input", code="invalid_value")
    if all(isinstance(v, str) for v in value):
        return [([v], 0) for v in value]
    texts: list[str] = []
    images = 0
    for i, part in enumerate(value):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url" and isinstance(part.get("image_url"), dict) and part["image_url"].get("url"):
            images += 1
        else:
            raise APIError(400, f"Invalid 'input[{i}]': expected a text part or an image_url part.",
                           param=f"input[{i}]", code="invalid_value")
    return [(texts, images)]


async def create_moderation(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    body = await read_json(request)
    refuse_unknown(body, {"input", "model"})
    if "input" not in body:
        raise APIError(400, "Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    model = body.get("model") or "omni-moderation-latest"
    if model not in MODERATION_MODELS:
        raise APIError(404, f"The model '{model}' does not exist or you do not have access to it.", param="model",
                       code="model_not_found")
    results = [moderation_result(texts, images) for texts, images in _inputs(body["input"])]
    return JSONResponse({"id": "modr-" + secrets.token_hex(12), "model": model, "results": results})
