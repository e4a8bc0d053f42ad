"""Sweeps on the run engine, through the real openai SDK against the offline server."""


from imagelab import client as cl
from imagelab.runs.engine import RunEngine
from imagelab.runs.sweeps import Sweep, submit_sweep
from imagelab.specs import GenerateSpec
from imagelab.store import Store


def connection(server):
    return cl.Connection(server.base_url, "sk-offline", label="Offline backend", offline=True, timeout=30,
                         max_retries=0)


def test_sweep_of_six_with_one_failure(offline_server, tmp_path):
    store = Store(tmp_path)
    engine = RunEngine(store, workers=3)
    things = ["red kite", "blue whale", "forbidden thing", "green fern", "yellow cab", "white owl"]
    items = Sweep("A photo of a {thing}", {"thing": things}, {}, GenerateSpec(size="1024x1024", quality="low")).expand()
    group, ids = submit_sweep(engine, items, connection(offline_server))
    engine.wait_all()
    runs = [store.run(i) for i in ids]
    assert [r.prompt for r in runs] == [f"A photo of a {t}" for t in things]
    assert [r.status for r in runs] == ["ok", "ok", "failed", "ok", "ok", "ok"]
    assert "safety system" in runs[2].error
    assert all(r.page == "sweep" and r.group_id == group for r in runs)
    saved = store.recent_images(limit=20)
    assert len(saved) == 5 and {img.page for img in saved} == {"sweep"}
    assert {img.prompt for img in saved} == {f"A photo of a {t}" for t in things if t != "forbidden thing"}
    assert all(r.request_id and r.request_id.startswith("req_") for r in runs)
    assert all(r.actual_dollars and r.usage["output_tokens"] > 0 for r in runs if r.status == "ok")


def _most_at_once(jobs):
    """The largest number of jobs whose running intervals overlap at one moment."""
    edges = sorted([(j.started_at, 1) for j in jobs] + [(j.finished_at, -1) for j in jobs])
    now = most = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_requests_run_concurrently_within_the_pool(compatible_server, tmp_path):
    server = compatible_server("latency:1")
    store = Store(tmp_path)
    items = Sweep("A {n} of cards", {"n": ["ace", "king", "queen", "jack"]}, {},
                  GenerateSpec(size="1024x1024", quality="low")).expand()
    for workers, expected in ((4, 4), (2, 2)):
        engine = RunEngine(store, workers=workers)
        _, ids = submit_sweep(engine, items, connection(server))
        engine.wait_all()
        jobs = [engine.job(i) for i in ids]
        assert [store.run(i).status for i in ids] == ["ok"] * 4
        assert all(j.finished_at - j.started_at >= 1.0 for j in jobs)  # the latency really was injected
        assert _most_at_once(jobs) == expected
