"""The Responses API for conversation turns: ``responses.create`` with the image tool, and the Files
API uploads its attachments can go through."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
from openai.types import FileObject
from openai.types.responses import Response

from ._reply import (
    expect,
    not_the_api,
    open_stream,
    request_id_of,
    scrubbed,
    secrets_of,
    text_of,
    usage_of,
)
from .decode import final_image
from .errors import ModerationBlocked, NotAnImage, StreamCut, translate_error
from .events import Event, Failed, TurnReply, UsageReport
from .images import partial_image

__all__ = ["respond", "upload_files"]


def upload_files(client: openai.OpenAI, files: list[tuple[str, tuple[str, bytes, str]]],
                 known: dict[str, str] | None = None) -> dict[str, str]:
    """Upload ``(hash, (name, bytes, mime))`` pairs with purpose ``vision``; return hash → file id.

    Files already in ``known`` are not uploaded again. Raises ``NotTheAPI`` when the server's answer is
    not a file, and the SDK's own errors otherwise.
    """
    where = str(client.base_url)
    ids = dict(known or {})
    for digest, file in files:
        if digest not in ids:
            raw = client.files.with_raw_response.create(file=file, purpose="vision")
            file_id = text_of(expect(raw, FileObject, where=where), "id")
            if not file_id:
                raise not_the_api(where, "a file without an id", "JSON", body="",
                                  request_id=request_id_of(raw.headers), status=raw.http_response.status_code)
            ids[digest] = file_id
    return ids


def _output_text(response: Response) -> str:
    try:
        text = response.output_text
    except Exception:  # the property walks whatever output items the server sent
        return ""
    return text if isinstance(text, str) else ""


def _turn_outputs(response: Response, fmt: str, request_id: str | None) -> Iterator[Event]:
    output = response.output if isinstance(response.output, list) else []
    call = next((o for o in output if getattr(o, "type", "") == "image_generation_call"), None)
    text = _output_text(response)
    response_id = text_of(response, "id")
    if call is None:
        yield TurnReply(response_id, text, None, None)
        return
    result = text_of(call, "result")
    revised = text_of(call, "revised_prompt")
    if getattr(call, "status", "") == "failed" or not result:
        stage = text_of(getattr(getattr(call, "error", None), "moderation_details", None), "moderation_stage")
        if stage:
            yield Failed(ModerationBlocked("The safety system withheld this turn's image. Rephrase and try again.",
                                           stage=stage, request_id=request_id))
        else:
            yield Failed(NotAnImage("The model answered without an image this turn; ask again or rephrase.",
                                    request_id=request_id))
    else:
        yield final_image(0, result, text_of(call, "output_format") or fmt, revised)
    yield TurnReply(response_id, text, text_of(call, "id"), revised)


def respond(client: openai.OpenAI, spec: Any, file_ids: dict[str, str] | None = None) -> Iterator[Event]:
    """Run a ``TurnSpec``: ``responses.create`` with the image tool, streamed when partial images are asked for.

    No exception escapes, and no text in an event carries anything key-shaped or the client's key.
    """
    return scrubbed(_respond(client, spec, file_ids), secrets_of(client))


def _respond(client: openai.OpenAI, spec: Any, file_ids: dict[str, str] | None) -> Iterator[Event]:
    started = time.perf_counter()
    base_url = str(client.base_url)
    request_id = None
    try:
        if spec.attach_as == "file":
            pending = [(img.hash, img.file()) for img in spec.images]
            if spec.mask is not None:
                pending.append((spec.mask.hash, spec.mask.file("mask")))
            file_ids = upload_files(client, pending, file_ids)
        kwargs = spec.to_sdk_kwargs(file_ids)
        raw = client.responses.with_raw_response.create(**kwargs)
        request_id = request_id_of(raw.headers)
        if not spec.stream:
            response = expect(raw, Response, where=base_url)
            yield from _turn_outputs(response, spec.output_format, request_id)
            yield UsageReport(usage_of(response), request_id, time.perf_counter() - started)
            return
        final = None
        for ev in open_stream(raw, where=base_url):
            kind = getattr(ev, "type", "")
            if kind == "response.image_generation_call.partial_image":
                partial = partial_image(0, ev, "partial_image_b64", spec.output_format)
                if partial is not None:
                    yield partial
            elif kind in ("response.completed", "response.failed", "response.incomplete"):
                final = getattr(ev, "response", None)
                if not isinstance(final, Response):
                    raise not_the_api(base_url, f"a '{kind}' event without a response", "stream of events",
                                      body="", request_id=request_id, status=raw.http_response.status_code)
        if final is None:
            yield Failed(StreamCut("The stream ended before the turn was finished; nothing was lost, ask again.",
                                   request_id=request_id))
            yield UsageReport(None, request_id, time.perf_counter() - started)
            return
        yield from _turn_outputs(final, spec.output_format, request_id)
        yield UsageReport(usage_of(final), request_id, time.perf_counter() - started)
    except Exception as exc:  # every SDK failure becomes a Failed event, never a traceback
        err = translate_error(exc, base_url=base_url, model=spec.model, secrets=secrets_of(client))
        if err.request_id is None:
            err.request_id = request_id
        yield Failed(err)
