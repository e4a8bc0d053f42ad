"""The Responses API for conversation turns: ``responses.create`` with the image tool, background
responses (resumed when their stream drops, ``resume`` after a restart, ``cancel_response``), and the
Files API uploads a turn's attachments can go through.

A background turn (``respond(..., background=True)``) is created with ``background`` and ``store`` and
streamed. Its events carry sequence numbers; ``ResponseProgress`` says how far it has been read. When
the stream drops (a connection error, or the stream ends before ``response.completed`` / ``failed`` /
``incomplete``), the turn goes on with ``responses.retrieve(id, stream=True, starting_after=last)``
— ``RESUME_ATTEMPTS`` tries without progress, ``RESUME_BACKOFF`` seconds apart and doubling — so
the caller sees each event once: no preview twice, one final image.

A turn that can wait (``spec.waits``: a 2h or 8h ``background_options.completion_window``) is created
in the background without a stream, as the API requires, and polled with ``responses.retrieve(id)``
— ``POLL_FIRST`` seconds apart at first, doubling up to ``POLL_MOST`` — until it has finished;
``resume(..., polled=True)`` picks such a turn up again after a restart.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
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
from .errors import Cancelled, ModerationBlocked, NotAnImage, RequestFailed, StreamCut, translate_error
from .events import Event, Failed, ResponseProgress, TurnReply, UsageReport
from .images import partial_image

__all__ = ["respond", "resume", "cancel_response", "upload_files", "ask_for_words", "RESUME_ATTEMPTS",
           "RESUME_BACKOFF", "POLL_FIRST", "POLL_MOST"]

RESUME_ATTEMPTS = 4  # tries in a row that bring no new event before a dropped turn is given up
RESUME_BACKOFF = 0.25  # seconds before the first of them, doubled for each next one
POLL_FIRST = 0.5  # seconds between the first polls of a turn that can wait ...
POLL_MOST = 30.0  # ... doubling up to this: such a turn may take hours
_ENDS = ("response.completed", "response.failed", "response.incomplete")
_FINISHED = ("completed", "failed", "incomplete")
# events after which the caller hears where the response has got to
_MILESTONES = ("response.image_generation_call.partial_image", "response.image_generation_call.completed",
               "response.output_item.done", *_ENDS)
# a dropped connection or a passing server trouble: worth resuming from the last event seen
_DROPPED = (openai.APIConnectionError, openai.InternalServerError, openai.RateLimitError, httpx2.TransportError)


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


def respond(client: openai.OpenAI, spec: Any, file_ids: dict[str, str] | None = None, *,
            background: bool = False) -> Iterator[Event]:
    """Run a ``TurnSpec``: ``responses.create`` with the image tool, streamed when partial images are asked for.

    ``background``: create a stored background response, streamed, yielding ``ResponseProgress`` as it
    goes and resuming by itself when the stream drops (see the module docstring).
    No exception escapes, and no text in an event carries anything key-shaped or the client's key.
    """
    return scrubbed(_respond(client, spec, file_ids, background), secrets_of(client))


def resume(client: openai.OpenAI, response_id: str, starting_after: int, *, output_format: str = "png",
           model: str | None = None, polled: bool = False) -> Iterator[Event]:
    """Go on with a background response from after event ``starting_after`` (say, after a restart).

    Yields what ``respond(..., background=True)`` would have yielded from there; a response that has
    already finished yields its outputs. ``output_format`` is the turn's (for checking its image),
    ``model`` its image model (for error sentences); ``polled`` for a turn that can wait (created
    without a stream, so it is polled). No exception escapes.
    """
    return scrubbed(_resume(client, response_id, starting_after, output_format, model, polled), secrets_of(client))


def cancel_response(client: openai.OpenAI, response_id: str) -> Failed | None:
    """Cancel a background response; None when it is cancelled, ``Failed`` saying why it could not be."""
    base_url = str(client.base_url)
    try:
        raw = client.responses.with_raw_response.cancel(response_id)
        expect(raw, Response, where=base_url)
    except Exception as exc:  # every SDK failure becomes a Failed, never a traceback
        err = translate_error(exc, base_url=base_url, secrets=secrets_of(client))
        return Failed(err.scrub(secrets_of(client)))
    return None


@dataclass
class _Reading:
    """How far a background response has been read, and what it ended with."""

    response_id: str | None = None
    sequence_number: int = -1
    previews: set[int] = field(default_factory=set)  # partial image indexes already yielded
    final: Response | None = None
    cancelled: bool = False


def _read(events: Any, at: _Reading, fmt: str, where: str, request_id: str | None,
          status: int | None) -> Iterator[Event]:
    """Yield the previews and progress of the events not seen yet; stop at the end event (kept in ``at``)."""
    for ev in events:
        raw_seq = getattr(ev, "sequence_number", None)
        seq = raw_seq if isinstance(raw_seq, int) and not isinstance(raw_seq, bool) else None
        if seq is not None and seq <= at.sequence_number:
            continue  # already seen before the stream dropped
        kind = getattr(ev, "type", "")
        response = getattr(ev, "response", None)
        new_id = at.response_id is None and text_of(response, "id") is not None
        if new_id:
            at.response_id = text_of(response, "id")
        if seq is not None:
            at.sequence_number = seq
        if kind == "response.image_generation_call.partial_image":
            partial = partial_image(0, ev, "partial_image_b64", fmt)
            if partial is not None and partial.partial_index not in at.previews:
                at.previews.add(partial.partial_index)
                yield partial
        elif kind in _ENDS:
            if not isinstance(response, Response):
                raise not_the_api(where, f"a '{kind}' event without a response", "stream of events", body="",
                                  request_id=request_id, status=status)
            at.final = response
        if at.response_id is not None and (new_id or kind in _MILESTONES):
            yield ResponseProgress(at.response_id, at.sequence_number)
        if at.final is not None:
            return


def _catch_up(client: openai.OpenAI, at: _Reading, fmt: str) -> Iterator[Event]:
    """Resume the stream of ``at.response_id`` until its end event, asking where it is after each drop.

    Sets ``at.final`` (or ``at.cancelled``); raises the last error when ``RESUME_ATTEMPTS`` tries in a
    row bring nothing new, and any error that resuming cannot mend (a 404, a 401…) at once.
    """
    assert at.response_id is not None
    where = str(client.base_url)
    failures = 0
    streamable = True
    while True:
        before = at.sequence_number
        dropped: Exception | None = None
        try:
            if streamable:
                after = at.sequence_number if at.sequence_number >= 0 else openai.omit
                raw = client.responses.with_raw_response.retrieve(at.response_id, stream=True, starting_after=after)
                yield from _read(open_stream(raw, where=where), at, fmt, where, request_id_of(raw.headers),
                                 raw.http_response.status_code)
                if at.final is not None:
                    return
                if at.sequence_number > before:  # it dropped again, but brought news: go on reading at once
                    failures = 0
                    continue
            # the stream brought nothing new: ask where the response is
            polled = expect(client.responses.with_raw_response.retrieve(at.response_id), Response, where=where)
            status = getattr(polled, "status", None)
            if status in _FINISHED:
                at.final = polled
                return
            if status == "cancelled":
                at.cancelled = True
                return
        except openai.NotFoundError:
            if not streamable:
                raise
            streamable = False  # stored but not made in the background: it can only be polled
            continue
        except _DROPPED as exc:
            dropped = exc
        failures = 0 if at.sequence_number > before else failures + 1
        if failures >= RESUME_ATTEMPTS:
            if dropped is not None:
                raise dropped
            raise StreamCut("The connection to the turn kept dropping; it may still finish on the server. "
                            "Reopen the conversation to pick it up.")
        if failures:
            time.sleep(RESUME_BACKOFF * 2 ** (failures - 1))


def _outcome(at: _Reading, fmt: str, request_id: str | None, started: float) -> Iterator[Event]:
    """The turn's end: its image and reply, or why there is none; then the usage."""
    if at.cancelled or at.final is None:
        yield Failed(Cancelled("The turn was cancelled before it was finished.", request_id=request_id))
        yield UsageReport(None, request_id, time.perf_counter() - started)
        return
    yield from _turn_outputs(at.final, fmt, request_id)
    yield UsageReport(usage_of(at.final), request_id, time.perf_counter() - started)


def _in_background(client: openai.OpenAI, kwargs: dict[str, Any], fmt: str, started: float,
                   at: _Reading) -> Iterator[Event]:
    where = str(client.base_url)
    raw = client.responses.with_raw_response.create(**kwargs, background=True, store=True, stream=True)
    request_id = request_id_of(raw.headers)
    try:
        yield from _read(open_stream(raw, where=where), at, fmt, where, request_id, raw.http_response.status_code)
    except _DROPPED:
        if at.response_id is None:
            raise
    if at.final is None:
        if at.response_id is None:
            yield Failed(StreamCut("The stream ended before the turn was given an id; nothing was lost, ask again.",
                                   request_id=request_id))
            yield UsageReport(None, request_id, time.perf_counter() - started)
            return
        yield from _catch_up(client, at, fmt)
    yield from _outcome(at, fmt, request_id, started)


def _poll(client: openai.OpenAI, at: _Reading) -> None:
    """Ask after a turn that can wait until it has finished (``at.final``) or was cancelled.

    A dropped connection or a passing server trouble is asked again; ``RESUME_ATTEMPTS`` of them in a
    row end the wait with the last one, which says the turn may still finish on the server."""
    assert at.response_id is not None
    where = str(client.base_url)
    wait, failures = POLL_FIRST, 0
    while True:
        try:
            polled = expect(client.responses.with_raw_response.retrieve(at.response_id), Response, where=where)
        except _DROPPED:
            failures += 1
            if failures >= RESUME_ATTEMPTS:
                raise
        else:
            failures = 0
            status = getattr(polled, "status", None)
            if status in _FINISHED:
                at.final = polled
                return
            if status == "cancelled":
                at.cancelled = True
                return
        time.sleep(wait)
        wait = min(POLL_MOST, wait * 2)


def _waiting(client: openai.OpenAI, kwargs: dict[str, Any], fmt: str, started: float) -> Iterator[Event]:
    """A turn that can wait: created in the background without a stream, then polled until it is done."""
    where = str(client.base_url)
    raw = client.responses.with_raw_response.create(**kwargs, background=True, store=True)
    request_id = request_id_of(raw.headers)
    created = expect(raw, Response, where=where)
    at = _Reading(response_id=text_of(created, "id"))
    if at.response_id is None:
        raise not_the_api(where, "a background response without an id", "JSON", body="", request_id=request_id,
                          status=raw.http_response.status_code)
    yield ResponseProgress(at.response_id, at.sequence_number)  # where to pick it up again after a restart
    if getattr(created, "status", None) in _FINISHED:
        at.final = created
    else:
        _poll(client, at)
    yield from _outcome(at, fmt, request_id, started)


def _resume(client: openai.OpenAI, response_id: str, starting_after: int, fmt: str,
            model: str | None, polled: bool = False) -> Iterator[Event]:
    started = time.perf_counter()
    base_url = str(client.base_url)
    at = _Reading(response_id=response_id, sequence_number=starting_after)
    try:
        if polled:
            _poll(client, at)
        else:
            yield from _catch_up(client, at, fmt)
        yield from _outcome(at, fmt, None, started)
    except Exception as exc:  # every SDK failure becomes a Failed event, never a traceback
        yield Failed(translate_error(exc, base_url=base_url, model=model, secrets=secrets_of(client)))


def _respond(client: openai.OpenAI, spec: Any, file_ids: dict[str, str] | None,
             background: bool = False) -> Iterator[Event]:
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
        if getattr(spec, "waits", False):  # a 2h or 8h window is background work by definition
            kwargs.pop("stream", None)
            yield from _waiting(client, kwargs, spec.output_format, started)
            return
        if background:
            kwargs.pop("stream", None)
            yield from _in_background(client, kwargs, spec.output_format, started, _Reading())
            return
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


def ask_for_words(client: openai.OpenAI, spec: Any) -> Iterator[Event]:
    """Run a request for words (``prompts.PromptRequest``): one ``responses.create`` without tools.

    Yields a ``TurnReply`` with the model's text (or ``Failed`` when it wrote none), then the usage.
    No exception escapes, and no text in an event carries anything key-shaped or the client's key.
    """
    return scrubbed(_ask_for_words(client, spec), secrets_of(client))


def _ask_for_words(client: openai.OpenAI, spec: Any) -> Iterator[Event]:
    started = time.perf_counter()
    base_url = str(client.base_url)
    request_id = None
    try:
        raw = client.responses.with_raw_response.create(**spec.to_sdk_kwargs())
        request_id = request_id_of(raw.headers)
        response = expect(raw, Response, where=base_url)
        text = _output_text(response).strip()
        if text:
            yield TurnReply(text_of(response, "id"), text, None, None)
        else:
            yield Failed(RequestFailed("The model answered without any words; ask again.", request_id=request_id))
        yield UsageReport(usage_of(response), request_id, time.perf_counter() - started)
    except Exception as exc:  # every SDK failure becomes a Failed event, never a traceback
        err = translate_error(exc, base_url=base_url, model=spec.model, secrets=secrets_of(client))
        if err.request_id is None:
            err.request_id = request_id
        yield Failed(err)
