"""The run engine: every request the app sends runs here, outliving the page that asked for it.

A page *submits* a ``JobRequest`` and gets a run id back at once; a bounded pool of worker
threads per backend sends the request, saves every image the moment it arrives and records
the run's status in the store::

    queued → running → ok | partial | failed | cancelled      (interrupted: ``Store.recover``)

``ok`` means every requested image was saved; fewer is ``partial`` and says so; none is
``failed``. A text-only spec (``text_only``, e.g. ``prompts.PromptRequest``) is ``ok`` once its
words came back, kept in the run's ``reply``. While a job runs, its live state — elapsed time,
the latest preview of each image, the images saved so far — is kept in memory (``JobState``); the
store holds everything else, so a reload, a second tab or a restarted app sees the same runs.
Streamlit stops a script run whenever the person clicks, so nothing here may depend on one:
workers get plain data and never touch the page. The engine never imports Streamlit; pages poll
``version`` while a job is active.

    engine = RunEngine(store)
    run_id = engine.submit(JobRequest(spec, generate, connection, page="generate"))
    engine.wait(run_id)          # tests and benchmarks; pages poll instead
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from .client import (
    Connection,
    Failed,
    FinalImage,
    ImageLabError,
    PartialImage,
    ResponseProgress,
    StreamCut,
    TurnReply,
    UsageReport,
    cancel_response,
    make_client,
    resume,
    translate_error,
)
from .costs import Cost, Estimate, actual, estimate
from .images import display_copy
from .store import ImageRecord, StorageError, Store

__all__ = ["RunEngine", "JobRequest", "JobState", "run_status", "DEFAULT_WORKERS", "EventCall", "STATUS_WORDS"]

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 4
# Finished jobs stay in memory this long so a page can show their last preview without a gap.
_KEEP_FINISHED_SECONDS = 600.0

# A run's status as a person reads it.
STATUS_WORDS = {"queued": "waiting for a free worker", "running": "running", "ok": "done", "partial": "partly done",
                "failed": "failed", "cancelled": "cancelled", "interrupted": "interrupted"}

EventCall = Callable[[Any, Any], Iterator[Any]]


@dataclass(frozen=True)
class JobRequest:
    """What a page asks the engine to run: a spec, the client function that sends it, and where to."""

    spec: Any
    call: EventCall                      # (SDK client, spec) -> client events: generate, edit, a turn …
    connection: Connection
    page: str
    parents: tuple[str, ...] = ()        # hashes of the pictures this run is made from (lineage)
    estimate: Estimate | None = None
    group: str | None = None             # runs submitted together (a sweep)
    label: str | None = None             # this run's place in its group ("quality=low · item=chair")
    on_queued: Callable[[int], None] | None = None       # after the run row exists, before it can start
    on_finish: Callable[[JobState], None] | None = None  # in the worker, once the run row is final


@dataclass
class JobState:
    """A job as it runs: read by pages, written only by its worker."""

    run_id: int
    page: str
    model: str
    prompt: str
    requested: int
    group: str | None = None
    label: str | None = None
    status: str = "queued"
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    previews: dict[int, tuple[int, bytes]] = field(default_factory=dict)  # image index -> (partial no., bytes)
    images: list[ImageRecord] = field(default_factory=list)
    errors: list[ImageLabError] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    cost: Cost | None = None
    request_id: str | None = None
    reply: TurnReply | None = None
    response_id: str | None = None       # a background response this run follows (a conversation turn)
    sequence: int | None = None          # the last of its events seen
    cancel_requested: bool = False
    client: Any = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def elapsed(self) -> float:
        """Seconds since the job started (or was queued), up to when it finished."""
        start = self.started_at or self.submitted_at
        return (self.finished_at or time.time()) - start


@dataclass(frozen=True)
class _Resumed:
    """What the engine needs to know of a resumed run's spec (the run row has the rest)."""

    model: str
    prompt: str
    n: int

    def to_record(self) -> dict[str, Any]:
        return {"model": self.model, "n": self.n}


def _resumable(run: Any) -> bool:
    """A background response outlives this process at the API; one on the built-in backend does not."""
    return bool(run.response_id) and not str(run.backend or "").startswith("Offline")


def run_status(requested: int, saved: int, *, cancelled: bool = False) -> str:
    """``ok`` only when every requested image was saved; 0 images is never ``ok``."""
    if cancelled:
        return "cancelled"
    if saved == 0:
        return "failed"
    return "ok" if saved >= requested else "partial"


class RunEngine:
    """One per process and data directory: a worker pool per backend, the store as the truth."""

    def __init__(self, store: Store, *, workers: int = DEFAULT_WORKERS,
                 on_resumed: Callable[[JobState], None] | None = None) -> None:
        """``on_resumed`` is called (in the worker) when a run resumed after a restart has finished."""
        self.store = store
        self._on_resumed = on_resumed
        self.workers = workers
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._jobs: dict[int, JobState] = {}
        self._futures: dict[int, Future[None]] = {}
        self._requests: dict[int, JobRequest] = {}
        self._changed = threading.Condition()
        self._version = 0
        # Whatever a previous process left queued or running is interrupted now (keeping what it saved),
        # except background responses, which went on at the API and are resumed (``resume_pending``).
        self.recovered = store.recover(_resumable)
        self._pending = {run.id: run for run in store.unfinished_runs()}

    # --- what pages call ----------------------------------------------------------------------

    def submit(self, request: JobRequest) -> int:
        """Record the run as ``queued`` and hand it to a worker; return its run id at once."""
        spec = request.spec
        # a spec that prices itself (a request for words) says so; image specs go through the catalog
        est = request.estimate or (spec.estimate() if hasattr(spec, "estimate") else estimate(spec))
        requested = max(int(getattr(spec, "n", 1) or 1), 1)
        prompt = getattr(spec, "prompt", "")
        run_id = self.store.start_run(request.page, spec.model, prompt, spec.to_record(), asdict(est),
                                      request.connection.label, status="queued", requested=requested,
                                      group_id=request.group, label=request.label)
        job = JobState(run_id, request.page, spec.model, prompt, requested, request.group, request.label)
        with self._changed:
            self._jobs[run_id] = job
        if request.on_queued is not None:
            request.on_queued(run_id)
        self._forget_old()
        self._requests[run_id] = request
        self._futures[run_id] = self._pool(request.connection).submit(self._work, job, request)
        self._bump()
        return run_id

    def cancel(self, run_id: int) -> bool:
        """Stop a queued or running job; what it already saved stays. False when it was not active."""
        job = self._jobs.get(run_id)
        if job is None or not job.active:
            return False
        job.cancel_requested = True
        future = self._futures.get(run_id)
        if future is not None and future.cancel():  # never started: finish it here
            self._finish(job, self._requests.get(run_id), [])
        elif job.client is not None:
            # closing the client ends a stream that is waiting for its next event (one already closing is fine)
            with contextlib.suppress(Exception):
                job.client.close()
        self._bump()
        return True

    def job(self, run_id: int) -> JobState | None:
        return self._jobs.get(run_id)

    def active(self, *, page: str | None = None, group: str | None = None) -> list[JobState]:
        """Queued and running jobs, oldest first, optionally of one page or group."""
        with self._changed:
            jobs = list(self._jobs.values())
        return [j for j in jobs if j.active and (page is None or j.page == page)
                and (group is None or j.group == group)]

    def finished_since(self, moment: float, *, page: str | None = None) -> list[JobState]:
        """Jobs that finished after ``moment`` (``time.time()``), oldest first."""
        with self._changed:
            jobs = list(self._jobs.values())
        return [j for j in jobs if not j.active and (j.finished_at or 0) >= moment
                and (page is None or j.page == page)]

    @property
    def version(self) -> int:
        """A number that changes whenever any job does: pages redraw when it moves."""
        return self._version

    def wait_for_change(self, version: int, timeout: float) -> int:
        with self._changed:
            self._changed.wait_for(lambda: self._version != version, timeout)
            return self._version

    def wait(self, run_id: int, timeout: float = 60.0) -> JobState:
        """Block until the job has finished (tests and benchmarks; pages never block)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                job = self._jobs.get(run_id)
                if job is None or not job.active:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"run {run_id} did not finish within {timeout} s")
                self._changed.wait(left)
        if job is None:
            raise KeyError(run_id)
        return job

    def wait_all(self, timeout: float = 60.0) -> None:
        for job in list(self._jobs.values()):
            if job.active:
                self.wait(job.run_id, timeout)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait`` let the running ones finish, else cancel them."""
        if not wait:
            for job in self.active():
                self.cancel(job.run_id)
        for pool in self._pools.values():
            pool.shutdown(wait=wait)

    def resume_pending(self, connection: Connection) -> list[int]:
        """Resume the background responses a previous process was following on this connection's backend.

        Called whenever a page has a connection; runs whose backend is another stay pending.
        """
        resumed = []
        for run in [r for r in self._pending.values() if r.backend == connection.label]:
            del self._pending[run.id]
            job = JobState(run.id, run.page, run.model, run.prompt, run.requested or 1, run.group_id, run.label,
                           status="running", response_id=run.response_id, sequence=run.sequence)
            job.images = self.store.images_of_run(run.id)
            fmt = str(run.params.get("output_format") or "png")
            response_id, after = str(run.response_id), run.sequence if run.sequence is not None else -1

            def call(client: Any, spec: Any, response_id: str = response_id, after: int = after,
                     fmt: str = fmt) -> Iterator[Any]:
                return resume(client, response_id, after, output_format=fmt, model=spec.model)

            request = JobRequest(_Resumed(run.model, run.prompt, job.requested), call, connection, run.page,
                                 on_finish=self._on_resumed)
            with self._changed:
                self._jobs[run.id] = job
            self._requests[run.id] = request
            self._futures[run.id] = self._pool(connection).submit(self._work, job, request)
            resumed.append(run.id)
        if resumed:
            self._bump()
        return resumed

    @property
    def pending(self) -> list[int]:
        """Runs waiting to be resumed once a page connects to their backend."""
        return list(self._pending)

    # --- the worker ---------------------------------------------------------------------------

    def _pool(self, conn: Connection) -> ThreadPoolExecutor:
        key = conn.base_url or "openai"
        with self._changed:
            pool = self._pools.get(key)
            if pool is None:
                pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"imagelab-run-{len(self._pools)}")
                self._pools[key] = pool
        return pool

    def _bump(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def _work(self, job: JobState, request: JobRequest) -> None:
        if job.cancel_requested:
            self._finish(job, request, [])
            return
        job.started_at = time.time()
        job.status = "running"
        self.store.mark_running(job.run_id)
        self._bump()
        spec = request.spec
        client = make_client(request.connection)
        job.client = client
        parents = list(request.parents)
        try:
            events = request.call(client, spec)
            try:
                for ev in events:
                    self._handle(job, ev, spec, parents)
                    if job.cancel_requested:
                        break
            finally:
                close = getattr(events, "close", None)
                if close is not None:
                    close()
        except Exception as exc:  # noqa: BLE001 - the client yields failures; anything else is said too
            if not job.cancel_requested:
                job.errors.append(translate_error(exc, base_url=request.connection.base_url, model=spec.model,
                                                 secrets=(request.connection.api_key,)))
        finally:
            job.client = None
            client.close()
            if job.cancel_requested and job.response_id:
                self._cancel_at_api(request.connection, job.response_id)
            self._finish(job, request, parents)

    @staticmethod
    def _cancel_at_api(connection: Connection, response_id: str) -> None:
        """Stop a background response at the API too, so it is not finished (and billed) for nobody."""
        with make_client(connection) as client:
            failed = cancel_response(client, response_id)
        if failed is not None:
            log.warning("cancelling %s: %s", response_id, failed.error.sentence)

    def _handle(self, job: JobState, ev: Any, spec: Any, parents: list[str]) -> None:
        if isinstance(ev, FinalImage):
            try:
                rec = self.store.add_image(job.run_id, ev.image_index, ev.data, ev.output_format, ev.width,
                                           ev.height, ev.revised_prompt, parents)
            except StorageError as exc:
                job.errors.append(ImageLabError(f"This image could not be saved. {exc.sentence}"))
            else:
                job.images.append(ImageRecord(**{**rec.__dict__, "prompt": job.prompt, "model": spec.model,
                                                 "page": job.page}))
                job.previews.pop(ev.image_index, None)
                try:  # the page that shows it next finds its display copy ready
                    display_copy(rec.hash, lambda: self.store.read_bytes(rec.hash, rec.format))
                except Exception:  # noqa: BLE001 - the picture is saved; its copy is made again when shown
                    log.debug("no display copy for %s", rec.hash)
        elif isinstance(ev, PartialImage):
            job.previews[ev.image_index] = (ev.partial_index, ev.data)
        elif isinstance(ev, Failed):
            job.errors.append(ev.error)
        elif isinstance(ev, UsageReport):
            job.usage = ev.usage
            job.request_id = ev.request_id or job.request_id
            if ev.usage:
                job.cost = actual(ev.usage, spec.model)
        elif isinstance(ev, TurnReply):
            job.reply = ev
            if getattr(spec, "text_only", False) and ev.text.strip():
                try:  # the words are the result: kept before the run shows as finished
                    self.store.set_reply(job.run_id, ev.text)
                except StorageError as exc:
                    job.errors.append(ImageLabError(f"This answer could not be saved. {exc.sentence}"))
        elif isinstance(ev, ResponseProgress):
            job.response_id, job.sequence = ev.response_id, ev.sequence_number
            with contextlib.suppress(StorageError):  # where to pick the response up again if this process stops
                self.store.set_resume_point(job.run_id, ev.response_id, ev.sequence_number)
        self._bump()

    def _finish(self, job: JobState, request: JobRequest | None, parents: list[str]) -> None:
        saved = len(job.images)
        if request is not None and getattr(request.spec, "text_only", False):  # words, not pictures
            saved = 1 if job.reply is not None and job.reply.text.strip() and not job.errors else 0
        status = run_status(job.requested, saved, cancelled=job.cancel_requested)
        if status == "partial" and not job.errors:
            job.errors.append(StreamCut(f"{saved} of {job.requested} images arrived; the server sent no more. "
                                        "The ones that arrived are kept; run again for the rest.",
                                        request_id=job.request_id))
        if status == "failed" and not job.errors:
            words = request is not None and getattr(request.spec, "text_only", False)
            job.errors.append(ImageLabError("The model answered without any words; ask again." if words else
                                            "The server answered without any image; nothing was saved.",
                                            request_id=job.request_id))
        sentences = [e.sentence for e in job.errors]
        if status == "cancelled":
            sentences.insert(0, f"Cancelled; {saved} of {job.requested} image(s) had been saved and are kept.")
        first = job.errors[0] if job.errors else None
        job.request_id = job.request_id or (first.request_id if first else None)
        try:
            self.store.finish_run(job.run_id, status, usage=job.usage,
                                  actual_dollars=job.cost.dollars if job.cost else None, request_id=job.request_id,
                                  error="; ".join(sentences) or None)
        except StorageError as exc:  # the row stays unfinished; the next start-up marks it interrupted
            log.warning("run %s could not be recorded: %s", job.run_id, exc.sentence)
            job.errors.append(ImageLabError(f"This run could not be recorded. {exc.sentence}"))
        job.finished_at = time.time()
        job.previews.clear()
        job.status = status
        if request is not None and request.on_finish is not None:
            try:
                request.on_finish(job)
            except Exception:  # noqa: BLE001 - the run is saved; a follow-up that fails must not hide it
                log.exception("after run %s", job.run_id)
        self._futures.pop(job.run_id, None)
        self._requests.pop(job.run_id, None)
        self._bump()

    def _forget_old(self) -> None:
        cutoff = time.time() - _KEEP_FINISHED_SECONDS
        with self._changed:
            for run_id in [r for r, j in self._jobs.items() if not j.active and (j.finished_at or 0) < cutoff]:
                del self._jobs[run_id]
