"""The Images API: ``images.generate`` and ``images.edit``, plain or streamed, as events."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import openai
from openai.types import ImagesResponse

from ._reply import (
    RawReply,
    expect,
    int_of,
    not_the_api,
    open_stream,
    request_id_of,
    scrubbed,
    secrets_of,
    text_of,
    usage_of,
)
from .decode import check_image_bytes, decode_b64, final_image
from .errors import NotAnImage, RequestFailed, StreamCut, translate_error
from .events import Event, Failed, PartialImage, UsageReport

__all__ = ["run_images", "generate", "edit", "partial_image"]


def _add_usage(total: dict[str, Any] | None, usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if usage is None:
        return total
    if total is None:
        return usage
    out = dict(total)
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        out[key] = (out.get(key) or 0) + (usage.get(key) or 0)
    for key in ("input_tokens_details", "output_tokens_details"):
        a, b = out.get(key) or {}, usage.get(key) or {}
        if a or b:
            out[key] = {k: (a.get(k) or 0) + (b.get(k) or 0) for k in set(a) | set(b)}
    return out


def _plain_images(raw: RawReply, fmt: str, where: str, started: float) -> Iterator[Event]:
    request_id = request_id_of(raw.headers)
    result = expect(raw, ImagesResponse, where=where)
    data = getattr(result, "data", None)
    if data is not None and not isinstance(data, list):
        raise not_the_api(where, "JSON without a list of images", "JSON", body="", request_id=request_id,
                          status=raw.http_response.status_code)
    out_fmt = text_of(result, "output_format") or fmt
    for i, item in enumerate(data or []):
        yield final_image(i, getattr(item, "b64_json", None), out_fmt, text_of(item, "revised_prompt"))
    if not data:
        yield Failed(NotAnImage("The server answered without any image; nothing was saved.", request_id=request_id))
    yield UsageReport(usage_of(result), request_id, time.perf_counter() - started)


def partial_image(index: int, ev: object, field: str, fmt: str) -> PartialImage | None:
    """A checked preview, or None: a bad preview is not worth failing the run over."""
    try:
        data = decode_b64(getattr(ev, field, None))
        real_fmt, _, _ = check_image_bytes(data, text_of(ev, "output_format") or fmt)
    except RequestFailed:
        return None
    return PartialImage(index, int_of(ev, "partial_image_index"), data, real_fmt)


def run_images(call: Callable[..., RawReply], kwargs: dict[str, Any], *, stream: bool, fmt: str,
               base_url: str | None, model: str, event_prefix: str,
               secrets: Iterable[str | None] = ()) -> Iterator[Event]:
    """Call ``call(**kwargs)`` and yield events; ``call`` is ``client.images.with_raw_response.generate``
    (or ``.edit``), so the request id comes from the reply's own headers.

    Whatever arrived before a failure has already been yielded, so the caller can keep it. No exception
    escapes, and no text in an event carries anything key-shaped or any of ``secrets``.
    """
    return scrubbed(_run_images(call, kwargs, stream=stream, fmt=fmt, base_url=base_url, model=model,
                                event_prefix=event_prefix, secrets=tuple(secrets)), secrets=tuple(secrets))


def _run_images(call: Callable[..., RawReply], kwargs: dict[str, Any], *, stream: bool, fmt: str,
                base_url: str | None, model: str, event_prefix: str,
                secrets: tuple[str | None, ...]) -> Iterator[Event]:
    started = time.perf_counter()
    where = base_url or "the OpenAI API"
    request_id = None
    try:
        raw = call(**kwargs)
        request_id = request_id_of(raw.headers)
        if not stream:
            yield from _plain_images(raw, fmt, where, started)
            return
        usage = None
        finished = 0
        for ev in open_stream(raw, where=where):
            kind = getattr(ev, "type", "")
            if kind == f"{event_prefix}.partial_image":
                partial = partial_image(finished, ev, "b64_json", fmt)
                if partial is not None:
                    yield partial
            elif kind == f"{event_prefix}.completed":
                yield final_image(finished, getattr(ev, "b64_json", None), text_of(ev, "output_format") or fmt)
                usage = _add_usage(usage, usage_of(ev))
                finished += 1
        expected = kwargs.get("n") or 1
        if finished < expected:
            yield Failed(StreamCut(f"The stream ended after {finished} of {expected} images. The finished ones are "
                                   "kept; run again for the rest.", request_id=request_id))
        yield UsageReport(usage, request_id, time.perf_counter() - started)
    except Exception as exc:  # every SDK failure becomes a Failed event, never a traceback
        err = translate_error(exc, base_url=base_url, model=model, secrets=secrets)
        if err.request_id is None:
            err.request_id = request_id
        yield Failed(err)


def generate(client: openai.OpenAI, spec: Any) -> Iterator[Event]:
    """Run a ``GenerateSpec``: ``images.generate``, streamed when the spec asks for partial images."""
    return run_images(client.images.with_raw_response.generate, spec.to_sdk_kwargs(), stream=spec.stream,
                      fmt=spec.output_format, base_url=str(client.base_url), model=spec.model,
                      event_prefix="image_generation", secrets=secrets_of(client))


def edit(client: openai.OpenAI, spec: Any) -> Iterator[Event]:
    """Run an ``EditSpec``: ``images.edit`` with its images, mask or markup, streamed when asked."""
    return run_images(client.images.with_raw_response.edit, spec.to_sdk_kwargs(), stream=spec.stream,
                      fmt=spec.output_format, base_url=str(client.base_url), model=spec.model,
                      event_prefix="image_edit", secrets=secrets_of(client))
