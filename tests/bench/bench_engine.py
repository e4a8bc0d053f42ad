"""The run engine: its own overhead, the pool under latency, many sessions at once, and the page's cost.

Run: .venv/bin/python tests/bench/bench_engine.py [--check]

- submit → worker start: a fake request that answers at once, so the figure is the engine's own.
- saved → visible: a real app in headless Chromium on its built-in backend at zero latency; the
  moment each image row was committed (the store's clock) against the moment its picture appeared
  in the page (the browser's clock, the same machine).
- an idle page: script runs per minute of a Generate page with nothing running (a polling page
  would rerun many times a minute).
- 8 jobs queued at once with 2 s of injected latency, pool of 4: wall time over one job's.
- load: 20 sessions × 3 runs × 2 images submitted at once to one engine and one store.

``figures()`` returns ``(name, value, target, unit)`` rows for the main benchmark; ``--check``
exits non-zero when a figure misses its target. Nothing reaches the network.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from imagelab.client import Connection, FinalImage, UsageReport, generate  # noqa: E402
from imagelab.offline import start_server  # noqa: E402
from imagelab.runs.engine import JobRequest, RunEngine  # noqa: E402
from imagelab.specs import GenerateSpec  # noqa: E402
from imagelab.store import Store  # noqa: E402

Row = tuple[str, float, float, str]


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def submit_to_start(jobs: int = 40) -> float:
    """Median ms from ``submit`` being called to the worker starting the job."""
    data = _png()

    def instant(client: Any, spec: Any) -> Any:
        yield FinalImage(0, data, "png", 64, 64)
        yield UsageReport(None, None, 0.0)

    nowhere = Connection("http://127.0.0.1:9/v1", "sk-bench", label="bench", offline=True, max_retries=0)
    spec = GenerateSpec(prompt="a bench", size="1024x1024", quality="low")
    with tempfile.TemporaryDirectory() as tmp:
        engine = RunEngine(Store(tmp))
        delays = []
        for _ in range(jobs):
            called = time.time()
            job = engine.wait(engine.submit(JobRequest(spec, instant, nowhere, page="generate")))
            delays.append((job.started_at - called) * 1000)
        engine.shutdown()
    return statistics.median(delays)


def pool_under_latency(jobs: int = 8, workers: int = 4, latency: float = 2.0) -> float:
    """Wall time of ``jobs`` submitted at once over one job alone, with injected latency."""
    srv = start_server(faults=f"latency:{latency:g}")
    conn = Connection(srv.base_url, "sk-bench", label="Offline backend", offline=True, timeout=60, max_retries=0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = RunEngine(Store(tmp), workers=workers)

            def wall(count: int) -> float:
                started = time.perf_counter()
                ids = [engine.submit(JobRequest(GenerateSpec(prompt=f"a postcard of place {i}", size="1024x1024",
                                                             quality="low"), generate, conn, page="sweep"))
                       for i in range(count)]
                for run_id in ids:
                    if engine.wait(run_id, 120).status != "ok":
                        raise SystemExit(f"a benchmark run failed: {engine.store.run(run_id).error}")
                return time.perf_counter() - started

            single = wall(1)
            many = wall(jobs)
            engine.shutdown()
    finally:
        srv.stop()
    return many / single


def load(sessions: int = 20, runs_each: int = 3) -> tuple[float, float]:
    """(failed runs, files and rows that do not match) after many sessions submit at once."""
    srv = start_server()
    conn = Connection(srv.base_url, "sk-bench", label="Offline backend", offline=True, timeout=120, max_retries=0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(tmp)
            engine = RunEngine(store)
            ids = [engine.submit(JobRequest(GenerateSpec(prompt=f"session {s} picture {k}, a teal harbour",
                                                         size="1024x1024", quality="low", n=2),
                                            generate, conn, page="generate"))
                   for s in range(sessions) for k in range(runs_each)]
            engine.wait_all(600)
            engine.shutdown()
            runs = [store.run(i) for i in ids]
            errors = sum(1 for r in runs if r.status != "ok")
            files = {p.stem for p in store.images_dir.rglob("*.png")}
            hashes = {r.hash for r in store.recent_images(10_000)}
            mismatched = len(files ^ hashes) + abs(store.count_images() - sessions * runs_each * 2)
    finally:
        srv.stop()
    return float(errors), float(mismatched)


# --- in the browser ---------------------------------------------------------------------------------

_WATCH = """() => {
  window.__shown = {};
  window.__runs = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    document.querySelectorAll('[class*="st-key-run_"] [data-testid="stImage"] img').forEach(img => {
      const key = [...img.closest('[class*="st-key-run_"]').classList].find(c => c.startsWith('st-key-run_'));
      const id = key + ':' + img.src;
      if (id in window.__shown || img.__watched) return;
      img.__watched = true;
      const seen = () => { if (!(id in window.__shown)) window.__shown[id] = Date.now(); };
      if (img.complete && img.naturalWidth) seen(); else img.addEventListener('load', seen, {once: true});
    });
  }).observe(document.body, {subtree: true, childList: true, attributes: true});
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__runs += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def in_the_browser(runs: int = 5, idle_seconds: float = 30.0) -> tuple[float, float]:
    """(median ms from an image saved to it being on the page, script runs per idle minute)."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, launch_app, type_into, wait_idle

    with tempfile.TemporaryDirectory() as tmp, launch_app(Path(tmp) / "data") as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(server["url"] + "/Generate")
        wait_idle(page)
        page.evaluate(_WATCH)
        store = Store(server["data_dir"])
        delays = []
        for i in range(runs):
            type_into(page, "gen_prompt", f"A lantern on a jetty, picture {i}")
            page.locator(".st-key-btn_gen_run button").click()
            deadline = time.time() + 60
            while time.time() < deadline:
                done = [r for r in store.runs(1, page="generate") if not r.active and r.prompt.endswith(f" {i}")]
                if done:
                    break
                time.sleep(0.05)
            run = done[0]
            image = store.images_of_run(run.id)[0]
            key = f"st-key-run_{run.id}:"
            shown_at = None
            while time.time() < deadline and shown_at is None:
                shown = page.evaluate("() => window.__shown")
                shown_at = next((t for k, t in shown.items() if k.startswith(key)), None)
                time.sleep(0.02)
            if shown_at is None:
                raise SystemExit(f"run {run.id}'s picture never appeared on the page")
            delays.append(shown_at - image.created_at * 1000)
        wait_idle(page)
        page.wait_for_timeout(1500)
        before = page.evaluate("() => window.__runs")
        page.wait_for_timeout(idle_seconds * 1000)
        idle_runs = page.evaluate("() => window.__runs") - before
        browser.close()
    return statistics.median(delays), idle_runs * 60.0 / idle_seconds


def figures() -> list[Row]:
    rows: list[Row] = [("engine: submit → worker start (median)", submit_to_start(), 20, "ms")]
    saved_to_shown, idle = in_the_browser()
    rows.append(("engine: image saved → on the page (median)", saved_to_shown, 150, "ms"))
    rows.append(("engine: script runs per minute on an idle page", idle, 0, "/min"))
    rows.append(("engine: 8 jobs at once, 2 s latency, pool of 4: wall / one job", pool_under_latency(), 2.2, "×"))
    errors, mismatched = load()
    rows.append(("engine load, 20 sessions × 3 runs × 2 images: failed runs", errors, 0, ""))
    rows.append(("engine load: files and rows that do not match", mismatched, 0, ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    args = parser.parse_args(argv)
    os.environ.setdefault("IMAGELAB_DATA_DIR", tempfile.mkdtemp())
    missed = 0
    for name, value, target, unit in figures():
        ok = value <= target
        missed += not ok
        print(f"{name:<66} {value:>9.2f} {unit:<4} target {target:<6} {'PASS' if ok else 'MISS'}", flush=True)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
