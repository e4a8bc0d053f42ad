"""``GET /v1/models`` for the offline backend: the catalog's current models as the API lists them.

Owns the handler ``list_models`` and the fixed ``OWNER`` / ``CREATED`` it reports. Builds on
``faults``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from imagelab.catalog import current_models

from .faults import apply_faults

__all__ = ["OWNER", "CREATED", "list_models"]

OWNER = "imagelab-offline"
CREATED = 1_700_000_000  # a fixed "created" for /v1/models


async def list_models(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    data = [{"id": name, "object": "model", "created": CREATED, "owned_by": OWNER} for name in current_models()]
    return JSONResponse({"object": "list", "data": data})
