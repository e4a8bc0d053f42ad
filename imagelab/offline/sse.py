"""Server-sent events for the offline backend: the framing of one event and the streaming response.

Owns ``sse`` (one ``event: <type>`` / ``data: <json>`` frame as bytes) and ``event_stream``
(a ``text/event-stream`` response, not cached, around an async iterator of frames). It imports
nothing else from the package.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

__all__ = ["sse", "event_stream"]


def sse(event_type: str, data: dict[str, Any]) -> bytes:
    return f"event: {event_type}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def event_stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(events, media_type="text/event-stream", headers={"cache-control": "no-cache"})
