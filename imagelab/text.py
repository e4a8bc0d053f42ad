"""Text that reaches the page: shown exactly as typed, and scrubbed of secrets.

``code_span`` wraps text ImageLab did not write for a place in a Markdown sentence of ours, where
nothing of it is parsed (``components.untrusted`` is the one way such text reaches the page).
``scrub`` and ``redact_url`` remove keys, passwords and query strings from text a server sent or a URL
someone entered, before it is shown, logged or stored; ``scrub`` is the one way, for a record too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, overload
from urllib.parse import urlsplit, urlunsplit

__all__ = ["code_span", "table_cell", "shorten", "scrub", "redact_url", "redact_urls_in", "REDACTED"]

_BACKTICKS = re.compile(r"`+")
# A pipe and the backslashes before it: a table sees the pipe as text only after an odd number of them.
_PIPE = re.compile(r"(\\*)\|")

REDACTED = "[redacted]"

# Key-shaped text: OpenAI keys (sk-…, sk-proj-…, also half-masked ones), any Authorization
# credential, and the user:password part of a URL.
_KEY_SHAPED = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-*]{6,}")
_CREDENTIAL = re.compile(r"\b(Bearer|Basic)(\s+|%20|\+)[^\s\"',;]+", re.IGNORECASE)
_URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.\-]*://)[^/\s@\"']+@", re.IGNORECASE)
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s\"'<>]+", re.IGNORECASE)
# A field named like a credential is left out of a record whole, whatever its value looks like.
_CREDENTIAL_NAME = re.compile(r"api[_-]?key|authorization|secret|password|bearer", re.I)

# Shorter "secrets" (a placeholder such as "none") would blank ordinary words out of messages.
_MIN_SECRET = 6


def code_span(text: str) -> str:
    """``text`` as one Markdown code span: shown as typed, with nothing in it read as Markdown.

    Escaping Markdown punctuation is not enough: Streamlit's Markdown links any bare ``http://…``,
    ``www.…`` or e-mail address whatever the escapes. Inside a code span nothing is parsed: no link,
    picture, tag, colour directive, maths or emoji. The fence is one backtick longer than any run of
    backticks in ``text``, and spaces pad it so a backtick at either end stays text. A code span is
    one line: line breaks and runs of spaces show as one space. Empty text gives an empty string.
    """
    flat = " ".join(text.split())
    if not flat:
        return ""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(flat)), default=0) + 1)
    return f"{fence} {flat} {fence}"


def table_cell(text: str) -> str:
    """``code_span(text)`` for a cell of a Markdown table, whose rows split at a pipe even inside a code span
    unless the pipe is escaped: every pipe gets an odd number of backslashes before it."""
    return _PIPE.sub(lambda m: m.group(1) + ("" if len(m.group(1)) % 2 else "\\") + "|", code_span(text))


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@overload
def scrub(text: str, secrets: Iterable[str | None] = ()) -> str: ...
@overload
def scrub(text: dict[str, Any], secrets: Iterable[str | None] = ()) -> dict[str, Any]: ...
@overload
def scrub(text: list[Any] | tuple[Any, ...], secrets: Iterable[str | None] = ()) -> list[Any]: ...


def scrub(text: Any, secrets: Iterable[str | None] = ()) -> Any:
    """``text`` with every key-shaped string and every one of ``secrets`` replaced by ``[redacted]``.

    Key-shaped means an ``sk-…`` key (``sk-proj-…`` too), a ``Bearer``/``Basic`` credential and
    the ``user:password@`` part of a URL. ``secrets`` are matched exactly (the configured key);
    ones shorter than six characters are ignored, since they are placeholders, not secrets.

    A record (a dict, list or tuple, as exports and metadata write them) comes back as a copy with every
    string in it scrubbed and every field named like a credential (``api_key``, ``Authorization``, …)
    left out; a tuple comes back a list, and a number or None as it is.
    """
    secrets = tuple(secrets)
    if isinstance(text, dict):
        return {k: scrub(v, secrets) for k, v in text.items()
                if not (isinstance(k, str) and _CREDENTIAL_NAME.search(k))}
    if isinstance(text, (list, tuple)):
        return [scrub(v, secrets) for v in text]
    if not isinstance(text, str):
        return text
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return _KEY_SHAPED.sub(REDACTED, text)


def redact_url(url: str) -> str:
    """``url`` without its ``user:password@`` and its query string or fragment: safe to show and store.

    ``http://me:pw@host:8080/v1/?api-key=x`` becomes ``http://host:8080/v1``. Text that is not a URL
    is only scrubbed of anything key-shaped.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return scrub(url)
    if not parts.scheme or not parts.netloc or host is None:
        return scrub(url)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return scrub(urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")))


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it passed through ``redact_url`` and anything key-shaped scrubbed."""
    return scrub(_URL.sub(lambda m: redact_url(m.group(0)), text))
