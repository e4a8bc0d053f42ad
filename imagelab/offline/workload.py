"""How much drawing the offline server does at once: ``RenderGate``, one per app (``app.state.render_gate``).

Every picture is drawn, and every uploaded picture decoded, in a worker thread. Unbounded, a burst of
requests drew them all at once and memory grew with the burst (100 requests: about 40 pictures at once,
2.4 GB). The gate lets ``workers`` of them run at once (one per CPU), lets ``queue`` more requests wait
their turn, and answers any request beyond that at the door with the API's 429 and ``retry-after``, which
the SDK's own retries honour. ``most_running`` is the most that ran at once, for tests and benches.
Builds on ``protocol``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .protocol import APIError

__all__ = ["RenderGate", "render_gate"]

T = TypeVar("T")

RETRY_AFTER_SECONDS = 1


class RenderGate:
    """At most ``workers`` drawings at once (default: the CPU count), at most ``queue`` requests waiting
    (default: four per worker, at least 16 — more than the app's run engine sends at once)."""

    def __init__(self, workers: int | None = None, queue: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.queue = max(0, queue if queue is not None else max(16, 4 * self.workers))
        self.running = 0
        self.waiting = 0
        self.most_running = 0
        self.refused = 0
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop, on first use

    def admit(self) -> None:
        """At the door of a request that will draw: the API's 429 when the queue is full."""
        if self.running >= self.workers and self.waiting >= self.queue:
            self.refused += 1
            raise APIError(429, f"The offline backend is drawing as many pictures as it can. Please try again in "
                                f"{RETRY_AFTER_SECONDS}s.", type="requests", code="rate_limit_exceeded",
                           headers={"retry-after": str(RETRY_AFTER_SECONDS)})

    async def run(self, work: Callable[..., T], *args: object, admitted: bool = False) -> T:
        """``work(*args)`` in a worker thread once a place is free. Refused at the door (``admit``) unless
        the request was ``admitted`` already (a stream, whose answer has begun)."""
        if not admitted:
            self.admit()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            # a cancelled request waits for its thread to finish, so ``running`` never undercounts
            return await run_in_threadpool(work, *args)
        finally:
            self.running -= 1
            self._slots.release()


def render_gate(request: Request) -> RenderGate:
    """The gate of the app answering ``request``."""
    gate: RenderGate = request.app.state.render_gate
    return gate
