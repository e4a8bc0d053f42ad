"""Text that reaches the page: shown exactly as typed, and scrubbed of secrets.

``literal`` escapes what people typed for Streamlit markdown. ``scrub`` and ``redact_url`` remove
keys, passwords and query strings from text a server sent or a URL someone entered, before it is
shown, logged or stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

__all__ = ["literal", "shorten", "scrub", "redact_url", "redact_urls_in", "REDACTED"]

# Markdown punctuation, HTML brackets, and Streamlit's own ':' (colours, icons) and '$' (maths).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&])")

REDACTED = "[redacted]"

# Key-shaped text: OpenAI keys (sk-…, sk-proj-…, also half-masked ones), any Authorization
# credential, and the user:password part of a URL.
_KEY_SHAPED = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-*]{6,}")
_CREDENTIAL = re.compile(r"\b(Bearer|Basic)(\s+|%20|\+)[^\s\"',;]+", re.IGNORECASE)
_URL_USERINFO = re.compile(r"\b([a-z][a-z0-9+.\-]*://)[^/\s@\"']+@", re.IGNORECASE)
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s\"'<>]+", re.IGNORECASE)

# Shorter "secrets" (a placeholder such as "none") would blank ordinary words out of messages.
_MIN_SECRET = 6


def literal(text: str) -> str:
    """``text`` escaped for Streamlit markdown, so tags, emphasis and colour codes show as typed."""
    escaped = _SPECIAL.sub(r"\\\1", text)
    return escaped.replace("\n", "  \n")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every key-shaped string and every one of ``secrets`` replaced by ``[redacted]``.

    Key-shaped means an ``sk-…`` key (``sk-proj-…`` too), a ``Bearer``/``Basic`` credential and
    the ``user:password@`` part of a URL. ``secrets`` are matched exactly (the configured key);
    ones shorter than six characters are ignored, since they are placeholders, not secrets.
    """
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
