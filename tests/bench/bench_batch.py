"""A 200-request sweep sent through the Batch API to the offline backend: time to submit, memory while waiting.

Run: .venv/bin/python tests/bench/bench_batch.py [--check]

- submit: from ``RunEngine.submit_batch`` being called until the batch exists at the API and its id is
  in the store (200 run rows written, the JSONL built and uploaded, the batch created).
- memory while waiting: the app process's resident memory over 10 s of following the batch (polling
  its progress five times a second) — it should not grow. The offline backend runs in its own
  process at a slow pace, so its own work (rendering, the output file) is not counted.

``figures()`` returns ``(name, value, target, unit)`` rows for the main benchmark; ``--check``
exits non-zero when a figure misses its target. Nothing reaches the network.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from imagelab.client import Connection  # noqa: E402
from imagelab.offline.batches import BATCH_PACE_ENV  # noqa: E402
from imagelab.runs.engine import RunEngine  # noqa: E402
from imagelab.specs import GenerateSpec  # noqa: E402
from imagelab.store import Store  # noqa: E402

Row = tuple[str, float, float, str]
REQUESTS = 200
WAIT_SECONDS = 10.0


def rss_mb() -> float:
    """This process's resident memory in MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _start_backend() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, BATCH_PACE_ENV: "1.0"}
    proc = subprocess.Popen([sys.executable, "-m", "imagelab.offline", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.rsplit(" ", 1)[-1].strip()


def figures() -> list[Row]:
    proc, base_url = _start_backend()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(tmp)
            engine = RunEngine(store, batch_poll=0.2)
            conn = Connection(base_url, "sk-bench", label="Bench backend", timeout=60, max_retries=0)
            items = [(GenerateSpec(prompt=f"A ceramic vase, study {i}, soft daylight", model="gpt-image-1.5",
                                   size="1024x1024", quality="low"), f"#{i}") for i in range(REQUESTS)]
            started = time.perf_counter()
            group = engine.submit_batch(items, conn)
            while not store.batches(group_id=group)[0].batch_id:
                if time.perf_counter() - started > 60:
                    raise TimeoutError("the batch was not created within 60 s")
                time.sleep(0.005)
            submit = time.perf_counter() - started
            time.sleep(1.0)  # the first polls settle
            gc.collect()
            before = rss_mb()
            samples = [before]
            end = time.monotonic() + WAIT_SECONDS
            while time.monotonic() < end:
                time.sleep(0.5)
                samples.append(rss_mb())
            gc.collect()
            growth = rss_mb() - before
            row = store.batches(group_id=group)[0]
            assert row.active and row.status in ("validating", "in_progress"), row.status
            engine.cancel_batch(group)
            deadline = time.monotonic() + 30
            while store.batches(group_id=group)[0].active and time.monotonic() < deadline:
                time.sleep(0.1)
            engine.shutdown()
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    return [
        (f"batch sweep of {REQUESTS}: submit until the batch exists", submit, 5.0, "s"),
        (f"batch sweep of {REQUESTS}: app memory growth over {WAIT_SECONDS:.0f} s of waiting", max(growth, 0.0),
         2.0, "MB"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    args = parser.parse_args(argv)
    missed = 0
    for name, value, target, unit in figures():
        ok = value <= target
        missed += not ok
        print(f"{name:<66} {value:>9.2f} {unit:<4} target {target:<6} {'PASS' if ok else 'MISS'}", flush=True)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
