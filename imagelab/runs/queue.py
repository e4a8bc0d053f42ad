"""The run queue: with a PostgreSQL history, runs wait in the database (procrastinate) and any worker may send them.

``QueuedEngine`` is the run engine for a shared history. ``submit`` records the run as ``queued`` and
defers the job (``kinds.Job``, plain JSON without a key) to procrastinate; a worker anywhere — this
process's own (``IMAGELAB_WORKERS=0`` turns it off) or ``python -m imagelab.worker`` on another
machine — takes it through LISTEN/NOTIFY and sends it with the same code as the in-process pool
(``RunEngine._work``). The worker adds the key from its own environment. A run whose key a person
typed into their session, or that carries live hooks, goes to this process's own queue and is sent only
here. A conversation turn is read back from its row by the worker that takes it (``turn_job_of_run``);
sent in the background, a turn whose worker died is followed again by another worker from its response
id, never created twice.

Cancel works from any process: ``cancel_job_by_id(abort=True)``. A queued job is cancelled in the
database and never sent; a running one's worker hears of it through LISTEN/NOTIFY, checks
``should_abort`` every ``ABORT_CHECK_SECONDS`` and closes the request.

A worker that dies stops its heartbeat. Every worker sweeps for stalled jobs every
``SWEEP_SECONDS``: a run that may have reached the API (``running``: it was marked so just before
sending) becomes ``interrupted`` with what it saved and is never sent again, since it may have been
billed; a run still ``queued`` goes back to the queue for another worker.

A Batch API job is followed from the queue too: each step (send, one look, collect) is a job
(``BATCH_TASK``) that queues the next one under a queueing lock, and runs holding an advisory lock on
the batch row, so one worker in the cluster follows it at a time and it is collected once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import text

from imagelab.client import Connection, FinalImage, PartialImage, interrupt, resume
from imagelab.store import ACTIVE_STATUSES, StorageError, Store

from .batches import follow_step
from .budgets import Guard
from .engine import DEFAULT_WORKERS, JobRequest, JobState, RunEngine
from .kinds import KINDS, Backend, BadJob, Job, kind_of
from .turns import turn_job_of_run

__all__ = ["QueuedEngine", "make_engine", "TASK", "BATCH_TASK", "SHARED_QUEUE", "WORKERS_ENV", "conninfo"]

log = logging.getLogger(__name__)

TASK = "imagelab.run"
BATCH_TASK = "imagelab.batch"   # one step of following a Batch API job; it queues its own next step
BATCH_LOCK = 0x1B47             # advisory-lock namespace: (BATCH_LOCK, batch row) is held while a step runs
ALIVE_LOCK = 0x1B48             # advisory-lock namespace: (ALIVE_LOCK, process) is held while the process lives
PROCESS_QUEUE_PREFIX = "imagelab-process-"
SHARED_QUEUE = "imagelab"
WORKERS_ENV = "IMAGELAB_WORKERS"
ABORT_CHECK_SECONDS = 0.2       # how often a running job looks for a cancel the worker has heard of
HEARTBEAT_SECONDS = 2.0         # a worker says it is alive this often
STALLED_SECONDS = 10.0          # ... and is taken for dead after this long without a word
SWEEP_SECONDS = 5.0             # how often each worker looks for the jobs of dead ones
_OFFLINE_KEY = "sk-offline"
CHANGES_CHANNEL = "imagelab_runs"  # NOTIFY payload: the id of a run that changed
RECHECK_SECONDS = 5.0           # a server looks at all the runs it shows this often, in case a word was lost


def conninfo(store: Store) -> str:
    """The database's address as libpq takes it (psycopg's own connections, for the queue)."""
    url = store.database.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _interrupted_sentence(saved: int, requested: int) -> str:
    return (f"The worker sending this run stopped; {saved} of {requested} image(s) had been saved and are kept. "
            "It was not sent again, since it may already have been paid for.")


class QueuedEngine(RunEngine):
    """The run engine on a PostgreSQL history: runs go through the queue; this process may run a worker too."""

    def __init__(self, store: Store, *, workers: int = DEFAULT_WORKERS, run_worker: bool = True,
                 on_resumed: Any = None, batch_poll: float = 5.0) -> None:
        import procrastinate

        super().__init__(store, workers=workers, on_resumed=on_resumed, batch_poll=batch_poll, recover=False)
        self.process_queue = f"{PROCESS_QUEUE_PREFIX}{uuid.uuid4().hex[:12]}"
        self._info = conninfo(store)
        # held for as long as this process lives: its own runs are settled by others once it is gone
        self._alive: Any = None
        self._stay_alive()
        self._defer_app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(
            conninfo=self._info, min_size=1, max_size=4))
        self._defer_app.open()
        self._held: dict[int, JobRequest] = {}   # runs sent only here: their key or hooks live in this process
        self._running_here: set[int] = set()
        self._worker_thread: threading.Thread | None = None
        self._worker_loop: asyncio.AbstractEventLoop | None = None
        self._worker_stop: asyncio.Event | None = None
        self._watch_stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="imagelab-queue-watch", daemon=True)
        self._watcher.start()
        self._placeholders: dict[int, int] = {}  # this process's pool runs -> their job on its own queue
        self.settled_at_start = self.settle_abandoned()
        if run_worker:
            self.start_worker(workers)

    # --- what pages call ----------------------------------------------------------------------

    def submit(self, request: JobRequest) -> int:
        """Record the run as ``queued`` and put it on the queue; return its run id at once."""
        job = request.job if isinstance(request.job, Job) else None
        # a turn's hooks are read back from its row by the worker that takes it (``conversation.turn_job_of_run``)
        here = job is None or not self._worker_has_key(request.connection) or \
            (job.kind != "turn" and (request.on_finish is not None or request.call is not KINDS[job.kind].call))
        if here and self._worker_thread is None:  # no worker in this process: its own runs go to its pool
            return self._submit_to_pool(request)
        # no lease here: whichever worker takes it holds it (a dead one's runs are settled by the stalled-job sweep)
        run_id = self._record_queued(request, leased=False).run_id
        if here:  # its key or hooks live in this process: sent by this process's own worker only
            self._held[run_id] = request
            self._defer_app.configure_task(TASK, queue=self.process_queue).defer(run_id=run_id, job=None)
        else:
            assert job is not None
            self._defer_app.configure_task(TASK, queue=SHARED_QUEUE).defer(run_id=run_id, job=job.to_json())
        self._forget_old()
        self._bump(self._jobs[run_id])
        return run_id

    def cancel(self, run_id: int) -> bool:
        """Stop the run wherever it is: a queued one is never sent; a running one stops within 2 s."""
        with self.store.database.read() as conn:
            row = conn.execute(text("SELECT id FROM procrastinate_jobs WHERE task_name = :t "
                                    "AND (args->>'run_id')::int = :r AND status IN ('todo', 'doing') "
                                    "ORDER BY id DESC LIMIT 1"), {"t": TASK, "r": run_id}).first()
        if row is None or run_id in self._placeholders:  # one of this process's own pool, if anything
            return RunEngine.cancel_many(self, [run_id]) == 1
        manager = self._defer_app.job_manager
        manager.cancel_job_by_id(int(row[0]), abort=True)
        with self.store.database.read() as conn:
            status = conn.execute(text("SELECT status FROM procrastinate_jobs WHERE id = :i"),
                                  {"i": int(row[0])}).scalar()
        if status == "cancelled":  # taken off the queue before any worker had it: finished here
            self._cancel_queued(run_id)
        state = self._jobs.get(run_id)
        if state is not None:
            state.cancel_requested = True
        self._bump(*([state] if state is not None else []))
        return True

    def cancel_many(self, run_ids: list[int]) -> int:
        return sum(self.cancel(run_id) for run_id in run_ids)

    def _cancel_queued(self, run_id: int) -> None:
        run = self.store.run(run_id)
        if run.status != "queued":
            return
        self.store.finish_run(run_id, "cancelled",
                              error=f"Cancelled; 0 of {run.requested or 1} image(s) had been saved and are kept.")
        self.notify(run_id)
        self._held.pop(run_id, None)
        state = self._jobs.get(run_id)
        if state is not None:
            state.cancel_requested = True
            state.status, state.finished_at = "cancelled", time.time()

    # --- this process's own runs, settled by others if it dies ----------------------------------

    def _alive_key(self, queue: str) -> int:
        return int(queue.removeprefix(PROCESS_QUEUE_PREFIX)[:7], 16)

    def _stay_alive(self) -> None:
        """Hold this process's advisory lock (again, after the database went away) on a connection of its own."""
        import psycopg

        if self._alive is not None and not self._alive.closed and not self._alive.broken:
            return
        with contextlib.suppress(psycopg.Error):
            self._alive = psycopg.connect(self._info, autocommit=True)
            self._alive.execute("SELECT pg_advisory_lock(%s, %s)", (ALIVE_LOCK, self._alive_key(self.process_queue)))

    def _submit_to_pool(self, request: JobRequest) -> int:
        """Send a run in this process's pool, with a placeholder on its own queue that no worker takes: were this
        process to die, any other settles the run (``settle_abandoned``)."""
        run_id = super().submit(request)
        try:
            job_id = self._defer_app.configure_task(TASK, queue=self.process_queue).defer(run_id=run_id, job=None)
        except Exception as exc:  # noqa: BLE001 - the run goes on; only its settling after a crash is lost
            log.warning("run %s has no placeholder on the queue: %s", run_id, exc)
        else:
            self._placeholders[run_id] = job_id
            if not self.job(run_id) or not self._jobs[run_id].active:  # it finished before the placeholder existed
                self._drop_placeholder(run_id)
        return run_id

    def _drop_placeholder(self, run_id: int) -> None:
        job_id = self._placeholders.pop(run_id, None)
        if job_id is not None:
            with contextlib.suppress(Exception):
                self._defer_app.job_manager.cancel_job_by_id(job_id, delete_job=True)

    def _finish(self, job: JobState, request: JobRequest | None, parents: list[str]) -> None:
        super()._finish(job, request, parents)
        self._drop_placeholder(job.run_id)

    def settle_abandoned(self) -> list[int]:
        """Settle the runs waiting on the own queue of a process that is gone (its lock is free): a run it was
        sending becomes ``interrupted`` with what it saved, one it had not sent says so; neither is sent again."""
        with self.store.database.read() as conn:
            rows = conn.execute(text(
                "SELECT j.id, j.queue_name, (j.args->>'run_id')::int FROM procrastinate_jobs j "
                "WHERE j.task_name = :t AND j.status = 'todo' AND j.queue_name LIKE :p"),
                {"t": TASK, "p": PROCESS_QUEUE_PREFIX + "%"}).all()
            queues = {str(r[1]) for r in rows}
            alive = {q for q in queues if conn.execute(text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND classid::bigint = :ns AND objid::bigint = :key AND objsubid = 2)"),
                {"ns": ALIVE_LOCK, "key": self._alive_key(q)}).scalar()}
        settled = []
        for job_id, queue, run_id in rows:
            if queue in alive:
                continue
            if not self._defer_app.job_manager.cancel_job_by_id(int(job_id), delete_job=True):
                continue  # taken or settled meanwhile
            try:
                run = self.store.run(int(run_id))
            except KeyError:
                continue
            if run.status in ("queued", "running"):
                saved = len(self.store.images_of_run(run.id))
                sentence = _interrupted_sentence(saved, run.requested or 1) if run.status == "running" else \
                    "The process that held this run's key stopped before sending it; nothing was sent. Run it again."
                self.store.finish_run(run.id, "interrupted", error=sentence, keep_usage=True)
                self.store.clear_previews(run.id)
                settled.append(run.id)
                self.notify(run.id)
        return settled

    def shutdown(self, wait: bool = True) -> None:
        self._watch_stop.set()
        self.stop_worker()
        super().shutdown(wait)
        with contextlib.suppress(Exception):
            self._defer_app.close()
        with contextlib.suppress(Exception):
            self._alive.close()

    # --- keys -----------------------------------------------------------------------------------

    @staticmethod
    def _worker_key(connection: Connection) -> str | None:
        """The key a worker has for this backend in its own environment (None: it has none)."""
        key = os.environ.get("OPENAI_API_KEY")
        if key:
            return key
        return _OFFLINE_KEY if connection.offline else None

    def _worker_has_key(self, connection: Connection) -> bool:
        own = self._worker_key(connection)
        return own is not None and own == connection.api_key

    # --- the worker -----------------------------------------------------------------------------

    def start_worker(self, concurrency: int) -> None:
        """Run a procrastinate worker in a thread of this process (its own event loop)."""
        started = threading.Event()
        self._worker_thread = threading.Thread(target=self._worker_main, args=(concurrency, started),
                                               name="imagelab-queue-worker", daemon=True)
        self._worker_thread.start()
        started.wait(10)

    def request_stop(self) -> None:
        """Stop taking jobs (from the worker's own event loop: a signal handler)."""
        if self._worker_stop is not None:
            self._worker_stop.set()

    def stop_worker(self, timeout: float = 10.0) -> None:
        loop, stop = self._worker_loop, self._worker_stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._worker_thread is not None:
            self._worker_thread.join(timeout)

    def _worker_main(self, concurrency: int, started: threading.Event) -> None:
        asyncio.run(self.serve(concurrency, started))

    async def serve(self, concurrency: int, started: threading.Event | None = None,
                    install_signal_handlers: bool = False) -> None:
        """Take jobs until stopped: the shared queue and this process's own, plus the stalled-job sweep."""
        import procrastinate

        self._worker_loop = asyncio.get_running_loop()
        # procrastinate sends each job to the loop's default thread pool, min(32, cores + 4) threads: on 2 cores a
        # worker asked for 10 runs at once sent 6. A run is a wait on the API, not work for a core. (The pool's
        # other threads: the stalled-job sweep's and the follow-up steps' calls.)
        self._worker_loop.set_default_executor(ThreadPoolExecutor(concurrency + 4,
                                                                  thread_name_prefix="imagelab-queue-job"))
        self._worker_stop = asyncio.Event()
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self._info, min_size=1,
                                                                          max_size=max(4, concurrency + 2)))

        @app.task(name=TASK, pass_context=True)
        def run(context: Any, run_id: int, job: dict[str, Any] | None = None) -> None:
            self._take(context, run_id, job)

        @app.task(name=BATCH_TASK)
        def batch(row: int, backend: dict[str, Any], cells: dict[str, Any] | None = None, failures: int = 0) -> None:
            self._batch_step(row, backend, cells, failures)

        async with app.open_async():
            worker = asyncio.create_task(app.run_worker_async(
                queues=[SHARED_QUEUE, self.process_queue], concurrency=concurrency, wait=True,
                install_signal_handlers=install_signal_handlers, update_heartbeat_interval=HEARTBEAT_SECONDS,
                stalled_worker_timeout=STALLED_SECONDS, abort_job_polling_interval=1.0,
                fetch_job_polling_interval=1.0, delete_jobs="successful"))
            sweeper = asyncio.create_task(self._sweep_forever(app))
            if started is not None:
                started.set()
            stopper = asyncio.create_task(self._worker_stop.wait())
            await asyncio.wait([worker, stopper], return_when=asyncio.FIRST_COMPLETED)
            sweeper.cancel()
            if not worker.done():
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    def _take(self, context: Any, run_id: int, payload: dict[str, Any] | None) -> None:
        """Send one queued run here (in a worker thread), as the in-process pool would."""
        try:
            run = self.store.run(run_id)
        except KeyError:
            return
        # a background turn whose worker stopped goes on from its response id: followed again, never sent again
        resuming = run.status == "running" and bool(run.response_id) and (payload or {}).get("kind") == "turn"
        if run.status != "queued" and not resuming:  # finished, cancelled, or sent once already: never sent again
            return
        request = self._held.pop(run_id, None)
        if request is None:
            if payload is None:
                return  # another process's own run: only that process has its key
            try:
                request = self._request_of(run, Job.from_json(payload), resuming)
            except BadJob as exc:
                self.store.finish_run(run_id, "failed", error=f"This run could not be sent: {exc}")
                return
        state = self._jobs.get(run_id)
        if state is None:
            state = JobState.of_run(run)
            with self._changed:
                self._jobs[run_id] = state
        if resuming:
            state.response_id, state.sequence = run.response_id, run.sequence
            state.images = self.store.images_of_run(run_id)
        self._running_here.add(run_id)
        done = threading.Event()

        def watch_for_cancel() -> None:
            told_running = False
            while not done.wait(ABORT_CHECK_SECONDS):
                if not told_running and state.status == "running":  # other servers show it as started
                    told_running = True
                    self.notify(run_id)
                if not state.cancel_requested and context.should_abort():
                    state.cancel_requested = True
                    self._bump(state)
                client = state.client
                if state.cancel_requested and client is not None:
                    # closing the client ends a stream waiting for its next event (the client may come later)
                    with contextlib.suppress(Exception):
                        interrupt(client)
                        client.close()
                    return

        watcher = threading.Thread(target=watch_for_cancel, name=f"imagelab-abort-{run_id}", daemon=True)
        watcher.start()
        try:
            self._work(state, request)
        finally:
            done.set()
            self._running_here.discard(run_id)
            with contextlib.suppress(StorageError):
                self.store.clear_previews(run_id)
            self.notify(run_id)

    # --- Batch API jobs -----------------------------------------------------------------------

    def _follow(self, row_id: int, connection: Connection, specs: dict[int, Any] | None) -> None:
        """Follow a batch from the queue (one worker at a time, any worker), unless only this process has its key."""
        if not self._worker_has_key(connection) or specs is None:
            super()._follow(row_id, connection, specs)
            return
        cells = {str(rid): {"kind": kind_of(spec), "spec": spec.to_json()} for rid, spec in specs.items()}
        self._defer_batch_step(row_id, Backend.of(connection), cells, 0, now=True)

    def _defer_batch_step(self, row_id: int, backend: Backend, cells: dict[str, Any] | None, failures: int,
                          *, now: bool = False) -> bool:
        """Queue the batch's next step; False when a step of it is already waiting (that one follows it)."""
        from procrastinate.exceptions import AlreadyEnqueued

        task = self._defer_app.configure_task(BATCH_TASK, queue=SHARED_QUEUE, queueing_lock=f"imagelab-batch-{row_id}",
                                              schedule_in=None if now else {"seconds": self.batch_poll})
        try:
            task.defer(row=row_id, backend=backend.__dict__, cells=cells, failures=failures)
        except AlreadyEnqueued:
            return False
        return True

    def _batch_step(self, row_id: int, backend_json: dict[str, Any], cells: dict[str, Any] | None,
                    failures: int) -> None:
        """Send, look at or collect one batch once (in a worker thread), then queue the next look."""
        import psycopg

        backend = Backend(**backend_json)
        key = self._worker_key(backend.connection("-"))
        with psycopg.connect(self._info, autocommit=True) as lock:
            # one worker at a time steps a batch, whatever queued the step: collected once, never twice at once
            held = lock.execute("SELECT pg_try_advisory_lock(%s, %s)", (BATCH_LOCK, row_id)).fetchone()
            if not (held and held[0]):
                return
            try:
                row = self.store.batch(row_id)
            except KeyError:
                return
            if cells is None and row.batch_id is None and self._cells_step_waiting(row_id):
                return  # the step that carries its requests sends it; this one would call it never sent
            if key is None:
                sentence = "No worker has an API key for this batch's backend (set OPENAI_API_KEY)."
                for run in self.store.runs(len(row.run_ids), ids=row.run_ids):
                    if run.active:
                        self.store.finish_run(run.id, "failed", error=sentence)
                self.store.update_batch(row_id, status="failed", error=sentence, finished_at=time.time())
                return
            specs = None
            if cells is not None:
                try:
                    specs = {int(rid): KINDS[str(c["kind"])].load(c["spec"]) for rid, c in cells.items()}
                except (KeyError, TypeError, ValueError) as exc:
                    log.warning("batch row %s: its cells cannot be read: %s", row_id, exc)
            left = follow_step(self.store, row_id, backend.connection(key), specs=specs, failures=failures,
                               changed=lambda: self._notify_batch(row))
        if left is not None:
            self._defer_batch_step(row_id, backend, None, left)

    def _cells_step_waiting(self, row_id: int) -> bool:
        """Whether a step carrying the batch's requests is still queued or being taken by a worker."""
        with self.store.database.read() as conn:
            return conn.execute(text("SELECT 1 FROM procrastinate_jobs WHERE task_name = :t "
                                     "AND status IN ('todo', 'doing') AND (args->>'row')::int = :r "
                                     "AND jsonb_typeof(args->'cells') = 'object' LIMIT 1"),
                                {"t": BATCH_TASK, "r": row_id}).first() is not None

    def _notify_batch(self, row: Any) -> None:
        for run_id in row.run_ids:
            self.notify(run_id)

    def _request_of(self, run: Any, job: Job, resuming: bool) -> JobRequest:
        """The request a worker sends for a queued job, with its own key; a turn finishes its row here too, and
        one ``resuming`` follows its background response from the last event seen instead of creating it."""
        key = self._worker_key(job.backend.connection("-"))
        if key is None:
            raise BadJob("this worker has no API key for the run's backend (set OPENAI_API_KEY)")
        hooks: dict[str, Any] = {}
        turn = turn_job_of_run(self.store, run.id) if job.kind == "turn" else None
        if turn is not None:
            hooks = {"on_finish": turn.finished, "call": turn.events}
        if resuming:
            response_id, after = str(run.response_id), run.sequence if run.sequence is not None else -1
            fmt = str(run.params.get("output_format") or "png")

            def follow_on(client: Any, spec: Any) -> Any:
                return resume(client, response_id, after, output_format=fmt, model=spec.model,
                              polled=bool(getattr(spec, "waits", False)))

            resumed: JobRequest = job.request(key, **{**hooks, "call": follow_on})  # its spending was checked
            return resumed
        guard = Guard(self.store, [*job.session_runs], job.backend.label, time.time, owner=job.owner)
        request: JobRequest = job.request(key, budget=guard, **hooks)
        return request

    async def _sweep_forever(self, app: Any) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await self.sweep(app)
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("stalled-job sweep")

    async def sweep(self, app: Any) -> list[int]:
        """Settle the runs of workers that stopped saying they are alive; returns their run ids."""
        from procrastinate.jobs import Status

        manager = app.job_manager
        for step in await manager.get_stalled_jobs(task_name=BATCH_TASK, seconds_since_heartbeat=STALLED_SECONDS):
            await manager.retry_job(step)  # a batch goes on at the API: another worker follows it from here
        settled = []
        for job in await manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=STALLED_SECONDS):
            run_id = int(job.task_kwargs["run_id"])
            try:
                run = await asyncio.to_thread(self.store.run, run_id)
            except KeyError:
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
                continue
            payload = job.task_kwargs.get("job")
            if run.status == "queued" and payload is not None:
                await manager.retry_job(job)  # never sent: another worker takes it
            elif run.status == "running" and run.response_id and (payload or {}).get("kind") == "turn":
                await manager.retry_job(job)  # a background turn goes on at the API: another worker follows it
            else:
                if run.status in ("queued", "running"):
                    saved = len(await asyncio.to_thread(self.store.images_of_run, run_id))
                    sentence = _interrupted_sentence(saved, run.requested or 1) if run.status == "running" else \
                        "The process that held this run's key stopped before sending it; run it again."
                    await asyncio.to_thread(self.store.finish_run, run_id, "interrupted", error=sentence,
                                            keep_usage=True)
                    await asyncio.to_thread(self.store.clear_previews, run_id)
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            settled.append(run_id)
            await asyncio.to_thread(self.notify, run_id)
        settled += await asyncio.to_thread(self.settle_abandoned)
        if settled:
            self._bump()
        return settled

    def _handle(self, job: JobState, ev: Any, spec: Any, parents: list[str], postprocess: Any = None) -> None:
        super()._handle(job, ev, spec, parents, postprocess)
        changed = isinstance(ev, (PartialImage, FinalImage))
        try:  # other servers show the newest preview of each image (only the latest is kept)
            if isinstance(ev, PartialImage):
                self.store.set_preview(job.run_id, ev.image_index, ev.partial_index, ev.data)
            elif isinstance(ev, FinalImage):
                self.store.clear_previews(job.run_id, ev.image_index)
        except StorageError as exc:
            log.debug("preview of run %s not shared: %s", job.run_id, exc.sentence)
        if changed:
            self.notify(job.run_id)

    # --- what other processes did ------------------------------------------------------------

    def notify(self, run_id: int) -> None:
        """Tell every server that this run changed (status, a saved picture, a preview): PostgreSQL NOTIFY."""
        try:
            with self.store.database.write() as conn:
                conn.execute(text("SELECT pg_notify(:channel, :run)"), {"channel": CHANGES_CHANNEL, "run": str(run_id)})
        except StorageError as exc:
            log.debug("run %s changed, not told: %s", run_id, exc.sentence)

    def _watch(self) -> None:
        """Keep the jobs this process shows but does not run in step with their rows (another worker runs them):
        LISTEN for the runs that changed, and look at all of them now and then in case a word was lost."""
        import psycopg

        while not self._watch_stop.is_set():
            try:
                self._stay_alive()
                with psycopg.connect(self._info, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    self._refresh(None)  # what changed before this connection listened
                    last_all = time.monotonic()
                    while not self._watch_stop.is_set():
                        changed = {int(n.payload) for n in conn.notifies(timeout=0.5, stop_after=64)
                                   if n.payload.isdigit()}
                        if time.monotonic() - last_all > RECHECK_SECONDS:
                            changed, last_all = set(), time.monotonic()
                            self._refresh(None)
                        if changed:
                            self._refresh(changed)
            except psycopg.Error as exc:  # the database went away: listen again once it is back
                log.debug("listening for run changes: %s", exc)
                self._watch_stop.wait(1.0)

    def _adopt(self, run_ids: set[int] | None) -> None:
        """Follow the queued and running runs another server sent (a replica that died, the person's tab on
        another one) as this process's own are followed: its tray and pages then see them go on and end."""
        with self._changed:
            unknown = None if run_ids is None else {i for i in run_ids if i not in self._jobs}
        if unknown == set():
            return
        try:
            rows = self.store.unfinished_runs() if unknown is None else \
                self.store.runs(len(unknown), ids=sorted(unknown))  # one query; a run not (yet) there is absent
        except StorageError:
            return
        with self._changed:
            new = [r for r in rows if r.id not in self._jobs and r.status in ACTIVE_STATUSES]
            for run in new:
                state = JobState.of_run(run, status=run.status, submitted_at=run.started_at)
                if run.status == "running":
                    state.started_at = run.started_at
                self._jobs[run.id] = state
        if new:
            self._bump(*(self._jobs[run.id] for run in new))

    def _refresh(self, run_ids: set[int] | None) -> None:
        self._adopt(run_ids)
        with self._changed:
            others = [j for j in self._jobs.values() if j.active and j.run_id not in self._running_here
                      and (run_ids is None or j.run_id in run_ids)]
        for state in others:
            try:
                run = self.store.run(state.run_id)
                images = self.store.images_of_run(state.run_id)
                previews = self.store.previews(state.run_id)
            except (StorageError, KeyError):
                continue
            changed = run.status != state.status or len(images) != len(state.images) or \
                previews != state.previews
            if not changed:
                continue
            state.images = images
            state.previews = previews
            if run.status == "running" and state.started_at is None:
                state.started_at = time.time()
            if run.status not in ("queued", "running"):
                state.finished_at = run.finished_at or time.time()
                self._held.pop(state.run_id, None)
            state.status = run.status
            self._bump(state)


def make_engine(store: Store, **options: Any) -> RunEngine:
    """The run engine for this history: the queue on PostgreSQL, the in-process pool on SQLite."""
    if store.database.engine.dialect.name == "postgresql":
        return QueuedEngine(store, run_worker=os.environ.get(WORKERS_ENV, "").strip() != "0", **options)
    return RunEngine(store, **options)
