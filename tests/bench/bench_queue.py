"""Speed of the run queue (PostgreSQL + procrastinate) beside the in-process pool, against the offline backend.

Run: .venv/bin/python tests/bench/bench_queue.py      (starts its own PostgreSQL and worker processes on loopback)

- Submit → the worker starts the job, median of 30: PostgreSQL queue (target ≤ 50 ms) and in-process (≤ 5 ms).
- A preview received by a worker → shown by another server's engine (NOTIFY), p95 (target ≤ 1 s).
- 16 jobs on 2 worker processes × 4, at 2 s latency: wall time ÷ one job's (target ≤ 2.3×).

``figures()`` gives (name, value, target, unit) rows for ``tests/bench/bench.py``.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from imagelab.client import Connection  # noqa: E402
from imagelab.offline import start_server  # noqa: E402
from imagelab.runs.engine import RunEngine  # noqa: E402
from imagelab.runs.kinds import Job  # noqa: E402
from imagelab.runs.queue import QueuedEngine  # noqa: E402
from imagelab.specs import GenerateSpec  # noqa: E402
from imagelab.store import Store  # noqa: E402
from tests.services.postgres import postgres_server  # noqa: E402

ROUNDS = 30


def _request(base_url: str, prompt: str) -> Any:
    conn = Connection(base_url, "sk-offline", label="Offline backend", offline=True, max_retries=0)
    spec = GenerateSpec(prompt=prompt, n=1, quality="low", size="1024x1024")
    return Job.of("generate", spec, conn, page="generate").request(conn.api_key)


def _submit_to_start(engine: RunEngine, base_url: str) -> float:
    """Median ms from ``submit`` to the engine's worker starting the job (each job waits for the one before)."""
    started: dict[int, float] = {}
    begun = threading.Event()
    work = engine._work

    def timed(job: Any, request: Any) -> None:
        started[job.run_id] = time.perf_counter()
        begun.set()
        work(job, request)

    engine._work = timed  # type: ignore[method-assign]
    gaps = []
    for i in range(ROUNDS + 3):
        begun.clear()
        t = time.perf_counter()
        run_id = engine.submit(_request(base_url, f"timing run {i}"))
        begun.wait(10)
        engine.wait(run_id, 60)
        if i >= 3:  # the first ones warm the connections up
            gaps.append((started[run_id] - t) * 1000)
    return statistics.median(gaps)


def _preview_to_shown(worker: QueuedEngine, server: QueuedEngine, base_url: str, runs: int = 8) -> float:
    """p95 seconds from a worker receiving a preview to another engine (another server) holding it."""
    from imagelab.client import PartialImage

    received: dict[tuple[int, int], float] = {}
    handle = worker._handle

    def timed(job: Any, ev: Any, *args: Any) -> None:
        if isinstance(ev, PartialImage):
            received[(job.run_id, ev.image_index)] = time.perf_counter()
        handle(job, ev, *args)

    worker._handle = timed  # type: ignore[method-assign]
    gaps = []
    conn = Connection(base_url, "sk-offline", label="Offline backend", offline=True, max_retries=0)
    for i in range(runs):
        spec = GenerateSpec(prompt=f"preview run {i}", n=1, partial_images=1, quality="low", size="1024x1024")
        run_id = server.submit(Job.of("generate", spec, conn, page="generate").request(conn.api_key))
        seen = None
        deadline = time.monotonic() + 30
        while seen is None and time.monotonic() < deadline:
            version = server.version
            state = server.job(run_id)
            if state is not None and 0 in state.previews:
                seen = time.perf_counter()
                break
            if state is not None and not state.active:
                break
            server.wait_for_change(version, 0.05)
        if seen is not None and (run_id, 0) in received:
            gaps.append(seen - received[(run_id, 0)])
        server.wait(run_id, 60)
    gaps.sort()
    return gaps[min(len(gaps) - 1, int(len(gaps) * 0.95))] if gaps else float("inf")


def _workers(env: dict[str, str], count: int, concurrency: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(count):
        log = logs / f"bench-worker-{i}.log"
        with open(log, "wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "imagelab.worker", "--concurrency", str(concurrency)],
                                          env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 30
        while b"Worker ready" not in log.read_bytes():
            if time.monotonic() > deadline or procs[-1].poll() is not None:
                raise RuntimeError(log.read_text())
            time.sleep(0.05)
    return procs


def _wall(engine: RunEngine, base_url: str, jobs: int) -> float:
    t = time.perf_counter()
    ids = [engine.submit(_request(base_url, f"wall run {i}")) for i in range(jobs)]
    for run_id in ids:
        engine.wait(run_id, 120)
    return time.perf_counter() - t


def figures() -> list[tuple[str, float, float, str]]:
    rows: list[tuple[str, float, float, str]] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        quick = start_server()
        stack.callback(quick.stop)
        lite = Store(Path(tmp) / "lite", database_url="")
        pool = RunEngine(lite)
        in_process = _submit_to_start(pool, quick.base_url)
        pool.shutdown()
        lite.close()

        pg = stack.enter_context(postgres_server())
        url = pg.create_database("queue")
        data = Path(tmp) / "shared"
        store = Store(data, database_url=url)
        queued = QueuedEngine(store, workers=4)
        queue_ms = _submit_to_start(queued, quick.base_url)
        rows += [("queue: submit → worker starts, PostgreSQL (median)", queue_ms, 50, "ms"),
                 ("queue: submit → worker starts, in-process (median)", in_process, 5, "ms")]
        streaming = start_server(faults="latency:2")
        stack.callback(streaming.stop)
        server = QueuedEngine(store, run_worker=False)  # another server: its own engine, no worker
        rows.append(("queue: preview at a worker → shown by another server (p95)",
                     _preview_to_shown(queued, server, streaming.base_url), 1, "s"))
        server.shutdown(wait=False)
        queued.shutdown(wait=False)

        slow = start_server(faults="latency:2")
        stack.callback(slow.stop)
        env = {**os.environ, "IMAGELAB_DATABASE_URL": url, "IMAGELAB_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
        env.pop("OPENAI_API_KEY", None)
        procs = _workers(env, 2, 4, Path(tmp))
        stop: Callable[[], None] = lambda: [p.send_signal(signal.SIGTERM) or p.wait(20) for p in procs]  # noqa: E731
        stack.callback(stop)
        submitter = QueuedEngine(store, run_worker=False)
        one = _wall(submitter, slow.base_url, 1)
        sixteen = _wall(submitter, slow.base_url, 16)
        submitter.shutdown(wait=False)
        rows.append(("queue: 16 jobs on 2 workers × 4, 2 s latency: wall / one job", sixteen / one, 2.3, "×"))
        store.close()
    return rows


if __name__ == "__main__":
    for name, value, target, unit in figures():
        print(f"{name}: {value:.2f} {unit} (target ≤ {target:g})")
