"""``/v1/batches`` for the offline backend: a JSONL file of image requests, worked through in the background.

Owns ``BATCH_PACE_ENV`` / ``DEFAULT_BATCH_PACE`` (seconds spent on each line, and in each of the
validating and finalizing steps; ``create_app(batch_pace=…)`` overrides the environment), the batch
table of an app (``batch_table``) and the handlers ``create_batch``, ``get_batch``, ``cancel_batch``
and ``list_batches``. Shapes and statuses follow the SDK's ``types/batch.py``: ``validating →
in_progress → finalizing → completed``, or ``failed`` (an input file that cannot be read: the
reasons are in ``errors.data``), or ``cancelling → cancelled`` (lines already done are kept in the
output file). Each line (``{custom_id, method: "POST", url, body}``, ``url`` equal to the batch's
``endpoint``) is sent to this same app, so it is validated and answered exactly as
``POST /v1/images/generations`` or ``POST /v1/images/edits`` (JSON body) would be: a 200 goes to
the output file as ``{id, custom_id, response: {status_code, request_id, body}, error: null}``,
anything else to the error file in the same shape. Output and error files live in the Files store
(``purpose`` ``batch_output``) and are read with ``GET /v1/files/{id}/content``. Builds on
``protocol``, ``faults``, ``files`` and ``validation``.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .faults import apply_faults
from .files import StoredFile, cursor_page, file_store, no_such_file
from .protocol import APIError, invalid_value, read_json
from .validation import refuse_unknown

__all__ = ["BATCH_PACE_ENV", "DEFAULT_BATCH_PACE", "BATCH_ENDPOINTS", "batch_table", "create_batch", "get_batch",
           "cancel_batch", "list_batches"]

BATCH_PACE_ENV = "IMAGELAB_OFFLINE_BATCH_PACE"
DEFAULT_BATCH_PACE = 0.05
# The endpoints the real Batch API accepts that this backend implements.
BATCH_ENDPOINTS = ("/v1/images/generations", "/v1/images/edits")
_ALL_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations",
                  "/v1/images/generations", "/v1/images/edits", "/v1/videos")
_CREATE_PARAMS = {"input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"}
_WINDOW_SECONDS = 24 * 3600


@dataclass
class _Batch:
    meta: dict[str, Any]
    headers: dict[str, str]
    cancel: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def batch_table(request: Request) -> dict[str, _Batch]:
    """The app's batches by id (created on first use)."""
    state = request.app.state
    if not hasattr(state, "imagelab_batches"):
        state.imagelab_batches = {}
    table: dict[str, _Batch] = state.imagelab_batches
    return table


def _pace(request: Request) -> float:
    pace = getattr(request.app.state, "batch_pace", None)
    if pace is None:
        pace = float(os.environ.get(BATCH_PACE_ENV) or DEFAULT_BATCH_PACE)
    return max(float(pace), 0.0)


def _no_such_batch(batch_id: str) -> APIError:
    return APIError(404, f"No batch found with id '{batch_id}'.", param="batch_id")


def _read_lines(data: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input file's requests, and the reasons it cannot be run (the API's ``errors.data``)."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [{"code": "invalid_json_line", "message": "The input file is not UTF-8 text.", "line": None}]
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            errors.append({"code": "invalid_json_line", "line": number,
                           "message": "This line is not parseable as valid JSON."})
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str) \
                or not isinstance(line.get("body"), dict):
            errors.append({"code": "invalid_request", "line": number,
                           "message": "Each line needs a 'custom_id' (a string), 'method', 'url' and 'body' (an "
                                      "object)."})
            continue
        if line.get("method") != "POST":
            errors.append({"code": "invalid_method", "line": number, "param": "method",
                           "message": "The only method supported is POST."})
        elif line.get("url") != endpoint:
            errors.append({"code": "mismatched_endpoint", "line": number, "param": "url",
                           "message": f"The URL provided for this request does not match the batch endpoint "
                                      f"'{endpoint}'."})
        elif line["custom_id"] in seen:
            errors.append({"code": "duplicate_custom_id", "line": number, "param": "custom_id",
                           "message": f"The custom_id '{line['custom_id']}' is used more than once; each line "
                                      "needs its own."})
        else:
            seen.add(line["custom_id"])
            lines.append(line)
    if not lines and not errors:
        errors.append({"code": "empty_file", "line": None, "message": "The input file has no requests."})
    return lines, errors


def _store_output(request: Request, batch_id: str, kind: str, rows: list[dict[str, Any]]) -> str | None:
    if not rows:
        return None
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    file_id = "file-" + secrets.token_hex(12)
    meta = {"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
            "filename": f"{batch_id}_{kind}.jsonl", "purpose": "batch_output", "status": "processed",
            "expires_at": None, "status_details": None}
    file_store(request).put(file_id, StoredFile(meta, data, "application/jsonl"), len(data))
    return file_id


def _add_usage(total: dict[str, Any], body: Any) -> None:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return
    total["input_tokens"] += int(usage.get("input_tokens") or 0)
    total["output_tokens"] += int(usage.get("output_tokens") or 0)
    total["total_tokens"] += int(usage.get("total_tokens") or 0)


async def _work(request: Request, batch: _Batch, lines: list[dict[str, Any]]) -> None:
    """Send each line to this app, in order, at the configured pace; then write the output files."""
    meta = batch.meta
    pace = _pace(request)
    outputs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    usage = {"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 0,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 0}
    transport = httpx2.ASGITransport(app=request.app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://offline-batch", timeout=None) as inner:
        for line in lines:
            if batch.cancel:
                break
            reply = await inner.post(line["url"], json=line["body"], headers=batch.headers)
            try:
                body: Any = reply.json()
            except ValueError:
                body = {"error": {"message": reply.text, "type": "server_error", "param": None, "code": None}}
            row = {"id": "batch_req_" + secrets.token_hex(12), "custom_id": line["custom_id"],
                   "response": {"status_code": reply.status_code, "request_id": reply.headers.get("x-request-id"),
                                "body": body}, "error": None}
            if reply.status_code == 200:
                outputs.append(row)
                meta["request_counts"]["completed"] += 1
                _add_usage(usage, body)
            else:
                failures.append(row)
                meta["request_counts"]["failed"] += 1
            meta["usage"] = usage
            await asyncio.sleep(pace)
    if batch.cancel:
        meta["output_file_id"] = _store_output(request, meta["id"], "output", outputs)
        meta["error_file_id"] = _store_output(request, meta["id"], "error", failures)
        meta.update(status="cancelled", cancelled_at=int(time.time()))
        return
    meta.update(status="finalizing", finalizing_at=int(time.time()))
    await asyncio.sleep(pace)
    meta["output_file_id"] = _store_output(request, meta["id"], "output", outputs)
    meta["error_file_id"] = _store_output(request, meta["id"], "error", failures)
    meta.update(status="completed", completed_at=int(time.time()))


async def _run(request: Request, batch: _Batch, data: bytes) -> None:
    meta = batch.meta
    try:
        await asyncio.sleep(_pace(request))
        lines, errors = _read_lines(data, meta["endpoint"])
        if batch.cancel:
            meta.update(status="cancelled", cancelled_at=int(time.time()))
            return
        if errors:
            meta.update(status="failed", failed_at=int(time.time()),
                        errors={"object": "list", "data": [{"param": None, **e} for e in errors]})
            return
        meta.update(status="in_progress", in_progress_at=int(time.time()),
                    request_counts={"total": len(lines), "completed": 0, "failed": 0})
        await _work(request, batch, lines)
    except Exception as exc:  # noqa: BLE001 - the batch says it failed rather than staying in progress
        meta.update(status="failed", failed_at=int(time.time()),
                    errors={"object": "list", "data": [{"code": "server_error", "line": None, "param": None,
                                                        "message": f"The offline backend failed: {exc}"}]})


async def create_batch(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    body = await read_json(request)
    refuse_unknown(body, _CREATE_PARAMS)
    for name in ("input_file_id", "endpoint", "completion_window"):
        if name not in body:
            raise APIError(400, f"Missing required parameter: '{name}'.", param=name,
                           code="missing_required_parameter")
    endpoint, window = body["endpoint"], body["completion_window"]
    if endpoint not in _ALL_ENDPOINTS:
        raise invalid_value("endpoint", endpoint, _ALL_ENDPOINTS)
    if endpoint not in BATCH_ENDPOINTS:
        raise APIError(400, f"The offline backend batches only {' and '.join(BATCH_ENDPOINTS)}; '{endpoint}' is "
                            "accepted by the real API.", param="endpoint", code="invalid_value")
    if window != "24h":
        raise invalid_value("completion_window", window, ["24h"])
    stored = file_store(request).get(str(body["input_file_id"]))
    if stored is None:
        raise no_such_file(str(body["input_file_id"]), 400, "input_file_id")
    if stored.meta.get("purpose") != "batch":
        raise APIError(400, f"The file {body['input_file_id']} was uploaded with purpose "
                            f"'{stored.meta.get('purpose')}'; a batch's input file needs purpose 'batch'.",
                       param="input_file_id", code="invalid_value")
    now = int(time.time())
    batch_id = "batch_" + secrets.token_hex(12)
    meta: dict[str, Any] = {
        "id": batch_id, "object": "batch", "endpoint": endpoint, "errors": None,
        "input_file_id": stored.meta["id"], "completion_window": "24h", "status": "validating",
        "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": None,
        "expires_at": now + _WINDOW_SECONDS, "finalizing_at": None, "completed_at": None, "failed_at": None,
        "expired_at": None, "cancelling_at": None, "cancelled_at": None,
        "request_counts": {"total": 0, "completed": 0, "failed": 0}, "metadata": body.get("metadata"),
        "model": None, "usage": None}
    auth = request.headers.get("authorization")
    batch = _Batch(meta, {"authorization": auth} if auth else {})
    batch_table(request)[batch_id] = batch
    batch.task = asyncio.get_running_loop().create_task(_run(request, batch, stored.data))
    return JSONResponse(meta)


def _batch(request: Request) -> _Batch:
    batch_id = request.path_params["batch_id"]
    batch = batch_table(request).get(batch_id)
    if batch is None:
        raise _no_such_batch(batch_id)
    return batch


async def get_batch(request: Request) -> Response:
    err, _ = await apply_faults(request)
    return err or JSONResponse(_batch(request).meta)


async def cancel_batch(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    batch = _batch(request)
    meta = batch.meta
    if meta["status"] in ("validating", "in_progress"):
        batch.cancel = True
        meta.update(status="cancelling", cancelling_at=int(time.time()))
    elif meta["status"] not in ("cancelling", "cancelled"):
        raise APIError(409, f"Cannot cancel a batch with status '{meta['status']}'.", code="batch_not_cancellable")
    return JSONResponse(meta)


async def list_batches(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    metas = [b.meta for b in batch_table(request).values()]
    return JSONResponse(cursor_page(metas, request.query_params, max_limit=100, default_limit=20))
