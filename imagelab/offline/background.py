"""Background responses for the offline backend: work that outlives the connection that asked for it.

Owns ``BackgroundRun`` (one background response: the asyncio task that makes its events on the
server's loop, its event log with sequence numbers from 0, and its current body), the app's
bounded registry of runs (``background_runs``: at most ``MAX_RUNS`` / ``MAX_RUN_BYTES``, oldest
dropped first), ``start_run`` (runs an async iterator of ``(type, data)`` events in a task that no
connection owns), ``follow`` (the logged events after a sequence number, then the live ones until
the run ends) and ``cancel_run``. ``numbered`` frames events with sequence numbers for streams that
are not logged. It knows of the events only the ``response`` they carry and the output items they
finish; ``responses`` says what they are. Builds on ``sse`` and ``files`` (``BoundedStore``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from .files import BoundedStore
from .sse import sse

__all__ = [
    "MAX_RUNS",
    "MAX_RUN_BYTES",
    "TERMINAL",
    "Frame",
    "frame",
    "BackgroundRun",
    "background_runs",
    "start_run",
    "follow",
    "cancel_run",
    "numbered",
]

MAX_RUNS = 500
MAX_RUN_BYTES = 512 * 1024 * 1024
TERMINAL = frozenset({"completed", "failed", "incomplete", "cancelled"})

Frame = tuple[str, bytes]  # (event type, the server-sent event as sent)
_FINAL_EVENTS = {"response.completed": "completed", "response.failed": "failed",
                 "response.incomplete": "incomplete"}


def frame(kind: str, data: dict[str, Any], sequence_number: int) -> Frame:
    return kind, sse(kind, {"type": kind, "sequence_number": sequence_number, **data})


async def numbered(events: AsyncIterator[tuple[str, dict[str, Any]]]) -> AsyncIterator[Frame]:
    """``events`` framed with sequence numbers 0, 1, … (a stream that is not logged)."""
    seq = 0
    async for kind, data in events:
        yield frame(kind, data, seq)
        seq += 1


@dataclass(eq=False)
class BackgroundRun:
    """One background response: its log of framed events and its body as a poll sees it now."""

    response_id: str
    body: dict[str, Any]
    events: list[Frame] = field(default_factory=list)
    size: int = 0
    task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def status(self) -> str:
        return str(self.body.get("status"))

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    def record(self, kind: str, data: dict[str, Any]) -> None:
        """Log one event (numbered in order) and bring the body up to date with it."""
        if self.finished:  # a cancelled run says nothing more
            return
        entry = frame(kind, data, len(self.events))
        self.events.append(entry)
        self.size += len(entry[1])
        response = data.get("response")
        if isinstance(response, dict):
            self.body = response
        elif kind == "response.output_item.done" and isinstance(data.get("item"), dict):
            self.body = {**self.body, "output": [*self.body.get("output", []), data["item"]]}
        self._wake()

    def settle(self, status: str, error: dict[str, Any] | None = None) -> None:
        """End the run with ``status`` (when it has not ended already)."""
        if self.finished:
            return
        self.body = {**self.body, "status": status, "error": error}
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


def background_runs(state: Any) -> BoundedStore:
    """The app's background runs (created on first use)."""
    if not hasattr(state, "imagelab_background"):
        state.imagelab_background = BoundedStore(MAX_RUNS, MAX_RUN_BYTES)
        state.imagelab_background_tasks = set()
    store: BoundedStore = state.imagelab_background
    return store


def start_run(state: Any, run: BackgroundRun, events: AsyncIterator[tuple[str, dict[str, Any]]]) -> None:
    """Make ``events`` in a task on the running loop, logging each into ``run``; no connection owns it."""
    runs = background_runs(state)
    runs.put(run.response_id, run, 4096)
    tasks: set[asyncio.Task[None]] = state.imagelab_background_tasks
    task = asyncio.get_running_loop().create_task(_drive(run, events), name=f"background {run.response_id}")
    run.task = task
    tasks.add(task)  # the loop keeps only a weak reference to a task

    def done(_: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if run.response_id in runs:
            runs.put(run.response_id, run, run.size + 4096)  # its size is known now

    task.add_done_callback(done)


async def _drive(run: BackgroundRun, events: AsyncIterator[tuple[str, dict[str, Any]]]) -> None:
    try:
        async for kind, data in events:
            run.record(kind, data)
            if kind in _FINAL_EVENTS:
                break
    except asyncio.CancelledError:
        run.settle("cancelled")
        raise
    except Exception as exc:  # noqa: BLE001 - the API reports a failed response, not a dropped one
        error = {"code": "server_error", "message": f"The offline server failed: {type(exc).__name__}: {exc}"}
        run.record("response.failed", {"response": {**run.body, "status": "failed", "error": error}})
    finally:
        if not run.finished:
            run.settle("failed", {"code": "server_error", "message": "The response ended without an answer."})
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


async def follow(run: BackgroundRun, starting_after: int) -> AsyncIterator[Frame]:
    """The events after sequence number ``starting_after``, then each new one until the run ends."""
    position = max(0, starting_after + 1)
    while True:
        changed = run._changed
        while position < len(run.events):
            yield run.events[position]
            position += 1
        if run.finished:
            return
        await changed.wait()


def cancel_run(run: BackgroundRun) -> None:
    """Stop the run's work and mark it ``cancelled`` (a run that has ended is left as it is)."""
    if run.finished:
        return
    run.settle("cancelled")
    if run.task is not None:
        run.task.cancel()
