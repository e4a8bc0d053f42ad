"""The OpenAI wire conventions every offline endpoint shares: request ids, error bodies and usage.

Owns ``new_request_id`` (``req_<hex>``), the real API's error body (``error_body``) and the
exception a handler raises to answer with one (``APIError``, ``api_error``, ``invalid_value``
with ``quote_list`` for its "Supported values are" sentence), the JSON request body reader
(``read_json``), base64 text for image bytes (``b64``) and the images usage body
(``usage_body``, ``output_tokens_per_image``). It imports nothing else from the package.

Request bodies: ``media_type`` and ``unsupported_content_type`` (the API's 400 for a body sent
with a content type the endpoint does not take), ``read_body`` (the body, refused with 413 by
``body_too_large`` past a byte cap — by ``Content-Length`` before anything is read, else by
counting a chunked body as it arrives) and ``read_json`` (``application/json`` only, at most
``MAX_JSON_BYTES`` unless the endpoint says otherwise).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from imagelab import costs

__all__ = [
    "new_request_id",
    "error_body",
    "APIError",
    "api_error",
    "quote_list",
    "invalid_value",
    "MAX_JSON_BYTES",
    "JSON",
    "media_type",
    "unsupported_content_type",
    "body_too_large",
    "closing",
    "read_body",
    "parse_json_object",
    "read_json",
    "b64",
    "output_tokens_per_image",
    "usage_body",
]


def new_request_id() -> str:
    return "req_" + secrets.token_hex(16)


def error_body(message: str, *, type: str = "invalid_request_error", param: str | None = None,
               code: str | None = None, **extra: Any) -> dict[str, Any]:
    """The real API's error body: ``{"error": {"message", "type", "param", "code", ...}}``."""
    err: dict[str, Any] = {"message": message, "type": type, "param": param, "code": code}
    err.update(extra)
    return {"error": err}


class APIError(Exception):
    """Raise inside a handler; the route wrapper turns it into an OpenAI-style error response."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, type=self.type, param=self.param, code=self.code, **self.extra),
                            status_code=self.status, headers=self.headers)


def api_error(status: int, message: str, **kw: Any) -> JSONResponse:
    return APIError(status, message, **kw).response()


def quote_list(values: Iterable[str]) -> str:
    vals = [f"'{v}'" for v in values]
    if len(vals) <= 1:
        return "".join(vals)
    if len(vals) == 2:
        return f"{vals[0]} and {vals[1]}"
    return ", ".join(vals[:-1]) + f", and {vals[-1]}"


def invalid_value(param: str, value: Any, supported: Iterable[str]) -> APIError:
    return APIError(400, f"Invalid value: '{value}'. Supported values are: {quote_list(supported)}.",
                    param=param, code="invalid_value")


# A JSON body holds a prompt of at most 32,000 characters and a few options: 4 MB is plenty.
MAX_JSON_BYTES = 4 * 1024 * 1024
JSON = "application/json"


def media_type(request: Request) -> str:
    """The request's ``Content-Type`` without parameters, lower case ("" when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def unsupported_content_type(request: Request, accepted: Sequence[str]) -> APIError:
    """The API's answer to a body sent with a content type this endpoint does not take."""
    sent = request.headers.get("content-type", "").split(";")[0].strip()
    kinds = " and ".join(f"'{a}'" for a in accepted)
    return APIError(400, f"Unsupported content type: '{sent}'. This API method only accepts {kinds} requests, "
                         f"but you specified the header 'Content-Type: {sent}'. Please try again with a "
                         "supported content type.", code="unsupported_content_type")


def body_too_large(max_bytes: int, what: str = "Request body") -> APIError:
    return APIError(413, f"{what} too large: the maximum is {max_bytes:,} bytes. Send a smaller request.",
                    code="request_too_large")


def closing(refusal: APIError) -> APIError:
    """``refusal`` with ``Connection: close``: the server stops reading, so the client stops sending
    the rest of a body nobody will read."""
    refusal.headers.setdefault("connection", "close")
    return refusal


# A body this far over the cap is read to its end (and dropped) before the refusal, so a client that
# is still sending can read the 413; a body further over is cut off at once.
DRAIN_BYTES = 16 * 1024 * 1024


async def _drain(chunks: AsyncIterator[bytes], limit: int) -> None:
    """Read and drop up to ``limit`` more bytes of the body; nothing is kept."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            return


async def read_body(request: Request, max_bytes: int, too_large: APIError | None = None) -> bytes:
    """The whole body, or ``too_large`` (413) once it passes ``max_bytes``: from the
    ``Content-Length`` header before keeping anything, else after at most ``max_bytes`` + one chunk."""
    refusal = closing(too_large or body_too_large(max_bytes))
    length = request.headers.get("content-length", "")
    stream = request.stream()
    if length.isdigit() and int(length) > max_bytes:
        if int(length) <= max_bytes + DRAIN_BYTES:
            await _drain(stream, int(length))
        raise refusal
    chunks: list[bytes] = []
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > max_bytes:
            await _drain(stream, DRAIN_BYTES)
            raise refusal
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object, or the API's 400 for a body that is not JSON / not an object."""
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise APIError(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                            "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                            "sent was not valid JSON.)") from None
    if not isinstance(body, dict):
        raise APIError(400, "Invalid type for request body: expected an object.", code="invalid_type")
    return body


async def read_json(request: Request, max_bytes: int | None = None) -> dict[str, Any]:
    """The request's JSON object. Refuses a body sent as anything but ``application/json`` (400), one
    larger than ``max_bytes`` (default ``MAX_JSON_BYTES``; 413, unread) and one that is not a JSON object."""
    ctype = media_type(request)
    if ctype and ctype != JSON:
        raise unsupported_content_type(request, [JSON])
    return parse_json_object(await read_body(request, MAX_JSON_BYTES if max_bytes is None else max_bytes))


def b64(data: bytes) -> str:
    """``data`` as base64 text (how images travel in JSON bodies and events)."""
    return base64.b64encode(data).decode("ascii")


def output_tokens_per_image(model: str, quality: str, width: int, height: int) -> int:
    """Per-image output tokens, from the same catalog figures the app's estimate uses."""
    return costs.output_tokens_per_image(model, quality, f"{width}x{height}")[0]


def usage_body(input_text_tokens: int, output_image_tokens: int, input_image_tokens: int = 0) -> dict[str, Any]:
    inp = input_text_tokens + input_image_tokens
    return {
        "input_tokens": inp,
        "input_tokens_details": {"text_tokens": input_text_tokens, "image_tokens": input_image_tokens},
        "output_tokens": output_image_tokens,
        "output_tokens_details": {"image_tokens": output_image_tokens, "text_tokens": 0},
        "total_tokens": inp + output_image_tokens,
    }
