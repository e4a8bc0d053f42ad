"""``GET /v1/models`` and ``GET /v1/models/{model}`` for the offline backend: the catalog's current
models as the API lists and describes them.

Owns the handlers ``list_models`` and ``get_model`` (a retired or unknown model → 404 as the API
answers it), ``model_object`` and the fixed ``OWNER`` / ``CREATED`` it reports. Builds on
``protocol`` and ``faults``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from imagelab.catalog import current_models

from .faults import apply_faults
from .protocol import APIError

__all__ = ["OWNER", "CREATED", "model_object", "list_models", "get_model"]

OWNER = "imagelab-offline"
CREATED = 1_700_000_000  # a fixed "created" for /v1/models


async def list_models(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    return JSONResponse({"object": "list", "data": [model_object(name) for name in current_models()]})


def model_object(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": OWNER}


async def get_model(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    name = request.path_params["model"]
    if name not in current_models():
        raise APIError(404, f"The model '{name}' does not exist", param="model", code="model_not_found")
    return JSONResponse(model_object(name))
