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

A request's ``postprocess`` (keep-exact, ``imagelab.drift``) runs in the worker on every result as
it is saved: what it makes is saved beside the result (which is marked ``raw``) before the run
finishes, whatever the page does meanwhile. ``JobState.images`` holds one record per image index:
the derived one when there is one.

    engine = RunEngine(store)
    run_id = engine.submit(JobRequest(spec, generate, connection, page="generate"))
    engine.wait(run_id)          # tests and benchmarks; pages poll instead
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from imagelab.client import (
    Connection,
    Failed,
    FinalImage,
    ModerationBlocked,
    PartialImage,
    RequestFailed,
    ResponseProgress,
    StreamCut,
    TurnReply,
    UsageReport,
    cancel_response,
    interrupt,
    make_client,
    resume,
    translate_error,
)
from imagelab.costs import Cost, Estimate, actual, actual_words, batch_price, estimate
from imagelab.drift import DerivedImage
from imagelab.errors import ImageLabError
from imagelab.history.errors import DatabaseUnreachable, NotKept
from imagelab.images import display_copy
from imagelab.people import Person
from imagelab.specs import WAITING_WINDOWS
from imagelab.store import ImageRecord, StorageError, Store, content_hash

from .batches import follow
from .leases import EngineLease, live_claims
from .status import run_status

if TYPE_CHECKING:
    from .kinds import Spec

__all__ = ["RunEngine", "JobRequest", "JobState", "DEFAULT_WORKERS", "EventCall"]

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 4
# Finished jobs stay in memory this long so a page can show their last preview without a gap.
_KEEP_FINISHED_SECONDS = 600.0


EventCall = Callable[[Any, Any], Iterator[Any]]
_T = TypeVar("_T")


@dataclass(frozen=True)
class JobRequest:
    """What a page asks the engine to run: a spec, the client function that sends it, and where to."""

    spec: Spec
    call: EventCall                      # (SDK client, spec) -> client events: generate, edit, a turn …
    connection: Connection
    page: str
    parents: tuple[str, ...] = ()        # hashes of the pictures this run is made from (lineage)
    estimate: Estimate | None = None
    group: str | None = None             # runs submitted together (a sweep)
    label: str | None = None             # this run's place in its group ("quality=low · item=chair")
    on_queued: Callable[[int], None] | None = None       # after the run row exists, before it can start
    on_finish: Callable[[JobState], None] | None = None  # in the worker, once the run row is final
    budget: Any = None                   # budgets.Guard: refuses to start a job that would cross a spending limit
    moderate: bool = False               # check the prompt and input images with the moderation endpoint first
    # in the worker, for each saved result: pictures made from it (keep-exact), saved beside it
    postprocess: Callable[[bytes, str], list[DerivedImage]] | None = None
    job: Any = None                      # the job as data (``kinds.Job``), when it was made from one
    owner: Person | None = None          # who asked (with login): the run and its pictures are theirs


class BatchNotSent(StorageError):
    """The history's database went away while a Batch API group was being recorded, before any of it was sent
    (nothing is asked of the API before its rows are written)."""

    def __init__(self, cause: DatabaseUnreachable) -> None:
        ImageLabError.__init__(self, f"Nothing was sent. {cause.sentence}")


class NotAllSent(ImageLabError):
    """The history stopped taking rows part way through a group (a sweep): ``run_ids`` of ``group`` went,
    the others were not sent."""

    def __init__(self, group: str, run_ids: list[int], total: int, cause: str) -> None:
        super().__init__(f"{total - len(run_ids)} of the {total} requests were not sent ({len(run_ids)} went). "
                         f"{cause}")
        self.group, self.run_ids = group, run_ids


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
    owner: str | None = None             # whose run it is (the identity provider's subject); None without login
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
    stopped: str | None = None           # why the job was not sent (a spending limit), as a sentence
    # pictures in storage whose rows the database did not take in time (noted in ``Store.unrecorded_dir``)
    unrecorded: list[ImageRecord] = field(default_factory=list)
    database_gave_up: bool = False       # this job has waited out one window for the database already
    client: Any = field(default=None, repr=False)

    @classmethod
    def of_run(cls, run: Any, **fields: Any) -> JobState:
        """The state of a run this process did not submit, from its row (``fields``: what else is known)."""
        fields.setdefault("owner", run.owner)
        return cls(run.id, run.page, run.model, run.prompt, run.requested or 1, run.group_id, run.label, **fields)

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def saved(self) -> int:
        """Pictures saved so far."""
        return len(self.images)

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

    text_only = False

    def to_record(self) -> dict[str, Any]:
        return {"model": self.model, "n": self.n}

    def to_json(self) -> dict[str, Any]:
        return self.to_record()

    def estimate(self) -> Estimate:
        return Estimate(0, 0, 0, 0.0, True)

    def inputs(self) -> list[tuple[bytes, str]]:
        return []


def _resumable(run: Any) -> bool:
    """A background response outlives this process at the API; one on the built-in backend does not."""
    return bool(run.response_id) and not str(run.backend or "").startswith("Offline")


class RunEngine:
    """One per process and data directory: a worker pool per backend, the store as the truth."""

    def __init__(self, store: Store, *, workers: int = DEFAULT_WORKERS,
                 on_resumed: Callable[[JobState], None] | None = None, batch_poll: float = 5.0,
                 recover: bool = True) -> None:
        """``on_resumed`` is called (in the worker) when a run resumed after a restart has finished;
        ``batch_poll`` is how often, in seconds, a Batch API job asks the API for its progress. Without
        ``recover`` the runs left unfinished are not touched (the queue settles those of dead workers)."""
        self.store = store
        self.batch_poll = batch_poll
        self._stop = threading.Event()
        self._batch_threads: dict[int, threading.Thread] = {}
        self._on_resumed = on_resumed
        self.workers = workers
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._copier = ThreadPoolExecutor(2, thread_name_prefix="imagelab-display-copies")
        self._jobs: dict[int, JobState] = {}
        self._futures: dict[int, Future[None]] = {}
        self._requests: dict[int, JobRequest] = {}
        self._changed = threading.Condition()
        self._version = 0  # moves on every change
        # A session redraws for its own person's runs only (``version_for``): one person's count per owner, and
        # one for changes that are no one person's.
        self._everyone = 0
        self._of_owner: dict[str | None, int] = {}
        # This engine's runs are its own: another process on the same data folder leaves them alone (``leases``).
        self.lease = EngineLease(store.root)
        claims = live_claims(store.root, own=self.lease)
        # Whatever a dead process left queued or running is interrupted now (keeping what it saved), except
        # background responses, which went on at the API and are resumed (``resume_pending``), and the runs
        # of engines still alive. Batch API jobs went on at the API too: their cells stay as they are until
        # the batch is followed again. Temporary files are cleared only when no other engine may be writing.
        batches = [b for b in store.batches(active=True) if b.id not in claims.batches]
        in_batches = {rid for b in store.batches(active=True) for rid in b.run_ids}

        def left_alone(run: Any) -> bool:
            return _resumable(run) or run.id in in_batches or claims.holds(run.id, run.started_at)

        if not recover:
            self.recovered: list[int] = []
            self._pending: dict[int, Any] = {}
            self._pending_batches: dict[int, Any] = {}
            return
        self.recovered = store.recover(left_alone, sweep=not claims.engines)
        self._pending = {run.id: run for run in store.unfinished_runs()
                         if run.id not in in_batches and not claims.holds(run.id, run.started_at)}
        self._pending_batches = {b.id: b for b in batches}

    # --- what pages call ----------------------------------------------------------------------

    def submit(self, request: JobRequest) -> int:
        """Record the run as ``queued`` and hand it to a worker; return its run id at once."""
        job = self._record_queued(request)
        self._forget_old()
        self._requests[job.run_id] = request
        self._futures[job.run_id] = self._pool(request.connection).submit(self._work, job, request)
        self._bump(job)
        return job.run_id

    def _record_queued(self, request: JobRequest, *, leased: bool = True) -> JobState:
        """The run's row, ``queued``, and its state here; the page is told its id. ``leased``: this process's
        lease holds the run, as this process's pool sends it."""
        spec = request.spec
        # a spec that prices itself (a request for words) says so; image specs go through the catalog
        est = request.estimate or spec.estimate()
        requested = max(int(spec.n or 1), 1)
        with self.lease.starting() if leased else contextlib.nullcontext():
            run_id = self.store.start_run(request.page, spec.model, spec.prompt, spec.to_record(), asdict(est),
                                          request.connection.label, status="queued", requested=requested,
                                          group_id=request.group, label=request.label,
                                          billed=not request.connection.offline, owner=request.owner,
                                          durable=False)  # made durable when marked running, before it is sent
            if leased:
                self.lease.hold(run_id)
        job = JobState(run_id, request.page, spec.model, spec.prompt, requested, request.group, request.label,
                       owner=request.owner.subject if request.owner is not None else None)
        with self._changed:
            self._jobs[run_id] = job
        if request.on_queued is not None:
            request.on_queued(run_id)
        return job

    def cancel(self, run_id: int) -> bool:
        """Stop a queued or running job; what it already saved stays. False when it was not active."""
        return self.cancel_many([run_id]) == 1

    def cancel_many(self, run_ids: list[int]) -> int:
        """Stop these jobs (a sweep's); returns how many were active. Every queued one is taken off the pool
        before any is recorded, so none of them starts while the others are being recorded."""
        jobs = [j for j in (self._jobs.get(r) for r in run_ids) if j is not None and j.active]
        unstarted = []
        for job in jobs:
            job.cancel_requested = True
            future = self._futures.get(job.run_id)
            if future is not None and future.cancel():  # never started: finished here
                unstarted.append(job)
            else:
                self._stop_running(job)
        for job in unstarted:
            self._finish(job, self._requests.get(job.run_id), [])
        self._bump(*jobs)
        return len(jobs)

    def _stop_running(self, job: JobState) -> None:
        if job.client is not None:
            # cutting and closing the client ends a stream waiting for its next event (one already closing is fine)
            with contextlib.suppress(Exception):
                interrupt(job.client)
                job.client.close()

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
        """A number that changes whenever any job does."""
        return self._version

    def version_for(self, owner: str | None) -> int:
        """A number that changes whenever a job of ``owner``'s does (or a change that is no one person's): a
        person's live parts redraw when it moves, not for everyone else's runs. ``None`` (no login): any job."""
        if owner is None:
            return self._version
        return self._everyone + self._of_owner.get(owner, 0)

    def wait_for_change(self, version: int, timeout: float, owner: str | None = None) -> int:
        """Wait up to ``timeout`` seconds for ``version_for(owner)`` to move past ``version``; its value then."""
        with self._changed:
            self._changed.wait_for(lambda: self.version_for(owner) != version, timeout)
            return self.version_for(owner)

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
        """Stop taking jobs; with ``wait`` let the running ones finish, else cancel them.

        Batch API jobs are left going at the API; the next engine on this data directory follows them again.
        """
        if not wait:
            for job in self.active():
                self.cancel(job.run_id)
        for pool in self._pools.values():
            pool.shutdown(wait=wait)
        self._copier.shutdown(wait=wait)
        self._stop.set()
        for thread in list(self._batch_threads.values()):
            thread.join(30)
        self.lease.close()

    # --- Batch API jobs -----------------------------------------------------------------------

    def submit_batch(self, items: list[tuple[Any, str | None]], connection: Connection, *, page: str = "sweep",
                     group: str | None = None, budget: Any = None, owner: Person | None = None) -> str:
        """Send (spec, label) cells as Batch API jobs (one per endpoint) at half price; return the group.

        Each cell is a run of the group. With a ``budget`` guard, cells past a spending limit are not sent
        (their runs say so); the others go.
        """
        group = group or uuid.uuid4().hex[:12]
        with self.lease.starting():  # the cells are this engine's until their batch rows exist
            self._submit_batch(items, connection, page, group, budget, owner)
        self._bump()
        return group

    def _submit_batch(self, items: list[tuple[Any, str | None]], connection: Connection, page: str, group: str,
                      budget: Any, owner: Person | None) -> None:
        from imagelab.client.batch import endpoint_of

        rows, costs = [], []
        for spec, label in items:
            est = estimate(spec)
            dollars, _ = batch_price(est.dollars)
            priced = replace(est, dollars=dollars, approximate=True,
                             notes=(*est.notes, "Batch API price: half the synchronous one"))
            costs.append(dollars)
            rows.append({"page": page, "model": spec.model, "prompt": spec.prompt,
                         "params": {**spec.to_record(), "batch": True}, "estimate": asdict(priced),
                         "backend": connection.label, "requested": max(int(spec.n or 1), 1), "group_id": group,
                         "label": label, "billed": not connection.offline, "owner": owner})
        db = self.store.database
        run_ids: list[int] = []
        sent: list[int] = []
        refused: dict[int, str] = {}  # run id -> why a spending limit stopped it
        try:
            # Each write waits for a database that went away (``Database.patiently``) and is safe to make twice:
            # a COMMIT lost on the wire may have written it, so the group's rows and batch rows are looked for.
            run_ids = db.patiently(lambda: self._group_runs(group, len(rows)) or self.store.start_runs(rows))
            cells_in_order = [(rid, cost, spec) for rid, cost, (spec, _) in zip(run_ids, costs, items, strict=True)]
            if budget is not None:
                refused = db.patiently(lambda: budget.admit(cells_in_order, self.store.mark_running_many))
            else:
                db.patiently(lambda: self.store.mark_running_many(run_ids))
            for run_id, sentence in refused.items():
                db.patiently(partial(self.store.finish_run, run_id, "cancelled", error=sentence))
            cells: dict[str, list[tuple[int, Any]]] = {}
            for run_id, _, spec in cells_in_order:
                if run_id not in refused:
                    cells.setdefault(endpoint_of(spec), []).append((run_id, spec))
            for endpoint, pairs in cells.items():
                ids = [rid for rid, _ in pairs]
                row_id = db.patiently(partial(self._batch_row, group, endpoint, connection, ids))
                sent += ids
                self._follow(row_id, connection, dict(pairs))
        except DatabaseUnreachable as exc:
            not_sent = ("Not sent: the history's database could not be reached when the batch was to be sent, so "
                        "nothing was asked of the API for this request.")
            for run_id in (rid for rid in run_ids if rid not in sent):  # written once the database answers
                with contextlib.suppress(StorageError):
                    self.store.note_unrecorded_finish(run_id, {"status": "cancelled", "finished_at": time.time(),
                                                               "error": refused.get(run_id, not_sent)})
            if not sent:
                raise BatchNotSent(exc) from None
            raise NotAllSent(group, sent, len(items), exc.sentence) from None

    def _group_runs(self, group: str, count: int) -> list[int]:
        """The run ids of a group already recorded, oldest first (none when it has not been)."""
        return sorted(r.id for r in self.store.runs(count, group_id=group))

    def _batch_row(self, group: str, endpoint: str, connection: Connection, run_ids: list[int]) -> int:
        """The group's batch row for ``endpoint``: the one already recorded, or a new one."""
        made = [b.id for b in self.store.batches(group_id=group) if b.endpoint == endpoint]
        return made[0] if made else self.store.add_batch(group, endpoint, connection.label, run_ids)

    def cancel_batch(self, group: str) -> int:
        """Ask the API to cancel the group's batches; lines already done are kept. Returns how many were active."""
        rows = self.store.batches(group_id=group, active=True)
        for row in rows:
            self.store.update_batch(row.id, cancel_requested=1)
        self._bump()
        return len(rows)

    def _follow(self, row_id: int, connection: Connection, specs: dict[int, Any] | None) -> None:

        def run() -> None:
            try:
                follow(self.store, row_id, connection, specs=specs, stop=self._stop, poll=self.batch_poll,
                       changed=self._bump)
            except Exception:  # noqa: BLE001 - the batch row stays active and is followed again next start
                log.exception("following batch row %s", row_id)
            finally:
                self._batch_threads.pop(row_id, None)
                self.lease.release_batch(row_id)
                self._bump()

        self.lease.hold_batch(row_id)

        thread = threading.Thread(target=run, name=f"imagelab-batch-{row_id}", daemon=True)
        self._batch_threads[row_id] = thread
        thread.start()

    def resume_pending(self, connection: Connection) -> list[int]:
        """Resume the background responses a previous process was following on this connection's backend.

        Called whenever a page has a connection; runs whose backend is another stay pending.
        """
        resumed = []
        for row in [b for b in self._pending_batches.values() if b.backend == connection.label]:
            del self._pending_batches[row.id]
            self._follow(row.id, connection, None)
        for run in [r for r in self._pending.values() if r.backend == connection.label]:
            del self._pending[run.id]
            job = JobState.of_run(run, status="running", response_id=run.response_id, sequence=run.sequence)
            job.images = self.store.images_of_run(run.id)
            fmt = str(run.params.get("output_format") or "png")
            response_id, after = str(run.response_id), run.sequence if run.sequence is not None else -1
            polled = run.params.get("completion_window") in WAITING_WINDOWS  # sent without a stream: polled

            def call(client: Any, spec: Any, response_id: str = response_id, after: int = after,
                     fmt: str = fmt, polled: bool = polled) -> Iterator[Any]:
                return resume(client, response_id, after, output_format=fmt, model=spec.model, polled=polled)

            request = JobRequest(_Resumed(run.model, run.prompt, job.requested), call, connection, run.page,
                                 on_finish=self._on_resumed)
            with self._changed:
                self._jobs[run.id] = job
            self.lease.hold(run.id)
            self._requests[run.id] = request
            self._futures[run.id] = self._pool(connection).submit(self._work, job, request)
            resumed.append(run.id)
        if resumed:
            self._bump(*(self._jobs[i] for i in resumed))
        return resumed

    @property
    def pending(self) -> list[int]:
        """Runs (and batch rows) waiting to be resumed once a page connects to their backend."""
        return list(self._pending) + list(self._pending_batches)

    # --- the worker ---------------------------------------------------------------------------

    def _pool(self, conn: Connection) -> ThreadPoolExecutor:
        key = conn.base_url or "openai"
        with self._changed:
            pool = self._pools.get(key)
            if pool is None:
                pool = ThreadPoolExecutor(self.workers, thread_name_prefix=f"imagelab-run-{len(self._pools)}")
                self._pools[key] = pool
        return pool

    def _bump(self, *jobs: JobState) -> None:
        """Tell waiting pages that these jobs changed (none named: something that is no one person's)."""
        with self._changed:
            self._version += 1
            if not jobs:
                self._everyone += 1
            for owner in {job.owner for job in jobs}:
                self._of_owner[owner] = self._of_owner.get(owner, 0) + 1
            self._changed.notify_all()

    def _work(self, job: JobState, request: JobRequest) -> None:
        if job.cancel_requested:
            self._finish(job, request, [])
            return
        spec = request.spec
        if not self._start(job, request):
            self._finish(job, request, [])
            return
        job.started_at = time.time()
        job.status = "running"
        self._bump(job)
        client = make_client(request.connection)
        job.client = client
        parents = list(request.parents)
        try:
            if request.moderate:
                flagged = self._moderation(client, spec)
                if flagged is not None:
                    job.errors.append(flagged)
                    return
            if job.cancel_requested:  # cancelled while the client was being made: nothing is sent
                return
            events = request.call(client, spec)
            try:
                for ev in events:
                    self._handle(job, ev, spec, parents, request.postprocess)
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

    def _start(self, job: JobState, request: JobRequest) -> bool:
        """Mark the run running (after the spending check, when the job has one); False when it is not to be
        sent: stopped at a limit, or the database did not answer within the job's window (nothing is sent, so
        nothing is spent on a run that no record would show as started)."""
        spec = request.spec
        budget = request.budget
        try:
            if budget is None:
                self._patiently(job, lambda: self.store.mark_running(job.run_id))
                return True
            # a queued job that would cross a spending limit is not sent; check and start are tried again together
            cost = (request.estimate or spec.estimate()).dollars
            job.stopped = self._patiently(job, lambda: budget(job.run_id, cost, spec,
                                                              lambda: self.store.mark_running(job.run_id)))
            return not job.stopped
        except DatabaseUnreachable as exc:
            log.warning("run %s not started: %s", job.run_id, exc.sentence)
            job.errors.append(ImageLabError(
                f"This run was not sent: the database did not answer for {self.store.database.patience:.0f} s as "
                f"it started, so nothing was spent. {exc.sentence} Run it again once the database is back."))
            return False
        except StorageError as exc:  # a SQLite file that refuses the write: not sent either
            job.errors.append(ImageLabError(f"This run was not sent: its start could not be recorded. {exc.sentence}"))
            return False

    @staticmethod
    def _moderation(client: Any, spec: Spec) -> RequestFailed | None:
        """The check before spending: None when the moderation endpoint flags nothing, else why not sent."""
        from imagelab.client.batch import moderate

        try:
            verdict = moderate(client, spec.prompt, spec.inputs())
        except Exception as exc:  # noqa: BLE001 - no verdict, no spending
            err = translate_error(exc, base_url=str(client.base_url), secrets=(client.api_key,))
            return RequestFailed(f"The check before spending could not be made, so nothing was sent: {err.sentence}",
                                 request_id=err.request_id, status=err.status)
        if verdict.flagged:
            return ModerationBlocked(verdict.sentence(), stage="check")
        return None

    @staticmethod
    def _cancel_at_api(connection: Connection, response_id: str) -> None:
        """Stop a background response at the API too, so it is not finished (and billed) for nobody."""
        with make_client(connection) as client:
            failed = cancel_response(client, response_id)
        if failed is not None:
            log.warning("cancelling %s: %s", response_id, failed.error.sentence)

    def _handle(self, job: JobState, ev: Any, spec: Spec, parents: list[str],
                postprocess: Callable[[bytes, str], list[DerivedImage]] | None = None) -> None:
        if isinstance(ev, FinalImage):
            # the display copy is made while the save waits on the disk or the storage (SVG is kept sanitised,
            # under another hash: its copy is made from what was saved)
            data: bytes = ev.data
            copying = None if ev.output_format == "svg" else self._copier.submit(
                display_copy, content_hash(data), lambda: data)
            try:
                saved = self._save(job, ev, ev.data, ev.output_format, ev.width, ev.height, parents)
            except StorageError as exc:
                job.errors.append(NotKept(f"This image could not be saved. {exc.sentence}"))
            else:
                if saved is None:  # in storage, its row noted for later (``_save``)
                    job.previews.pop(ev.image_index, None)
                    self._bump(job)
                    return
                rec = saved
                if postprocess is not None:
                    rec = self._derive(job, rec, ev, parents, postprocess)
                job.images.append(ImageRecord(**{**rec.__dict__, "prompt": job.prompt, "model": spec.model,
                                                 "page": job.page}))
                job.previews.pop(ev.image_index, None)
                try:  # the page that shows it next finds its display copy ready
                    if copying is None or rec.hash != content_hash(ev.data):  # a kept-exact copy is shown instead
                        display_copy(rec.hash, lambda: self.store.read_bytes(rec.hash, rec.format))
                    else:
                        copying.result()
                except Exception:  # noqa: BLE001 - the picture is saved; its copy is made again when shown
                    log.debug("no display copy for %s", rec.hash)
        elif isinstance(ev, PartialImage):
            job.previews[ev.image_index] = (ev.partial_index, ev.data)
        elif isinstance(ev, Failed):
            job.errors.append(ev.error)
        elif isinstance(ev, UsageReport):
            job.usage = ev.usage
            job.request_id = ev.request_id or job.request_id
            if ev.usage:  # words are priced as a text model's, pictures as the image model's
                job.cost = (actual_words if spec.text_only else actual)(ev.usage, spec.model)
        elif isinstance(ev, TurnReply):
            job.reply = ev
            if spec.text_only and ev.text.strip():
                try:  # the words are the result: kept before the run shows as finished
                    self.store.set_reply(job.run_id, ev.text)
                except StorageError as exc:
                    job.errors.append(NotKept(f"This answer could not be saved. {exc.sentence}"))
        elif isinstance(ev, ResponseProgress):
            job.response_id, job.sequence = ev.response_id, ev.sequence_number
            with contextlib.suppress(StorageError):  # where to pick the response up again if this process stops
                self.store.set_resume_point(job.run_id, ev.response_id, ev.sequence_number)
        self._bump(job)

    def _derive(self, job: JobState, raw: ImageRecord, ev: FinalImage, parents: list[str],
                postprocess: Callable[[bytes, str], list[DerivedImage]]) -> ImageRecord:
        """Save what ``postprocess`` makes of a saved result; return the record the run shows for it.

        The raw result is kept and marked ``raw``; if the follow-up fails, the raw result is the run's."""
        shown = raw
        try:
            for made in postprocess(ev.data, ev.output_format):
                kept = self._save(job, ev, made.data, made.format, made.width, made.height, [raw.hash, *parents],
                                  variant=made.variant, drift=made.drift)
                shown = kept or shown
            if shown is not raw:
                self._patiently(job, lambda: self.store.mark_raw(raw.id))
        except StorageError as exc:
            job.errors.append(NotKept(f"The kept-exact copy could not be saved; the model's own result is. "
                                      f"{exc.sentence}"))
        except Exception as exc:  # noqa: BLE001 - a picture the follow-up cannot read: the raw result stands
            log.warning("keep-exact for run %s: %s", job.run_id, exc)
            job.errors.append(ImageLabError("The kept-exact copy could not be made from this result; the model's "
                                            "own result is saved."))
        return shown

    # --- writes that wait for a database that went away --------------------------------------

    def _patiently(self, job: JobState, write: Callable[[], _T]) -> _T:
        """``write()``, tried again for ``Database.patience`` seconds while the database cannot be reached.
        A job waits out one window in all: once it has given up, each later write is tried once."""
        try:
            result = self.store.database.patiently(write, once=job.database_gave_up)
        except DatabaseUnreachable:
            job.database_gave_up = True
            raise
        job.database_gave_up = False
        return result

    def _save(self, job: JobState, ev: FinalImage, data: bytes, fmt: str, width: int | None, height: int | None,
              parents: list[str], *, variant: str | None = None,
              drift: dict[str, Any] | None = None) -> ImageRecord | None:
        """Save a result (``Store.add_image``); with the database away, its bytes go to storage at once and its
        row is written once the database answers, within the job's window; past it, the row is noted for later
        (``history.unrecorded``) and None is returned. A ``StorageError`` says the bytes could not be kept."""
        def add() -> ImageRecord:
            return self.store.add_image(job.run_id, ev.image_index, data, fmt, width, height, ev.revised_prompt,
                                        parents, variant=variant, drift=drift)

        try:
            return add()
        except DatabaseUnreachable:
            pass
        digest = self.store.write_result_bytes(data, fmt)  # the picture is safe whatever the database does

        def add_once() -> ImageRecord:  # a lost COMMIT may have written the row after all
            return self.store.recorded_image(job.run_id, ev.image_index, data, fmt, variant) or add()

        try:
            return self._patiently(job, add_once)
        except DatabaseUnreachable as exc:
            log.warning("run %s: picture %s stored, its row not written: %s", job.run_id, digest, exc.sentence)
        size = len(self.store.read_bytes(digest, fmt)) if fmt == "svg" else len(data)
        rec = ImageRecord(0, job.run_id, ev.image_index, digest, fmt, width, height, size, time.time(),
                          revised_prompt=ev.revised_prompt, variant=variant, drift=drift)
        self._note_unrecorded(job, lambda: self.store.note_unrecorded_image(rec, parents))
        job.unrecorded.append(rec)
        return None

    def _note_unrecorded(self, job: JobState, note: Callable[[], None]) -> None:
        try:
            note()
        except StorageError as exc:  # the data folder refuses too: the picture stays in storage, unnamed
            job.errors.append(NotKept(f"Its record could not be kept on this machine either. {exc.sentence}"))

    def _record_unrecorded(self, job: JobState) -> None:
        try:
            self.store.record_unrecorded()
        except StorageError as exc:  # still noted: the next finish or start-up writes them
            log.warning("rows waiting for the database: %s", exc.sentence)
            return
        if job.unrecorded:
            job.images = self.store.images_of_run(job.run_id)
            job.unrecorded.clear()

    def _unrecorded_sentence(self, job: JobState, exc: StorageError) -> str:
        waited = f"{self.store.database.patience:.0f}"
        pictures = len({rec.index for rec in job.unrecorded})
        what = (f"{pictures} picture(s) of this run are stored, but their record" if pictures else
                f"The pictures of this run are stored ({len(job.images)} recorded), but the run's record"
                if job.images else "The run's record")
        return (f"{what} could not be written: the database did not answer for {waited} s. {exc.sentence} "
                "The record is kept on this machine and written when ImageLab next reaches the database.")

    def _finish(self, job: JobState, request: JobRequest | None, parents: list[str]) -> None:
        saved = len(job.images) + len({rec.index for rec in job.unrecorded})
        if request is not None and request.spec.text_only:  # words, not pictures
            saved = 1 if job.reply is not None and job.reply.text.strip() and not job.errors else 0
        status = run_status(job.requested, saved, cancelled=job.cancel_requested or bool(job.stopped))
        if job.stopped:
            job.errors.insert(0, ImageLabError(job.stopped))
        if status == "partial" and not job.errors:
            job.errors.append(StreamCut(f"{saved} of {job.requested} images arrived; the server sent no more. "
                                        "The ones that arrived are kept; run again for the rest.",
                                        request_id=job.request_id))
        if status == "failed" and not job.errors:
            words = request is not None and request.spec.text_only
            job.errors.append(RequestFailed("The model answered without any words; ask again." if words else
                                            "The server answered without any image; nothing was saved.",
                                            request_id=job.request_id))
        if status == "cancelled" and not job.stopped:
            job.errors.clear()  # Cancel closed the connection: what the client said of that is not news
        sentences = [e.sentence for e in job.errors]
        if status == "cancelled" and not job.stopped:
            sentences.insert(0, f"Cancelled; {saved} of {job.requested} image(s) had been saved and are kept.")
        first = job.errors[0] if job.errors else None
        job.request_id = job.request_id or (first.request_id if isinstance(first, RequestFailed) else None)
        # the server's own words, kept beneath the sentence: those of the first failed request that has any
        said = next((e for e in job.errors if isinstance(e, RequestFailed) and (e.api_message or e.status or e.code)),
                    None)
        finish: dict[str, Any] = {"status": status, "usage": job.usage,
                                  "actual_dollars": job.cost.dollars if job.cost else None,
                                  "request_id": job.request_id, "error": "; ".join(sentences) or None,
                                  "api_message": said.api_message if said else None,
                                  "api_status": said.status if said else None, "api_code": said.code if said else None}
        try:
            self._patiently(job, lambda: self.store.finish_run(job.run_id, **finish))
        except DatabaseUnreachable as exc:  # kept on this machine until the database takes it
            log.warning("run %s could not be recorded: %s", job.run_id, exc.sentence)
            self._note_unrecorded(job, lambda: self.store.note_unrecorded_finish(job.run_id, finish))
            job.errors.append(NotKept(self._unrecorded_sentence(job, exc)))
        except StorageError as exc:  # the row stays unfinished; the next start-up marks it interrupted
            log.warning("run %s could not be recorded: %s", job.run_id, exc.sentence)
            job.errors.append(NotKept(f"This run could not be recorded. {exc.sentence}"))
        else:
            if job.unrecorded or self.store.unrecorded_count():  # the database answers again: rows it missed
                self._record_unrecorded(job)
        self.lease.release(job.run_id)  # recorded as finished (or, failing that, left for a restart to mark)
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
        self._bump(job)

    def _forget_old(self) -> None:
        cutoff = time.time() - _KEEP_FINISHED_SECONDS
        with self._changed:
            for run_id in [r for r, j in self._jobs.items() if not j.active and (j.finished_at or 0) < cutoff]:
                del self._jobs[run_id]
