"""The offline backend: an OpenAI-compatible HTTP server (Starlette) that synthesises pictures.

Endpoints (under ``/v1``):

- ``GET /v1/models`` – the catalog's current models.
- ``POST /v1/images/generations`` – JSON body, validated like the real API; answers with the
  real ``ImagesResponse`` shape, or server-sent events when ``stream`` is true.
- ``POST /v1/images/edits`` – multipart form (``image`` / ``image[]`` 1–16 files, ``mask`` or
  ``markup``, ``input_fidelity`` and the same output options); see ``edits.py`` for the
  deterministic picture rules (mask: only alpha 0 is repainted, the rest is kept pixel-exact;
  no mask: the references laid out as tiles on a synthetic background; a prompt asking for a
  "black and white" "mask" gets a white ellipse on black). Usage counts input image tokens.
- ``POST /v1/responses`` (JSON; the ``image_generation`` tool, ``previous_response_id``,
  image_generation_call references, ``input_image_mask``, streaming) and ``GET
  /v1/responses/{id}``; ``POST /v1/files``, ``GET /v1/files/{id}``, ``GET
  /v1/files/{id}/content``, ``DELETE /v1/files/{id}`` (in memory) – see ``responses.py``.

Output-option validation (n, size, quality, format, background, compression, moderation,
complexity, stream, partial_images) is one function, ``validate_output_options``, used by both
endpoints; streaming and JSON bodies come from ``image_events`` / ``images_response``.

Moderation triggers (documented, deterministic):

- a prompt containing ``forbidden-output`` → 400 ``moderation_blocked`` with
  ``moderation_details.moderation_stage == "output"``;
- otherwise a prompt containing ``forbidden`` → the same with ``moderation_stage == "input"``.

Fault injection: request header ``x-imagelab-fault`` (or, for the whole server,
``create_app(faults=...)`` / ``start_server(faults=...)`` / env ``IMAGELAB_OFFLINE_FAULT``)
holds a comma-separated list of:

- ``latency:<seconds>`` – sleep before answering;
- ``429`` – rate limit (``retry-after: 1``, code ``rate_limit_exceeded``);
- ``500`` – server error;
- ``401`` – invalid API key;
- ``403`` – "Your organization must be verified …";
- ``cut-stream`` – a stream closes after the first partial image, without a completed event;
- ``cut-after:<k>`` – a stream closes after ``k`` finished images;
- ``corrupt:<i>`` – image ``i`` is sent as base64 of bytes that are not an image.

Every response carries ``x-request-id: req_<hex>``.

To add an endpoint: write ``async def handler(request) -> Response`` using ``read_json``,
``api_error`` / ``APIError``, ``apply_faults`` and ``usage_body``, then add a ``Route`` in
``ROUTES`` (or pass ``extra_routes`` to ``create_app``).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Iterable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from imagelab import costs
from imagelab.catalog import ModelInfo, catalog, current_models, model_info, parse_size, shape_of
from imagelab.costs import text_tokens

from . import render

__all__ = [
    "APIError",
    "Faults",
    "parse_faults",
    "create_app",
    "error_body",
    "api_error",
    "usage_body",
    "output_tokens_per_image",
    "text_tokens",
    "FAULT_HEADER",
    "FAULT_ENV",
    "OWNER",
]

FAULT_HEADER = "x-imagelab-fault"
FAULT_ENV = "IMAGELAB_OFFLINE_FAULT"
OWNER = "imagelab-offline"
CREATED = 1_700_000_000  # a fixed "created" for /v1/models

STANDARD_SIZE = {"square": (1024, 1024), "landscape": (1536, 1024), "portrait": (1024, 1536)}


# --------------------------------------------------------------------------- errors


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


def _quote_list(values: Iterable[str]) -> str:
    vals = [f"'{v}'" for v in values]
    if len(vals) <= 1:
        return "".join(vals)
    if len(vals) == 2:
        return f"{vals[0]} and {vals[1]}"
    return ", ".join(vals[:-1]) + f", and {vals[-1]}"


def invalid_value(param: str, value: Any, supported: Iterable[str]) -> APIError:
    return APIError(400, f"Invalid value: '{value}'. Supported values are: {_quote_list(supported)}.",
                    param=param, code="invalid_value")


# --------------------------------------------------------------------------- faults


@dataclass
class Faults:
    latency: float = 0.0
    status: int | None = None  # 401, 403, 429, 500
    cut_stream: bool = False
    cut_after: int | None = None  # close the stream after this many finished images
    corrupt: set[int] = field(default_factory=set)  # indexes of images sent as bytes that are not an image
    unknown: list[str] = field(default_factory=list)

    def merged(self, other: "Faults") -> "Faults":
        cut_after = other.cut_after if other.cut_after is not None else self.cut_after
        return Faults(latency=self.latency + other.latency, status=other.status or self.status,
                      cut_stream=self.cut_stream or other.cut_stream, cut_after=cut_after,
                      corrupt=self.corrupt | other.corrupt, unknown=self.unknown + other.unknown)

    def image_b64(self, index: int, data: bytes) -> str:
        """The image as sent: base64 of its bytes, or of a text that is no image when told to corrupt it."""
        return _b64(b"this is not an image" if index in self.corrupt else data)


def parse_faults(spec: str | None) -> Faults:
    """``"latency:0.5,429"`` → Faults(latency=0.5, status=429). Unknown items are kept in ``unknown``."""
    faults = Faults()
    for item in (spec or "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        if item.startswith("latency"):
            _, _, secs = item.partition(":")
            try:
                faults.latency += max(0.0, float(secs or "1"))
            except ValueError:
                faults.unknown.append(item)
        elif item in ("401", "403", "429", "500"):
            faults.status = int(item)
        elif item in ("cut-stream", "cut_stream", "cutstream"):
            faults.cut_stream = True
        elif item.startswith(("cut-after:", "corrupt:")):
            name, _, number = item.partition(":")
            if not number.isdigit():
                faults.unknown.append(item)
            elif name == "cut-after":
                faults.cut_after = int(number)
            else:
                faults.corrupt.add(int(number))
        else:
            faults.unknown.append(item)
    return faults


def fault_response(status: int, model: str | None = None) -> JSONResponse:
    if status == 429:
        return api_error(429, "Rate limit reached for images per minute (offline fault injection). "
                              "Please try again in 1s.", type="requests", code="rate_limit_exceeded",
                         headers={"retry-after": "1"})
    if status == 401:
        return api_error(401, "Incorrect API key provided: sk-***. You can find your API key at "
                              "https://platform.openai.com/account/api-keys.", code="invalid_api_key")
    if status == 403:
        return api_error(403, f"Your organization must be verified to use the model `{model or catalog().default_model}`. "
                              "Please go to: https://platform.openai.com/settings/organization/general and click on "
                              "Verify Organization. If you just verified, it can take up to 15 minutes for access "
                              "to propagate.")
    return api_error(500, "The server had an error while processing your request. Sorry about that!",
                     type="server_error")


def request_faults(request: Request) -> Faults:
    server = getattr(request.app.state, "faults", None) or Faults()
    return server.merged(parse_faults(request.headers.get(FAULT_HEADER)))


async def apply_faults(request: Request, model: str | None = None) -> tuple[Response | None, Faults]:
    """Sleep for any injected latency; return (error response or None, the faults in force)."""
    faults = request_faults(request)
    if faults.latency:
        await asyncio.sleep(faults.latency)
    if faults.status:
        return fault_response(faults.status, model), faults
    return None, faults


# --------------------------------------------------------------------------- usage


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


# --------------------------------------------------------------------------- request helpers


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise APIError(400, "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                            "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                            "sent was not valid JSON.)")
    if not isinstance(body, dict):
        raise APIError(400, "Invalid type for request body: expected an object.", code="invalid_type")
    return body


def _int_param(body: dict, name: str, lo: int, hi: int, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise APIError(400, f"Invalid type for '{name}': expected an integer, but got "
                                f"{type(value).__name__} instead.", param=name, code="invalid_type")
    if value < lo:
        raise APIError(400, f"Invalid '{name}': integer below minimum value. Expected a value >= {lo}, "
                            f"but got {value} instead.", param=name, code="integer_below_min_value")
    if value > hi:
        raise APIError(400, f"Invalid '{name}': integer above maximum value. Expected a value <= {hi}, "
                            f"but got {value} instead.", param=name, code="integer_above_max_value")
    return value


def _str_param(body: dict, name: str, default: str | None) -> str | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise APIError(400, f"Invalid type for '{name}': expected a string, but got {type(value).__name__} instead.",
                       param=name, code="invalid_type")
    return value


def resolve_model(body: dict) -> ModelInfo:
    name = _str_param(body, "model", catalog().default_model) or catalog().default_model
    info = model_info(name)
    if info is None:
        raise APIError(404, f"The model `{name}` does not exist or you do not have access to it.",
                       param="model", code="model_not_found")
    if info.retired:
        raise APIError(404, f"The model `{name}` does not exist or you do not have access to it. "
                            f"{info.retirement_sentence()}", param="model", code="model_not_found")
    return info


def custom_size_problem(width: int, height: int) -> str | None:
    rules = catalog().limits["custom_size"]
    m = rules["multiple"]
    if width % m or height % m:
        return f"both sides must be multiples of {m}"
    long, short = max(width, height), min(width, height)
    if long > rules["max_long_edge"] or short > rules["max_short_edge"]:
        return f"the size must fit within {rules['max_long_edge']}x{rules['max_short_edge']}"
    if long / short > rules["max_ratio"]:
        return f"the aspect ratio must be between 1:{rules['max_ratio']:g} and {rules['max_ratio']:g}:1"
    px = width * height
    if px < rules["min_pixels"] or px > rules["max_pixels"]:
        return f"the total must be between {rules['min_pixels']:,} and {rules['max_pixels']:,} pixels"
    return None


def resolve_size(info: ModelInfo, size: str | None) -> tuple[int, int]:
    size = size or "auto"
    fixed = sorted(s for s in info.sizes if s != "auto")
    listed = fixed + (["auto"] if "auto" in info.sizes else [])
    if size == "auto" and "auto" in info.sizes:
        return 1024, 1024
    if size in fixed:
        return parse_size(size)  # type: ignore[return-value]
    dims = parse_size(size)
    if info.custom_sizes:
        problem = "it is not of the form WIDTHxHEIGHT" if dims is None else custom_size_problem(*dims)
        if problem is None:
            return dims  # type: ignore[return-value]
        rules = catalog().limits["custom_size"]
        raise APIError(400, f"Invalid value: '{size}'. Supported values are: {', '.join(repr(v) for v in listed)}, or a custom "
                            f"'WIDTHxHEIGHT' where both sides are multiples of {rules['multiple']}, the size fits "
                            f"within {rules['max_long_edge']}x{rules['max_short_edge']}, the aspect ratio is between "
                            f"1:{rules['max_ratio']:g} and {rules['max_ratio']:g}:1 and the total is between "
                            f"{rules['min_pixels']:,} and {rules['max_pixels']:,} pixels; here {problem}.",
                       param="size", code="invalid_value")
    raise invalid_value("size", size, listed)


# --------------------------------------------------------------------------- /v1/models


async def list_models(request: Request) -> Response:
    err, _ = await apply_faults(request)
    if err:
        return err
    data = [{"id": name, "object": "model", "created": CREATED, "owned_by": OWNER} for name in current_models()]
    return JSONResponse({"object": "list", "data": data})


# --------------------------------------------------------------------------- /v1/images/generations

GENERATION_PARAMS = {
    "prompt", "background", "complexity", "frame_count", "frame_duration_ms", "model", "moderation", "n",
    "output_compression", "output_format", "partial_images", "quality", "safety_identifier", "size", "stream",
    "svg", "user",
}


@dataclass
class GenerationSpec:
    model: ModelInfo
    prompt: str
    n: int
    width: int
    height: int
    quality: str  # resolved (never "auto")
    output_format: str
    background: str  # resolved: "opaque" or "transparent"
    compression: int | None
    stream: bool
    partial_images: int

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def check_prompt(body: dict) -> str:
    if "prompt" not in body or body["prompt"] is None:
        raise APIError(400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    prompt = _str_param(body, "prompt", "") or ""
    limit = catalog().limits["prompt_chars"]
    if not prompt.strip():
        raise APIError(400, "Invalid 'prompt': string too short. Expected a string with minimum length 1, "
                            "but got an empty string instead.", param="prompt", code="empty_string")
    if len(prompt) > limit:
        raise APIError(400, f"Invalid 'prompt': string too long. Expected a string with maximum length {limit}, "
                            f"but got a string with length {len(prompt)} instead.",
                       param="prompt", code="string_above_max_length")
    return prompt


def check_moderation(prompt: str) -> None:
    low = prompt.lower()
    stage = "output" if "forbidden-output" in low else "input" if "forbidden" in low else None
    if stage:
        raise APIError(400, "Your request was rejected by the safety system. If you believe this is an error, "
                            "contact us at help.openai.com and include the request ID. (offline trigger word: "
                            "'forbidden')", type="image_generation_user_error", code="moderation_blocked",
                       moderation_details={"moderation_stage": stage})


def validate_output_options(body: dict, info: ModelInfo, prompt: str, *,
                            auto_size: tuple[int, int] | None = None) -> GenerationSpec:
    """The output options shared by generations and edits: n, size, quality, output_format,
    background, output_compression, moderation, complexity, stream and partial_images.

    ``body`` holds typed values (edits convert their form strings first). ``auto_size`` is what
    ``size`` absent / ``"auto"`` means (edits: from the first input image); default 1024x1024.
    """
    limits = catalog().limits
    n = _int_param(body, "n", limits["n"][0], limits["n"][1], 1)
    size = _str_param(body, "size", "auto") or "auto"
    if size == "auto" and auto_size is not None and "auto" in info.sizes:
        width, height = auto_size
    else:
        width, height = resolve_size(info, size)

    quality = _str_param(body, "quality", "auto") or "auto"
    if quality not in info.qualities:
        raise invalid_value("quality", quality, [q for q in info.qualities if q != "auto"] + ["auto"])
    if quality == "auto":
        quality = catalog().raw.get("auto_quality_estimated_as", "high")

    fmt = _str_param(body, "output_format", "png") or "png"
    if fmt not in info.formats:
        if fmt in info.preview_formats:
            raise APIError(400, f"The offline backend does not render '{fmt}' output; use one of "
                                f"{_quote_list(info.formats)}.", param="output_format", code="invalid_value")
        raise invalid_value("output_format", fmt, info.formats)

    background = _str_param(body, "background", "auto") or "auto"
    if background not in ("auto", "opaque", "transparent"):
        raise invalid_value("background", background, ["transparent", "opaque", "auto"])
    if background == "transparent":
        if "transparent" not in info.backgrounds:
            raise APIError(400, "Transparent background is not supported for this model.", param="background",
                           code="invalid_value")
        if fmt not in ("png", "webp"):
            raise APIError(400, f"Transparent background is not supported for the '{fmt}' output format; "
                                "use 'png' or 'webp'.", param="background", code="invalid_value")

    compression = body.get("output_compression")
    if compression is not None:
        compression = _int_param(body, "output_compression", 0, 100, 100)
        if fmt == "png" and compression < 100:
            raise APIError(400, "Compression less than 100 is not supported for PNG output format.",
                           param="output_compression", code="invalid_value")

    moderation = _str_param(body, "moderation", "auto")
    if moderation not in ("auto", "low"):
        raise invalid_value("moderation", moderation, ["low", "auto"])
    complexity = _str_param(body, "complexity", None)
    if complexity is not None and complexity not in ("low", "medium", "high"):
        raise invalid_value("complexity", complexity, ["low", "medium", "high"])

    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise APIError(400, "Invalid type for 'stream': expected a boolean.", param="stream", code="invalid_type")
    partial_images = _int_param(body, "partial_images", limits["partial_images"][0], limits["partial_images"][1], 0)

    return GenerationSpec(model=info, prompt=prompt, n=n, width=width, height=height, quality=quality,
                          output_format=fmt, background="transparent" if background == "transparent" else "opaque",
                          compression=compression, stream=bool(stream), partial_images=partial_images)


def refuse_unknown(body: Iterable[str], known: set[str]) -> None:
    for key in body:
        if key not in known:
            raise APIError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")


def validate_generation(body: dict) -> GenerationSpec:
    refuse_unknown(body, GENERATION_PARAMS)
    info = resolve_model(body)
    prompt = check_prompt(body)
    spec = validate_output_options(body, info, prompt)
    check_moderation(prompt)
    return spec


def generation_usage(spec: GenerationSpec, images: int, partials_per_image: int,
                     input_image_tokens: int = 0) -> dict[str, Any]:
    per = output_tokens_per_image(spec.model.name, spec.quality, spec.width, spec.height)
    partial_cost = catalog().limits.get("partial_image_tokens", 100)
    out = images * (per + partial_cost * partials_per_image)
    return usage_body(text_tokens(spec.prompt), out, input_image_tokens)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def sse(event_type: str, data: dict[str, Any]) -> bytes:
    return f"event: {event_type}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode("utf-8")


async def image_events(spec: GenerationSpec, faults: Faults, prefix: str,
                       produce, usage: dict[str, Any]) -> AsyncIterator[bytes]:
    """SSE events ``<prefix>.partial_image`` / ``<prefix>.completed`` for ``spec.n`` images.

    ``produce(index) -> (partial images, final image)`` (encoded bytes) runs in a thread;
    ``usage`` goes on every completed event. Faults cut_stream / cut_after / corrupt apply.
    """
    common = {"background": spec.background, "output_format": spec.output_format, "quality": spec.quality,
              "size": spec.size}
    for index in range(spec.n):
        if faults.cut_after is not None and index >= faults.cut_after:
            return
        partials, final = await run_in_threadpool(produce, index)
        for k, data in enumerate(partials):
            yield sse(f"{prefix}.partial_image", {
                "type": f"{prefix}.partial_image", "b64_json": _b64(data), "created_at": int(time.time()),
                "partial_image_index": k, **common})
            if faults.cut_stream:
                return
            await asyncio.sleep(0)
        if faults.cut_stream:
            return
        yield sse(f"{prefix}.completed", {
            "type": f"{prefix}.completed", "b64_json": faults.image_b64(index, final),
            "created_at": int(time.time()), **common, "usage": usage})


def event_stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(events, media_type="text/event-stream", headers={"cache-control": "no-cache"})


def images_response(spec: GenerationSpec, faults: Faults, images: list[bytes], usage: dict[str, Any]) -> JSONResponse:
    """The ``ImagesResponse`` JSON body (faults.corrupt applies)."""
    return JSONResponse({
        "created": int(time.time()),
        "data": [{"b64_json": faults.image_b64(i, b), "revised_prompt": None} for i, b in enumerate(images)],
        "background": spec.background,
        "output_format": spec.output_format,
        "quality": spec.quality,
        "size": spec.size,
        "usage": usage,
    })


def generation_events(spec: GenerationSpec, faults: Faults) -> AsyncIterator[bytes]:
    def produce(index: int) -> tuple[list[bytes], bytes]:
        return render.render_partials(spec.prompt, spec.width, spec.height, spec.partial_images,
                                      output_format=spec.output_format, quality=spec.quality, index=index,
                                      transparent=spec.background == "transparent", compression=spec.compression)

    return image_events(spec, faults, "image_generation", produce, generation_usage(spec, 1, spec.partial_images))


async def create_generation(request: Request) -> Response:
    body = await read_json(request)
    model = body.get("model") if isinstance(body.get("model"), str) else None
    err, faults = await apply_faults(request, model)
    if err:
        return err
    spec = validate_generation(body)
    if spec.stream:
        return event_stream(generation_events(spec, faults))

    def work() -> list[bytes]:
        return [render.render(spec.prompt, spec.width, spec.height, output_format=spec.output_format,
                              quality=spec.quality, index=i, transparent=spec.background == "transparent",
                              compression=spec.compression) for i in range(spec.n)]

    images = await run_in_threadpool(work)
    return images_response(spec, faults, images, generation_usage(spec, spec.n, 0))


# --------------------------------------------------------------------------- app


def api_route(path: str, handler, methods: list[str]) -> Route:
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


async def create_edit(request: Request) -> Response:
    from .edits import create_edit as handler  # imported late: edits.py builds on this module

    return await handler(request)


def _late(name: str):
    """A handler from ``responses.py``, imported late (it builds on this module)."""

    async def handler(request: Request) -> Response:
        from . import responses

        return await getattr(responses, name)(request)

    handler.__name__ = name
    return handler


ROUTES: list[tuple[str, Any, list[str]]] = [
    ("/v1/models", list_models, ["GET"]),
    ("/v1/images/generations", create_generation, ["POST"]),
    ("/v1/images/edits", create_edit, ["POST"]),
    ("/v1/responses", _late("create_response"), ["POST"]),
    ("/v1/responses/{response_id}", _late("get_response"), ["GET"]),
    ("/v1/files", _late("upload_file"), ["POST"]),
    ("/v1/files/{file_id}", _late("get_file"), ["GET"]),
    ("/v1/files/{file_id}", _late("delete_file"), ["DELETE"]),
    ("/v1/files/{file_id}/content", _late("get_file_content"), ["GET"]),
]


class RequestIdMiddleware:
    """Adds ``x-request-id: req_<hex>`` to every HTTP response (JSON, errors and streams alike)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id().encode()

        async def send_with_id(message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


async def _http_exception(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return api_error(404, f"Invalid URL ({request.method} {request.url.path})")
    if exc.status_code == 405:
        return api_error(405, f"Invalid method for URL ({request.method} {request.url.path})")
    return api_error(exc.status_code, str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    return api_error(500, f"The offline server failed: {type(exc).__name__}: {exc}", type="server_error")


def create_app(faults: str | Faults | None = None, extra_routes: Iterable[tuple[str, Any, list[str]]] = ()) -> Starlette:
    """The Starlette app. ``faults`` (or env IMAGELAB_OFFLINE_FAULT) applies to every request."""
    if faults is None:
        faults = os.environ.get(FAULT_ENV)
    routes = [api_route(p, h, m) for p, h, m in [*ROUTES, *extra_routes]]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_exception})
    app.state.faults = faults if isinstance(faults, Faults) else parse_faults(faults)
    app.add_middleware(RequestIdMiddleware)
    return app
