"""The offline backend behind a log of every (method, path) it was asked for: for tests that count what was sent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def logged_offline(**options: Any) -> Iterator[tuple[Any, list[tuple[str, str]]]]:
    """``imagelab.offline.start_server(**options)`` with its request log; stopped afterwards."""
    from imagelab.offline import start_server

    log: list[tuple[str, str]] = []

    def logged(app: Any) -> Any:
        async def logging_app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                log.append((scope["method"], scope["path"]))
            await app(scope, receive, send)

        return logging_app

    server = start_server(wrap=logged, **options)
    try:
        yield server, log
    finally:
        server.stop()
