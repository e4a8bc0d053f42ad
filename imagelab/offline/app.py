"""The offline server's Starlette app: the route table, the request-id middleware and error handlers.

Owns ``create_app`` (the app; ``faults`` or env ``IMAGELAB_OFFLINE_FAULT`` apply to every
request; ``token`` is the one API key accepted, or any non-empty key when None — see ``auth``),
``ROUTES``, ``api_route`` (an ``APIError`` or any other exception raised in a handler becomes the
OpenAI error body), ``RequestIdMiddleware`` (every response carries ``x-request-id: req_<hex>``)
and the 404 / 405 answers. Endpoints (under ``/v1``): ``GET /v1/models`` and ``GET
/v1/models/{id}`` (``models``); ``POST /v1/images/generations`` (``generations``); ``POST
/v1/images/edits`` (multipart: ``edits``; JSON: ``edits_json``); ``POST /v1/responses``, ``GET`` /
``DELETE /v1/responses/{id}``, ``POST /v1/responses/{id}/cancel`` and ``GET
/v1/responses/{id}/input_items`` (``responses``; background runs in ``background``); ``POST``
/ ``GET /v1/files``, ``GET`` / ``DELETE /v1/files/{id}`` and ``GET /v1/files/{id}/content``
(``files``); ``POST /v1/moderations`` (``moderations``); ``POST`` / ``GET /v1/batches``, ``GET
/v1/batches/{id}`` and ``POST /v1/batches/{id}/cancel`` (``batches``). To add an endpoint: write
``async def handler(request) -> Response`` using ``read_json``, ``api_error`` / ``APIError``
(``protocol``), ``apply_faults`` (``faults``) and ``usage_body``, then add a ``Route`` in ``ROUTES``
(or pass ``extra_routes`` to ``create_app``).
Builds on every endpoint module.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import AuthMiddleware
from .batches import cancel_batch, create_batch, get_batch, list_batches
from .edits_json import create_edit_any
from .faults import FAULT_ENV, Faults, parse_faults
from .files import delete_file, get_file, get_file_content, list_files, upload_file
from .generations import create_generation
from .models import get_model, list_models
from .moderations import create_moderation
from .protocol import APIError, api_error, new_request_id
from .responses import cancel_response, create_response, delete_response, get_response, list_input_items
from .workload import RenderGate

__all__ = ["ROUTES", "api_route", "RequestIdMiddleware", "create_app"]

REQUEST_LOG_SIZE = 2000      # requests kept in the log
REQUEST_LOG_BODY = 4096      # bytes of each body kept


def api_route(path: str, handler: Callable[[Request], Awaitable[Response]], methods: list[str]) -> Route:
    """A Route whose handler may raise APIError (turned into the OpenAI error body)."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except APIError as exc:
            return exc.response()
        except Exception as exc:  # noqa: BLE001 - answer like the API, with a request id
            return await _server_error(request, exc)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return Route(path, endpoint, methods=methods)


ROUTES: list[tuple[str, Any, list[str]]] = [
    ("/v1/models", list_models, ["GET"]),
    ("/v1/images/generations", create_generation, ["POST"]),
    ("/v1/images/edits", create_edit_any, ["POST"]),
    ("/v1/responses", create_response, ["POST"]),
    ("/v1/responses/{response_id}", get_response, ["GET"]),
    ("/v1/responses/{response_id}/cancel", cancel_response, ["POST"]),
    ("/v1/files", upload_file, ["POST"]),
    ("/v1/files/{file_id}", get_file, ["GET"]),
    ("/v1/files/{file_id}", delete_file, ["DELETE"]),
    ("/v1/files/{file_id}/content", get_file_content, ["GET"]),
    ("/v1/models/{model}", get_model, ["GET"]),
    ("/v1/files", list_files, ["GET"]),
    ("/v1/responses/{response_id}", delete_response, ["DELETE"]),
    ("/v1/responses/{response_id}/input_items", list_input_items, ["GET"]),
    ("/v1/moderations", create_moderation, ["POST"]),
    ("/v1/batches", create_batch, ["POST"]),
    ("/v1/batches", list_batches, ["GET"]),
    ("/v1/batches/{batch_id}", get_batch, ["GET"]),
    ("/v1/batches/{batch_id}/cancel", cancel_batch, ["POST"]),
]


class RequestIdMiddleware:
    """Adds ``x-request-id: req_<hex>`` to every HTTP response (JSON, errors and streams alike)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id().encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


@dataclass(frozen=True)
class Sent:
    """One request as the server received it: method, path and the start of its body."""

    method: str
    path: str
    body: bytes


class RequestLogMiddleware:
    """Keeps the newest ``REQUEST_LOG_SIZE`` requests in ``app.state.requests`` (``Sent``): what was sent, and how
    often (a test checks a run was sent once)."""

    def __init__(self, app: ASGIApp, log: deque[Sent]) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = bytearray()
        logged = scope["method"] in ("GET", "HEAD", "DELETE")  # no body to wait for: logged as it arrives
        if logged:
            self.log.append(Sent(scope["method"], scope["path"], b""))

        async def reading() -> Message:
            nonlocal logged
            message = await receive()
            if message["type"] == "http.request" and not logged:
                if len(head) < REQUEST_LOG_BODY:
                    head.extend(message.get("body", b"")[:REQUEST_LOG_BODY - len(head)])
                if not message.get("more_body"):
                    logged = True
                    self.log.append(Sent(scope["method"], scope["path"], bytes(head)))
            return message

        await self.app(scope, reading, send)


async def _http_exception(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # registered for HTTPException only; Starlette types handlers loosely
        raise exc
    if exc.status_code == 404:
        return api_error(404, f"Invalid URL ({request.method} {request.url.path})")
    if exc.status_code == 405:
        return api_error(405, f"Invalid method for URL ({request.method} {request.url.path})")
    return api_error(exc.status_code, str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    return api_error(500, f"The offline server failed: {type(exc).__name__}: {exc}", type="server_error")


def create_app(faults: str | Faults | None = None, extra_routes: Iterable[tuple[str, Any, list[str]]] = (),
               token: str | None = None, batch_pace: float | None = None, render_workers: int | None = None,
               render_queue: int | None = None) -> Starlette:
    """The Starlette app. ``faults`` (or env IMAGELAB_OFFLINE_FAULT) applies to every request; every
    request needs an API key: ``token``, or any non-empty key when ``token`` is None. ``batch_pace``:
    seconds a batch spends on each line (else env IMAGELAB_OFFLINE_BATCH_PACE, see ``batches``). ``render_workers``
    and ``render_queue``: how many pictures are drawn at once and how many requests wait (see ``workload``)."""
    if faults is None:
        faults = os.environ.get(FAULT_ENV)
    routes = [api_route(p, h, m) for p, h, m in [*ROUTES, *extra_routes]]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_exception})
    app.state.faults = faults if isinstance(faults, Faults) else parse_faults(faults)
    app.state.batch_pace = batch_pace
    app.state.render_gate = RenderGate(render_workers, render_queue)
    app.state.requests = deque(maxlen=REQUEST_LOG_SIZE)
    app.add_middleware(RequestLogMiddleware, log=app.state.requests)
    app.add_middleware(AuthMiddleware, token=token)
    app.add_middleware(RequestIdMiddleware)  # outermost: a 401 carries a request id too
    return app
