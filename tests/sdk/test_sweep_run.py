"""Sweeps through the real openai SDK against the offline server: failures contained, requests concurrent."""

import threading
import time

import openai

from imagelab import client as cl
from imagelab.runner import RunResult, Saved
from imagelab.specs import GenerateSpec
from imagelab.store import Store
from imagelab.sweeps import Sweep, run_sweep
from tests.sdk.conftest import opened


def sdk(server, fault=None):
    headers = {"x-imagelab-fault": fault} if fault else None
    return opened(openai.OpenAI(api_key="sk-offline", base_url=server.base_url, max_retries=0, timeout=30,
                                default_headers=headers))


def test_sweep_of_six_with_one_failure(offline_server, tmp_path):
    store = Store(tmp_path)
    things = ["red kite", "blue whale", "forbidden thing", "green fern", "yellow cab", "white owl"]
    items = Sweep("A photo of a {thing}", {"thing": things}, {}, GenerateSpec(size="1024x1024", quality="low")).expand()
    client = sdk(offline_server)
    seen: dict[int, list[str]] = {}
    threads: set[str] = set()
    lock = threading.Lock()

    def on_event(i, ev):
        with lock:
            seen.setdefault(i, []).append(type(ev).__name__)
            threads.add(threading.current_thread().name)

    results = run_sweep(items, lambda spec: cl.generate(client, spec), store, backend="Offline backend",
                        workers=3, on_event=on_event)
    assert [r.prompt for r in results] == [f"A photo of a {t}" for t in things]
    assert [r.status for r in results] == ["ok", "ok", "failed", "ok", "ok", "ok"]
    assert isinstance(results[2].errors[0], cl.ModerationBlocked)
    assert all(isinstance(r, RunResult) and r.page == "sweep" for r in results)
    assert sorted(seen) == list(range(6))
    assert all(kinds[-1] == "RunResult" for kinds in seen.values())
    assert [kinds.count("Saved") for _, kinds in sorted(seen.items())] == [1, 1, 0, 1, 1, 1]
    assert seen[2].count("Failed") == 1
    assert all(name.startswith("imagelab-sweep") for name in threads)
    saved = store.recent_images(limit=20)
    assert len(saved) == 5 and {img.page for img in saved} == {"sweep"}
    assert {img.prompt for img in saved} == {f"A photo of a {t}" for t in things if t != "forbidden thing"}
    runs = store.runs()
    assert len(runs) == 6 and sorted(r.status for r in runs) == ["failed"] + ["ok"] * 5
    assert all(r.request_id and r.request_id.startswith("req_") for r in runs)
    for r in results:
        if r.status == "ok":
            assert r.cost is not None and r.cost.output_tokens > 0 and isinstance(r.images[0], type(saved[0]))


def test_requests_run_concurrently(offline_server, tmp_path):
    store = Store(tmp_path)
    client = sdk(offline_server, "latency:1")
    items = Sweep("A {n} of cards", {"n": ["ace", "king", "queen", "jack"]}, {},
                  GenerateSpec(size="1024x1024", quality="low")).expand()
    saved = []
    started = time.perf_counter()
    results = run_sweep(items, lambda spec: cl.generate(client, spec), store, backend="Offline backend", workers=4,
                        on_event=lambda i, ev: saved.append(i) if isinstance(ev, Saved) else None)
    wall = time.perf_counter() - started
    assert [r.status for r in results] == ["ok"] * 4
    assert sorted(saved) == [0, 1, 2, 3]
    assert all(r.seconds >= 1.0 for r in results)  # the latency really was injected
    assert wall < 3.0, f"4 requests of 1 s each took {wall:.2f} s with 4 workers"
