"""The run queue on a real PostgreSQL server with real worker processes (``python -m imagelab.worker``) sending to the
offline backend, whose request log shows what was sent: a worker killed mid-run, a queued run it had taken, and
a cancel from another process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from imagelab.offline import start_server
from imagelab.runs.kinds import Job
from imagelab.runs.queue import QueuedEngine
from imagelab.specs import GenerateSpec
from imagelab.store import Store
from tests.conftest import ROOT

OFFLINE_KEY = "sk-offline"


@pytest.fixture
def slow_backend():
    """The offline backend taking ``latency`` seconds per request (spread over a stream's pictures)."""
    servers = []

    def start(latency: float):
        srv = start_server(faults=f"latency:{latency:g}")
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


class Workers:
    """Worker processes on one history, each started as a person would, stopped (or killed) by PID."""

    def __init__(self, pg_url: str, data_dir: Path) -> None:
        self.env = {**os.environ, "IMAGELAB_DATABASE_URL": pg_url, "IMAGELAB_DATA_DIR": str(data_dir),
                    "PYTHONPATH": str(ROOT)}
        self.env.pop("OPENAI_API_KEY", None)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs = data_dir.parent

    def start(self, concurrency: int = 2) -> subprocess.Popen[bytes]:
        log = self.logs / f"worker-{len(self.procs)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "imagelab.worker", "--concurrency", str(concurrency)],
                                    env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        wait_until(lambda: b"Worker ready" in log.read_bytes() or proc.poll() is not None, 90, "the worker to start")
        assert proc.poll() is None, log.read_text()
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(pg_url, tmp_path):
    started = Workers(pg_url, tmp_path / "data")
    yield started
    started.stop()


@pytest.fixture
def submitter(pg_url, tmp_path):
    """An app process's engine that runs no worker of its own (IMAGELAB_WORKERS=0)."""
    store = Store(tmp_path / "data", database_url=pg_url)  # one machine: the pictures' folder is shared too
    engine = QueuedEngine(store, run_worker=False)
    yield engine
    engine.shutdown(wait=False)
    store.close()


def submit(engine: QueuedEngine, backend, prompt: str, n: int = 2) -> int:
    from imagelab.client import Connection

    conn = Connection(backend.base_url, OFFLINE_KEY, label="Offline backend", offline=True, max_retries=0)
    spec = GenerateSpec(prompt=prompt, n=n, partial_images=1, quality="low", size="1024x1024")
    return engine.submit(Job.of("generate", spec, conn, page="generate").request(conn.api_key))


def sent(backend, prompt: str) -> int:
    """How many requests carrying ``prompt`` reached the backend."""
    return sum(json.dumps(prompt).encode() in r.body for r in list(backend.app.state.requests))


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def queue_status(store: Store, run_id: int) -> str | None:
    with store.database.read() as conn:
        return conn.execute(text("SELECT status FROM procrastinate_jobs WHERE (args->>'run_id')::int = :r "
                                 "ORDER BY id DESC LIMIT 1"), {"r": run_id}).scalar()


def test_a_killed_worker_leaves_its_sent_run_interrupted_and_its_taken_run_to_the_other(
        submitter, workers, slow_backend):
    backend = slow_backend(8)
    store = submitter.store
    first = workers.start(concurrency=2)
    sending = submit(submitter, backend, "a lighthouse sent once", n=2)
    wait_until(lambda: len(store.images_of_run(sending)) == 1, 30, "the first picture of the run")
    # the submitting process (no worker of its own) shows the run going on elsewhere, told through NOTIFY
    wait_until(lambda: (job := submitter.job(sending)) and job.status == "running" and len(job.images) == 1, 2,
               "the other process to show the saved picture")
    # the next run is taken by the same worker but held at the spending check, before anything is sent
    with store.database.exclusive("spending"):
        waiting = submit(submitter, backend, "a harbour taken but never sent", n=1)
        wait_until(lambda: queue_status(store, waiting) == "doing", 15, "the worker to take the second run")
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
    assert store.run(waiting).status == "queued"
    workers.start(concurrency=2)
    wait_until(lambda: store.run(sending).status == "interrupted", 60, "the sent run to be settled")
    assert time.monotonic() - killed_at < 60
    run = store.run(sending)
    assert "1 of 2 image(s) had been saved and are kept" in (run.error or "")
    assert len(store.images_of_run(sending)) == 1
    wait_until(lambda: store.run(waiting).status == "ok", 60, "the other worker to finish the taken run")
    assert len(store.images_of_run(waiting)) == 1
    assert sent(backend, "a lighthouse sent once") == 1
    assert sent(backend, "a harbour taken but never sent") == 1


def test_cancel_from_another_process_stops_the_run_and_a_queued_run_is_never_sent(
        submitter, workers, slow_backend, pg_url, tmp_path):
    backend = slow_backend(20)
    store = submitter.store
    # queued with no worker running: cancelled in the database, never sent
    queued = submit(submitter, backend, "a queued run cancelled")
    other_store = Store(tmp_path / "data", database_url=pg_url)
    other = QueuedEngine(other_store, run_worker=False)
    try:
        assert other.cancel(queued)
        assert store.run(queued).status == "cancelled"
        workers.start(concurrency=1)
        running = submit(submitter, backend, "a long run cancelled elsewhere", n=1)
        wait_until(lambda: sent(backend, "a long run cancelled elsewhere") == 1, 15, "the run to be sent")
        asked = time.monotonic()
        assert other.cancel(running)
        wait_until(lambda: store.run(running).status == "cancelled", 5, "the run to stop")
        assert time.monotonic() - asked <= 2.0
    finally:
        other.shutdown(wait=False)
        other_store.close()
    assert sent(backend, "a queued run cancelled") == 0
    assert sent(backend, "a long run cancelled elsewhere") == 1
    assert submitter.wait(running, 5).status == "cancelled"  # the submitting process sees it too


def test_a_key_typed_for_a_session_stays_in_its_process_and_never_enters_the_queue(pg_url, tmp_path, slow_backend):
    from imagelab.client import Connection

    backend = slow_backend(1)
    typed = "sk-typed-in-the-sidebar-7c2e"
    store = Store(tmp_path / "data", database_url=pg_url)
    engine = QueuedEngine(store, workers=1)  # this process's own worker
    try:
        conn = Connection(backend.base_url, typed, label="Custom", offline=False, max_retries=0)
        spec = GenerateSpec(prompt="a typed-key run", n=1, quality="low", size="1024x1024")
        run_id = engine.submit(Job.of("generate", spec, conn, page="generate").request(typed))
        with store.database.read() as db:
            queued = db.execute(text("SELECT queue_name, args::text FROM procrastinate_jobs")).all()
        assert len(queued) == 1 and queued[0][0] == engine.process_queue and typed not in queued[0][1]
        assert engine.wait(run_id, 30).status == "ok"
        with store.database.read() as db:
            rows = db.execute(text("SELECT * FROM runs")).all() + \
                db.execute(text("SELECT args::text FROM procrastinate_jobs")).all()
        assert typed not in repr(rows)
    finally:
        engine.shutdown(wait=False)
        store.close()


def test_a_batch_is_followed_by_one_worker_and_collected_once(submitter, workers):
    from imagelab.client import Connection
    from imagelab.runs.kinds import Backend

    backend = start_server(batch_pace=0.5)
    try:
        store = submitter.store
        submitter.batch_poll = 0.2  # each step queues the next one this soon: many looks, by either worker
        conn = Connection(backend.base_url, OFFLINE_KEY, label="Offline backend", offline=True, max_retries=0)
        cells = [(GenerateSpec(prompt=f"a batch cell {i}", n=2, quality="low", size="1024x1024"), f"cell={i}")
                 for i in range(3)]
        group = submitter.submit_batch(cells, conn)
        row = store.batches(group_id=group)[0]
        # a step without its requests that comes first (another server's) leaves the sending to the step with them
        submitter._batch_step(row.id, Backend.of(conn).__dict__, None, 0)
        assert store.batch(row.id).active and store.batch(row.id).batch_id is None
        workers.start(concurrency=2)
        workers.start(concurrency=2)
        # every other server that asks to follow it (a restart, a second app) is turned away or waits its turn
        for _ in range(6):
            submitter._defer_batch_step(row.id, Backend.of(conn), None, 0, now=True)
            time.sleep(0.3)
        wait_until(lambda: not store.batch(row.id).active, 60, "the batch to be collected")
        time.sleep(2 * submitter.batch_poll + 1)  # any step still queued has had its turn
        assert store.batch(row.id).status == "completed"
        for run_id in row.run_ids:
            run = store.run(run_id)
            assert run.status == "ok", run.error
            images = store.images_of_run(run_id)
            assert sorted(img.index for img in images) == [0, 1]  # each picture saved once
        requests = list(backend.app.state.requests)
        assert sum(1 for r in requests if r.method == "POST" and r.path == "/v1/batches") == 1
        assert sum(1 for r in requests if r.method == "GET" and r.path.endswith("/content")) == 1
    finally:
        backend.stop()


def test_a_background_turn_whose_worker_dies_is_finished_by_the_other_from_its_response_id(
        submitter, workers, slow_backend):
    from imagelab.client import Connection
    from imagelab.runs.turns import TurnJob
    from imagelab.specs import TurnSpec

    backend = slow_backend(25)
    store = submitter.store
    first = workers.start(concurrency=1)
    conn = Connection(backend.base_url, OFFLINE_KEY, label="Offline backend", offline=True, max_retries=0)
    conversation = store.new_conversation("a resumed conversation", None)
    turn = TurnJob(store, conversation, None)
    spec = TurnSpec(prompt="a turn resumed elsewhere", partial_images=1, quality="low", size="1024x1024")
    run_id = submitter.submit(Job.of("turn", spec, conn, page="conversation").request(
        conn.api_key, on_queued=lambda rid: turn.queued(rid, spec)))
    wait_until(lambda: store.run(run_id).response_id, 30, "the turn to be created in the background")
    workers.start(concurrency=1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    wait_until(lambda: store.run(run_id).status not in ("queued", "running"), 90, "the other worker to finish it")
    run = store.run(run_id)
    assert run.status == "ok", run.error
    assert len(store.images_of_run(run_id)) == 1
    # the turn's row is filled in just after its run's
    (turned,) = wait_until(lambda: [t for t in store.turns(conversation) if t.status != "queued"], 10, "the turn")
    assert turned.status == "ok" and turned.image_hash == store.images_of_run(run_id)[0].hash
    assert turned.response_id == run.response_id
    creates = [r for r in list(backend.app.state.requests) if r.method == "POST" and r.path == "/v1/responses"]
    assert len(creates) == 1  # followed again by its id, never created again
    assert any(r.method == "GET" and r.path == f"/v1/responses/{run.response_id}"
               for r in list(backend.app.state.requests))


_APP_PROCESS = """
import sys, time
from imagelab.client import Connection
from imagelab.runs.kinds import Job
from imagelab.runs.queue import QueuedEngine
from imagelab.specs import GenerateSpec
from imagelab.store import Store

base_url, pg_url, data, key = sys.argv[1:5]
engine = QueuedEngine(Store(data, database_url=pg_url), workers=1, run_worker=False)  # IMAGELAB_WORKERS=0
conn = Connection(base_url, key, label="Custom", offline=False, max_retries=0)
for prompt, n in (("a typed-key run cut short", 2), ("a typed-key run never sent", 1)):
    spec = GenerateSpec(prompt=prompt, n=n, partial_images=1, quality="low", size="1024x1024")
    print(engine.submit(Job.of("generate", spec, conn, page="generate").request(key)), flush=True)
time.sleep(600)
"""


def test_a_typed_key_run_of_a_process_that_died_ends_interrupted_at_the_next_start(
        pg_url, tmp_path, slow_backend):
    backend = slow_backend(8)
    typed = "sk-typed-for-one-session-31d9"
    store = Store(tmp_path / "data", database_url=pg_url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    app = subprocess.Popen([sys.executable, "-c", _APP_PROCESS, backend.base_url, pg_url, str(tmp_path / "data"),
                            typed], env=env, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert app.stdout is not None
        cut, never = int(app.stdout.readline()), int(app.stdout.readline())
        wait_until(lambda: len(store.images_of_run(cut)) == 1, 30, "the first picture of the typed-key run")
        assert store.run(never).status == "queued"  # waits for the process's one pool thread
    finally:
        app.send_signal(signal.SIGKILL)
        app.wait()
        if app.stdout is not None:
            app.stdout.close()
    engine = QueuedEngine(store, run_worker=False)  # the app starts again
    try:
        assert sorted(engine.settled_at_start) == sorted([cut, never])
        run = store.run(cut)
        assert run.status == "interrupted"
        assert "1 of 2 image(s) had been saved and are kept" in (run.error or "")
        assert len(store.images_of_run(cut)) == 1
        assert store.run(never).status == "interrupted"
        assert "nothing was sent" in (store.run(never).error or "")
        assert sent(backend, "a typed-key run cut short") == 1
        assert sent(backend, "a typed-key run never sent") == 0
        with store.database.read() as db:  # the key never entered the queue or the history
            rows = db.execute(text("SELECT * FROM runs")).all() + \
                db.execute(text("SELECT args::text FROM procrastinate_jobs")).all()
        assert typed not in repr(rows)
    finally:
        engine.shutdown(wait=False)
        store.close()


def test_a_sweeps_cells_are_jobs_any_worker_sends(submitter, workers, slow_backend):
    from imagelab.client import Connection
    from imagelab.runs.queue import SHARED_QUEUE
    from imagelab.runs.sweeps import Sweep, submit_sweep

    backend = slow_backend(0.2)
    store = submitter.store
    conn = Connection(backend.base_url, OFFLINE_KEY, label="Offline backend", offline=True, max_retries=0)
    items = Sweep("a {thing} in a sweep", {"thing": ["kite", "fern", "cab"]}, {},
                  GenerateSpec(size="1024x1024", quality="low")).expand()
    group, ids = submit_sweep(submitter, items, conn)  # this process sends nothing itself (IMAGELAB_WORKERS=0)
    with store.database.read() as db:
        queued = db.execute(text("SELECT queue_name, args FROM procrastinate_jobs ORDER BY id")).all()
    assert [q[0] for q in queued] == [SHARED_QUEUE] * 3
    assert [q[1]["job"]["kind"] for q in queued] == ["generate"] * 3
    assert [q[1]["job"]["label"] for q in queued] == [item.label for item in items]
    workers.start(concurrency=2)
    wait_until(lambda: all(store.run(i).status == "ok" for i in ids), 60, "a worker to send every cell")
    assert [len(store.images_of_run(i)) for i in ids] == [1, 1, 1]
    assert all(sent(backend, f"a {t} in a sweep") == 1 for t in ("kite", "fern", "cab"))
    assert {r.group_id for r in map(store.run, ids)} == {group}


def test_a_worker_sends_as_many_runs_at_once_as_its_concurrency(submitter, workers, slow_backend):
    """Each run is a wait on the API: a worker asked for N at once sends N at once, not as many as the cores allow
    (the queue's jobs ran in Python's default thread pool, min(32, cores + 4) threads: 6 on 2 cores)."""
    at_once = (os.cpu_count() or 1) + 8
    backend = slow_backend(4.0)
    ids = [submit(submitter, backend, f"at once {i}", n=1) for i in range(at_once)]
    workers.start(concurrency=at_once)
    most = 0

    def all_done() -> bool:
        nonlocal most
        statuses = [submitter.store.run(i).status for i in ids]
        most = max(most, statuses.count("running"))
        return all(s == "ok" for s in statuses)

    wait_until(all_done, 90, "the worker to send every run")
    assert most == at_once  # all of them were being sent at the same moment
    assert all(sent(backend, f"at once {i}") == 1 for i in range(at_once))
