"""Money as it is told: offline runs cost $0, an image's share is its run's cost over its images,
and only billed runs count as spent."""

import pytest

from imagelab.client import Connection
from imagelab.costs import image_money, money_of, money_text, spent, total_money
from imagelab.store import Store

USAGE = {"input_tokens": 10, "output_tokens": 1000, "total_tokens": 1010}


def _run(store, *, billed, dollars, images=1, page="generate"):
    run_id = store.start_run(page, "gpt-image-2", "a fox", {}, {"dollars": dollars}, "x", billed=billed,
                             requested=images)
    for i in range(images):
        store.add_image(run_id, i, f"{run_id}-{i}".encode() * 10, "png", 8, 8)
    store.finish_run(run_id, "ok", usage=USAGE, actual_dollars=dollars)
    return run_id


def test_an_offline_run_is_zero_spent_and_says_what_it_would_cost(tmp_path):
    store = Store(tmp_path)
    offline = store.run(_run(store, billed=False, dollars=0.759))
    paid = store.run(_run(store, billed=True, dollars=0.25))
    assert spent(offline) == 0 and spent(paid) == 0.25
    assert money_text(money_of(offline)) == "$0 spent · would cost ≈ $0.759 on OpenAI"
    assert money_text(money_of(paid)) == "$0.250"
    both = money_text(total_money([offline, paid]))
    assert both.startswith("$0.250 spent") and "$0.759" in both


def test_each_image_of_a_run_shows_its_share(tmp_path):
    store = Store(tmp_path)
    run_id = _run(store, billed=True, dollars=0.9, images=3)
    images = store.images_of_run(run_id)
    assert [img.run_images for img in images] == [3, 3, 3]
    assert [image_money(img).spent for img in images] == pytest.approx([0.3, 0.3, 0.3])
    offline = store.images_of_run(_run(store, billed=False, dollars=0.6, images=2))
    assert money_text(image_money(offline[0])) == "$0 spent · would cost ≈ $0.300 on OpenAI"


def test_only_billed_runs_are_spent(store):
    _run(store, billed=False, dollars=1.30)
    _run(store, billed=True, dollars=0.20)
    _run(store, billed=True, dollars=0.05, page="sweep")
    assert store.spent_dollars() == pytest.approx(0.25)
    assert store.spent_dollars(page="sweep") == pytest.approx(0.05)
    rows = store.spend_by_day_and_model()
    assert sum(r["dollars"] for r in rows) == pytest.approx(0.25)
    assert sum(r["would_cost"] for r in rows) == pytest.approx(1.30)


def test_a_run_without_usage_has_no_figure(tmp_path):
    store = Store(tmp_path)
    run_id = store.start_run("generate", "gpt-image-2", "p", {}, None, "x", billed=False)
    store.finish_run(run_id, "failed", error="no")
    assert money_text(money_of(store.run(run_id))) == "no usage reported"


def test_runs_recorded_before_the_billed_column_are_judged_by_their_backend(tmp_path):
    import sqlite3

    from tests.legacy_history import old_history

    old_history(tmp_path, 2)  # its run was sent to OpenAI, for $0.02
    db = sqlite3.connect(tmp_path / "history.sqlite3")
    db.execute("INSERT INTO runs(page, model, prompt, params, status, actual_dollars, backend, started_at)"
               " VALUES ('generate', 'gpt-image-2', 'p', '{}', 'ok', 0.5, 'Offline backend', 0)")
    db.commit()
    db.close()
    store = Store(tmp_path)
    assert store.spent_dollars() == pytest.approx(0.02)
    assert [r.billed for r in store.runs()] == [False, True]


def test_the_engine_records_an_offline_connection_as_unbilled(tmp_path, compatible_server):
    from imagelab.client import generate
    from imagelab.runs.engine import JobRequest, RunEngine
    from imagelab.specs import GenerateSpec

    server = compatible_server()
    store = Store(tmp_path)
    engine = RunEngine(store, workers=1)
    spec = GenerateSpec(prompt="a lighthouse", model="gpt-image-2", quality="low", size="1024x1024", n=2)
    try:
        runs = {}
        for offline in (True, False):
            conn = Connection(server.base_url, server.token or "sk-x", label="Offline backend" if offline else "Custom",
                              offline=offline, timeout=30, max_retries=0)
            runs[offline] = engine.wait(engine.submit(JobRequest(spec, generate, conn, "generate")), 60).run_id
    finally:
        engine.shutdown()
    offline_run, paid_run = store.run(runs[True]), store.run(runs[False])
    assert offline_run.actual_dollars and offline_run.actual_dollars > 0
    assert not offline_run.billed and spent(offline_run) == 0
    assert paid_run.billed and store.spent_dollars() == pytest.approx(paid_run.actual_dollars)
