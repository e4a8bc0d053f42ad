"""The one module that talks to the ``openai`` SDK.

A run is a stream of events — ``PartialImage``, ``FinalImage``, ``UsageReport``, ``Failed`` —
whatever the backend (OpenAI, the offline backend, or any compatible base URL).

SDK exceptions are translated into a small tree, each with a sentence a designer
understands, the API's own message and the request id::

    ImageLabError
     ├── BadKey               401: the key was refused
     ├── NotVerified          403: the organization must be verified for this model
     ├── AccessDenied         403: any other refusal
     ├── ModerationBlocked    400 moderation_blocked, at the input or output stage
     ├── InvalidRequest       400/404/422: names the parameter
     ├── RateLimited          429 (or out of quota)
     ├── ServerError          5xx
     ├── RequestTimedOut      no answer in time
     ├── ConnectionFailed     the base URL could not be reached
     ├── StreamCut            the stream ended before the image was finished
     └── NotAnImage           the server answered with bytes that are not an image
"""

from __future__ import annotations

import base64
import binascii
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import openai
from PIL import Image

__all__ = [
    "Connection", "make_client", "generate", "edit", "run_images", "respond", "TurnReply", "upload_files",
    "PartialImage", "FinalImage", "UsageReport", "Failed", "Event",
    "ImageLabError", "BadKey", "NotVerified", "AccessDenied", "ModerationBlocked", "InvalidRequest",
    "RateLimited", "ServerError", "RequestTimedOut", "ConnectionFailed", "StreamCut", "NotAnImage",
    "translate_error", "check_image_bytes", "DEFAULT_TIMEOUT", "DEFAULT_RETRIES",
]

# Generation can take over two minutes; a shorter timeout would throw away paid results.
DEFAULT_TIMEOUT = 600.0
MIN_TIMEOUT = 300.0
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class Connection:
    """Where requests go. The key is held only in memory; ``__repr__`` never shows it."""

    base_url: str | None
    api_key: str = field(repr=False)
    label: str = "OpenAI"
    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES


def make_client(conn: Connection) -> openai.OpenAI:
    return openai.OpenAI(api_key=conn.api_key, base_url=conn.base_url,
                         timeout=conn.timeout if conn.offline else max(conn.timeout, MIN_TIMEOUT),
                         max_retries=conn.max_retries)


# --- errors -------------------------------------------------------------------------------

class ImageLabError(Exception):
    """A failed request, said plainly, with what the API itself said beneath."""

    kind = "error"

    def __init__(self, sentence: str, *, api_message: str | None = None, request_id: str | None = None,
                 status: int | None = None, code: str | None = None, param: str | None = None) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.api_message = api_message
        self.request_id = request_id
        self.status = status
        self.code = code
        self.param = param

    def details(self) -> str:
        parts = []
        if self.api_message and self.api_message != self.sentence:
            parts.append(f"API said: {self.api_message}")
        if self.status:
            parts.append(f"status {self.status}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return " · ".join(parts)


class BadKey(ImageLabError):
    kind = "bad_key"


class NotVerified(ImageLabError):
    kind = "not_verified"


class AccessDenied(ImageLabError):
    kind = "access_denied"


class ModerationBlocked(ImageLabError):
    kind = "moderation"

    def __init__(self, sentence: str, *, stage: str | None = None, **kw: Any) -> None:
        super().__init__(sentence, **kw)
        self.stage = stage


class InvalidRequest(ImageLabError):
    kind = "invalid_request"


class RateLimited(ImageLabError):
    kind = "rate_limited"


class ServerError(ImageLabError):
    kind = "server_error"


class RequestTimedOut(ImageLabError):
    kind = "timeout"


class ConnectionFailed(ImageLabError):
    kind = "connection"


class StreamCut(ImageLabError):
    kind = "stream_cut"


class NotAnImage(ImageLabError):
    kind = "not_an_image"


def _body_error(body: object) -> dict[str, Any]:
    if isinstance(body, dict):
        inner = body.get("error", body)
        return inner if isinstance(inner, dict) else {}
    return {}


def translate_error(exc: BaseException, *, base_url: str | None = None, model: str | None = None) -> ImageLabError:
    """Turn an SDK exception into an ``ImageLabError`` with a sentence for a designer."""
    if isinstance(exc, ImageLabError):
        return exc
    where = base_url or "the OpenAI API"
    if isinstance(exc, openai.APITimeoutError):
        return RequestTimedOut(f"{where} did not answer in time. The request may still finish on the server; "
                               "try again, or raise the timeout in the sidebar.", api_message=str(exc))
    if isinstance(exc, openai.APIConnectionError):
        return ConnectionFailed(f"Could not reach {where}. Check the base URL in the sidebar and your network connection.",
                                api_message=str(exc))
    if not isinstance(exc, openai.APIError):
        return ImageLabError(f"Something unexpected went wrong: {exc}", api_message=repr(exc))
    body = _body_error(exc.body)
    message = body.get("message") or exc.message
    kw = dict(api_message=message, request_id=getattr(exc, "request_id", None),
              status=getattr(exc, "status_code", None), code=exc.code, param=exc.param)
    status = kw["status"]
    if exc.code == "moderation_blocked" or body.get("type") == "image_generation_user_error" and "safety" in (message or ""):
        stage = (body.get("moderation_details") or {}).get("moderation_stage")
        if stage == "output":
            sentence = ("The safety system withheld the finished image. Change the prompt or inputs and try again; "
                        "setting moderation to 'low' may help for legitimate work.")
        else:
            sentence = ("The safety system rejected this request before making anything. "
                        "Rephrase the prompt or change the inputs and try again.")
        return ModerationBlocked(sentence, stage=stage, **kw)
    if isinstance(exc, openai.AuthenticationError) or status == 401:
        return BadKey("The API key was refused. Check the key in the sidebar, OPENAI_API_KEY or your secrets.", **kw)
    if isinstance(exc, openai.PermissionDeniedError) or status == 403:
        if "verif" in (message or "").lower():
            name = f" {model}" if model else " this model"
            return NotVerified(f"Your OpenAI organization must be verified before it can use{name}. Verify it under "
                               "Settings → Organization → General on platform.openai.com; access can take up to "
                               "15 minutes to arrive.", **kw)
        return AccessDenied("This key is not allowed to make that request. Check the project's permissions for the model.", **kw)
    if isinstance(exc, openai.RateLimitError) or status == 429:
        if exc.code == "insufficient_quota":
            return RateLimited("Your OpenAI account is out of credit. Add credit in the billing settings, then try again.", **kw)
        retry = None
        response = getattr(exc, "response", None)
        if response is not None:
            retry = response.headers.get("retry-after")
        wait = f"wait {retry} s" if retry else "wait a moment"
        return RateLimited(f"Too many requests for now; {wait} and try again.", **kw)
    if status is not None and status >= 500:
        return ServerError("The image service had a problem on its side. Nothing was lost here; try again in a moment.", **kw)
    if status in (400, 404, 422) or isinstance(exc, openai.BadRequestError):
        param = exc.param or body.get("param")
        if param:
            return InvalidRequest(f"The API refused the '{param}' setting: {message}", **kw)
        return InvalidRequest(f"The API refused the request: {message}", **kw)
    return ImageLabError(f"The request failed: {message}", **kw)


# --- events -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PartialImage:
    image_index: int
    partial_index: int
    data: bytes
    output_format: str


@dataclass(frozen=True)
class FinalImage:
    image_index: int
    data: bytes
    output_format: str
    width: int | None
    height: int | None
    revised_prompt: str | None = None


@dataclass(frozen=True)
class UsageReport:
    usage: dict[str, Any] | None
    request_id: str | None
    seconds: float


@dataclass(frozen=True)
class Failed:
    error: ImageLabError
    image_index: int | None = None


@dataclass(frozen=True)
class TurnReply:
    """What a conversation turn answered besides its image: ids to continue from, and its words."""

    response_id: str | None
    text: str
    image_call_id: str | None
    revised_prompt: str | None


Event = PartialImage | FinalImage | UsageReport | Failed | TurnReply

_MIME_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif", "MPO": "jpeg"}


def check_image_bytes(data: bytes, expected_format: str | None = None) -> tuple[str, int | None, int | None]:
    """(format, width, height) of the bytes, or raise ``NotAnImage``. Never decodes the whole picture."""
    head = data[:256].lstrip()
    if expected_format == "svg" or head.startswith((b"<svg", b"<?xml")):
        if b"<svg" in data[:4096]:
            return "svg", None, None
        raise NotAnImage("The server sent SVG output that is not an SVG document; nothing was saved.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = _MIME_FORMATS.get(img.format or "", None)
            size = img.size
            img.verify()
    except Exception as exc:  # Pillow raises many types for bad bytes
        raise NotAnImage("The server answered with something that is not an image; nothing was saved. "
                         "Check that the base URL points at an OpenAI-compatible image API.",
                         api_message=f"{type(exc).__name__}: {exc}") from None
    if fmt is None:
        raise NotAnImage(f"The server sent an image in an unsupported format ({img.format}); nothing was saved.")
    return fmt, size[0], size[1]


def _decode_b64(b64: str | None) -> bytes:
    if not b64:
        raise NotAnImage("The server sent an empty image; nothing was saved.")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise NotAnImage("The server sent image data that is not valid base64; nothing was saved.") from None


def _final(index: int, b64: str | None, fmt: str, revised: str | None = None) -> FinalImage | Failed:
    try:
        data = _decode_b64(b64)
        real_fmt, w, h = check_image_bytes(data, fmt)
    except ImageLabError as err:
        return Failed(err, image_index=index)
    return FinalImage(index, data, real_fmt, w, h, revised)


def _add_usage(total: dict[str, Any] | None, usage: Any) -> dict[str, Any] | None:
    if usage is None:
        return total
    u = usage.model_dump() if hasattr(usage, "model_dump") else dict(usage)
    if total is None:
        return u
    out = dict(total)
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        out[key] = (out.get(key) or 0) + (u.get(key) or 0)
    for key in ("input_tokens_details", "output_tokens_details"):
        a, b = out.get(key) or {}, u.get(key) or {}
        if a or b:
            out[key] = {k: (a.get(k) or 0) + (b.get(k) or 0) for k in set(a) | set(b)}
    return out


def _request_id_of(obj: Any) -> str | None:
    rid = getattr(obj, "_request_id", None)
    if rid:
        return rid
    response = getattr(obj, "response", None)
    return response.headers.get("x-request-id") if response is not None else None


def run_images(call: Any, kwargs: dict[str, Any], *, stream: bool, fmt: str, base_url: str | None,
               model: str, event_prefix: str) -> Iterator[Event]:
    """Call ``call(**kwargs)`` (images.generate or images.edit) and yield events.

    Whatever arrived before a failure has already been yielded, so the caller can keep it.
    """
    started = time.perf_counter()
    request_id = None
    try:
        if not stream:
            result = call(**kwargs)
            request_id = _request_id_of(result)
            for i, item in enumerate(result.data or []):
                yield _final(i, item.b64_json, result.output_format or fmt, getattr(item, "revised_prompt", None))
            if not result.data:
                yield Failed(NotAnImage("The server answered without any image; nothing was saved.", request_id=request_id))
            yield UsageReport(result.usage.model_dump() if result.usage else None, request_id, time.perf_counter() - started)
            return
        events = call(**kwargs)
        request_id = _request_id_of(events)
        usage = None
        finished = 0
        for ev in events:
            kind = getattr(ev, "type", "")
            if kind == f"{event_prefix}.partial_image":
                try:
                    data = _decode_b64(ev.b64_json)
                except ImageLabError:
                    continue  # a bad preview is not worth failing the run over
                yield PartialImage(finished, ev.partial_image_index, data, ev.output_format)
            elif kind == f"{event_prefix}.completed":
                yield _final(finished, ev.b64_json, ev.output_format or fmt)
                usage = _add_usage(usage, getattr(ev, "usage", None))
                finished += 1
        expected = kwargs.get("n") or 1
        if finished < expected:
            yield Failed(StreamCut(f"The stream ended after {finished} of {expected} images. The finished ones are kept; "
                                   "run again for the rest.", request_id=request_id))
        yield UsageReport(usage, request_id, time.perf_counter() - started)
    except Exception as exc:  # every SDK failure becomes a Failed event, never a traceback
        yield Failed(translate_error(exc, base_url=base_url, model=model))


def generate(client: openai.OpenAI, spec: Any) -> Iterator[Event]:
    """Run a ``GenerateSpec``: ``images.generate``, streamed when the spec asks for partial images."""
    return run_images(client.images.generate, spec.to_sdk_kwargs(), stream=spec.stream, fmt=spec.output_format,
                      base_url=str(client.base_url), model=spec.model, event_prefix="image_generation")


def edit(client: openai.OpenAI, spec: Any) -> Iterator[Event]:
    """Run an ``EditSpec``: ``images.edit`` with its images, mask or markup, streamed when asked."""
    return run_images(client.images.edit, spec.to_sdk_kwargs(), stream=spec.stream, fmt=spec.output_format,
                      base_url=str(client.base_url), model=spec.model, event_prefix="image_edit")


def upload_files(client: openai.OpenAI, files: list[tuple[str, tuple[str, bytes, str]]],
                 known: dict[str, str] | None = None) -> dict[str, str]:
    """Upload ``(hash, (name, bytes, mime))`` pairs with purpose ``vision``; return hash → file id.

    Files already in ``known`` are not uploaded again.
    """
    ids = dict(known or {})
    for digest, file in files:
        if digest not in ids:
            ids[digest] = client.files.create(file=file, purpose="vision").id
    return ids


def _turn_outputs(response: Any, fmt: str) -> Iterator[Event]:
    call = next((o for o in (response.output or []) if getattr(o, "type", "") == "image_generation_call"), None)
    text = getattr(response, "output_text", "") or ""
    if call is None:
        yield TurnReply(response.id, text, None, None)
        return
    if getattr(call, "status", "") == "failed" or not call.result:
        err = getattr(call, "error", None)
        stage = getattr(getattr(err, "moderation_details", None), "moderation_stage", None)
        if stage:
            yield Failed(ModerationBlocked("The safety system withheld this turn's image. Rephrase and try again.",
                                           stage=stage, request_id=_request_id_of(response)))
        else:
            yield Failed(NotAnImage("The model answered without an image this turn; ask again or rephrase.",
                                    request_id=_request_id_of(response)))
    else:
        yield _final(0, call.result, call.output_format or fmt, call.revised_prompt)
    yield TurnReply(response.id, text, call.id, getattr(call, "revised_prompt", None))


def respond(client: openai.OpenAI, spec: Any, file_ids: dict[str, str] | None = None) -> Iterator[Event]:
    """Run a ``TurnSpec``: ``responses.create`` with the image tool, streamed when partial images are asked for."""
    started = time.perf_counter()
    base_url = str(client.base_url)
    try:
        if spec.attach_as == "file":
            pending = [(img.hash, img.file()) for img in spec.images]
            if spec.mask is not None:
                pending.append((spec.mask.hash, spec.mask.file("mask")))
            file_ids = upload_files(client, pending, file_ids)
        kwargs = spec.to_sdk_kwargs(file_ids)
        if not spec.stream:
            response = client.responses.create(**kwargs)
            request_id = _request_id_of(response)
            yield from _turn_outputs(response, spec.output_format)
            usage = response.usage.model_dump() if response.usage else None
            yield UsageReport(usage, request_id, time.perf_counter() - started)
            return
        events = client.responses.create(**kwargs)
        request_id = _request_id_of(events)
        final = None
        for ev in events:
            kind = getattr(ev, "type", "")
            if kind == "response.image_generation_call.partial_image":
                try:
                    data = _decode_b64(ev.partial_image_b64)
                except ImageLabError:
                    continue
                yield PartialImage(0, ev.partial_image_index, data, spec.output_format)
            elif kind == "response.completed":
                final = ev.response
            elif kind in ("response.failed", "response.incomplete"):
                final = ev.response
        if final is None:
            yield Failed(StreamCut("The stream ended before the turn was finished; nothing was lost, ask again.",
                                   request_id=request_id))
            yield UsageReport(None, request_id, time.perf_counter() - started)
            return
        yield from _turn_outputs(final, spec.output_format)
        yield UsageReport(final.usage.model_dump() if final.usage else None, request_id, time.perf_counter() - started)
    except Exception as exc:  # every SDK failure becomes a Failed event, never a traceback
        yield Failed(translate_error(exc, base_url=base_url, model=spec.model))
