"""Reading a server's reply before trusting it: the request id from its headers, the check that it
has the API's shape (``NotTheAPI`` when it does not), plain values out of SDK objects, and the last
scrub every event gets before it leaves the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, Protocol, TypeVar

import httpx2
from openai import Stream

from imagelab.text import redact_url, scrub, shorten

from .errors import CHECK_BASE_URL, NotTheAPI
from .events import Event, Failed, FinalImage, ResponseProgress, TurnReply, UsageReport

__all__ = ["RawReply", "request_id_of", "expect", "not_the_api", "open_stream", "text_of", "int_of", "usage_of",
           "scrubbed", "secrets_of"]

T = TypeVar("T")


class RawReply(Protocol):
    """What ``client.<resource>.with_raw_response.<method>(...)`` returns: the HTTP reply and its parse."""

    http_response: httpx2.Response

    @property
    def headers(self) -> httpx2.Headers: ...

    def parse(self) -> Any: ...

_ID_LIMIT = 200
_SNIPPET = 300


def request_id_of(headers: httpx2.Headers) -> str | None:
    """The id the server gave this request, from its public ``x-request-id`` header."""
    rid = headers.get("x-request-id")
    return shorten(rid, _ID_LIMIT) if rid else None


def _what_came_back(content_type: str, body: str) -> str:
    kind = content_type.split(";")[0].strip().lower()
    start = body.lstrip()[:100].lower()
    if not start:
        return "an empty reply"
    if "html" in kind or start.startswith(("<!doctype html", "<html", "<head", "<body")):
        return "an HTML page"
    if kind.endswith("json") or start.startswith(("{", "[")):
        return "JSON that is cut short or not the image API's"
    if kind.startswith("text/") or not kind:
        return "plain text"
    return f"a {kind} reply"


def not_the_api(where: str, what: str, expected: str, *, body: str, request_id: str | None,
                 status: int | None) -> NotTheAPI:
    return NotTheAPI(f"The server at {redact_url(where)} answered with {what} instead of the image API's {expected}. "
                     + CHECK_BASE_URL, api_message=shorten(" ".join(body.split()), _SNIPPET) or None,
                     request_id=request_id, status=status)


def expect(raw: RawReply, shape: type[T], *, where: str) -> T:
    """The parsed body of a plain (not streamed) reply, or raise ``NotTheAPI`` saying what came back instead."""
    response = raw.http_response
    rid = request_id_of(raw.headers)
    try:
        parsed = raw.parse()
    except (ValueError, UnicodeDecodeError):  # cut-short or malformed JSON
        parsed = None
    if isinstance(parsed, shape):
        return parsed
    try:
        body = response.text
    except UnicodeDecodeError:
        body = ""
    what = _what_came_back(response.headers.get("content-type", ""), body)
    if what == "plain text" and body.lstrip().startswith(("{", "[")):
        what = "JSON that is cut short or not the image API's"
    raise not_the_api(where, what, "JSON", body=body, request_id=rid, status=response.status_code)


_PEEK = 2048


def open_stream(raw: RawReply, *, where: str) -> Iterator[Any]:
    """The events of a streamed reply, or raise ``NotTheAPI`` when the server sent something else.

    The connection is closed when the events end, when the reader stops early or when it fails.
    """
    stream = _checked_stream(raw, where=where)
    try:
        yield from stream
    finally:
        stream.close()


def _checked_stream(raw: RawReply, *, where: str) -> Stream[Any]:
    response = raw.http_response
    content_type = response.headers.get("content-type", "")
    if content_type and "event-stream" not in content_type.lower():
        head = b""
        try:
            for chunk in response.iter_bytes():
                head += chunk
                if len(head) >= _PEEK:
                    break
        finally:
            response.close()
        body = head[:_PEEK].decode("utf-8", "replace")
        raise not_the_api(where, _what_came_back(content_type, body), "stream of events", body=body,
                           request_id=request_id_of(response.headers), status=response.status_code)
    stream = raw.parse()
    if not isinstance(stream, Stream):
        raise not_the_api(where, "something other than a stream", "stream of events", body="",
                           request_id=request_id_of(response.headers), status=response.status_code)
    return stream


def text_of(obj: object, name: str) -> str | None:
    """``obj.name`` when it is a string: an SDK object built from any server's JSON may hold anything."""
    value = getattr(obj, name, None)
    return value if isinstance(value, str) else None


def int_of(obj: object, name: str, default: int = 0) -> int:
    value = getattr(obj, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _plain(value: object) -> Any:
    if hasattr(value, "model_dump"):
        try:
            value = value.model_dump(warnings=False)
        except Exception:  # pydantic cannot serialise what a hostile server put there
            return None
    return value


def _counts(value: object) -> dict[str, Any] | None:
    """Only token counts survive: names of plain words, whole numbers, one level of details."""
    value = _plain(value)
    if not isinstance(value, dict):
        return None
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not (isinstance(key, str) and key.replace("_", "").isalpha() and key.islower() and len(key) <= 64):
            continue
        item = _plain(item)
        if isinstance(item, int) and not isinstance(item, bool):
            out[key] = item
        elif isinstance(item, dict):
            inner = {k: v for k, v in item.items() if isinstance(k, str) and k.replace("_", "").isalpha()
                     and k.islower() and len(k) <= 64 and isinstance(v, int) and not isinstance(v, bool)}
            if inner:
                out[key] = inner
    return out or None


def usage_of(obj: object) -> dict[str, Any] | None:
    """The token counts in ``obj.usage`` as a plain dict, or None when there are none."""
    return _counts(getattr(obj, "usage", None))


def _clean(text: str | None, secrets: tuple[str | None, ...]) -> str | None:
    return None if text is None else scrub(text, secrets)


def scrubbed(events: Iterable[Event], secrets: Iterable[str | None]) -> Iterator[Event]:
    """``events`` with anything key-shaped (and ``secrets``) removed from every text they carry."""
    keys = tuple(secrets)
    for ev in events:
        if isinstance(ev, Failed):
            ev.error.scrub(keys)
        elif isinstance(ev, FinalImage) and ev.revised_prompt is not None:
            ev = replace(ev, revised_prompt=_clean(ev.revised_prompt, keys))
        elif isinstance(ev, UsageReport) and ev.request_id is not None:
            ev = replace(ev, request_id=_clean(ev.request_id, keys))
        elif isinstance(ev, TurnReply):
            ev = replace(ev, text=scrub(ev.text, keys), revised_prompt=_clean(ev.revised_prompt, keys),
                         response_id=_clean(ev.response_id, keys), image_call_id=_clean(ev.image_call_id, keys))
        elif isinstance(ev, ResponseProgress):
            ev = replace(ev, response_id=scrub(ev.response_id, keys))
        yield ev



def secrets_of(client: object) -> tuple[str, ...]:
    """The keys a client sends, to scrub from anything its server says back."""
    keys = (getattr(client, "api_key", None), getattr(client, "admin_api_key", None))
    return tuple(k for k in keys if isinstance(k, str) and k)
