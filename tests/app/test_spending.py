"""Spending limits, the check before spending, batch sweeps and one prompt to several models, through AppTest."""

import time

import pytest

from components import state
from imagelab.costs import estimate
from imagelab.specs import GenerateSpec
from imagelab.store import Store

from .conftest import open_page, settle, shown

TIMEOUT = 60


def billed(monkeypatch, compatible_server):
    """A compatible server reached by base URL and key: its runs count against the limits (offline ones do not)."""
    srv = compatible_server()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    return srv


def prompt_costing(dollars, base):
    """A prompt long enough that ``base`` with it is estimated at ``dollars`` (text tokens are priced too)."""
    words = "a red apple on an oak table "
    prompt = words
    while estimate(base.with_changes(prompt=prompt)).dollars < dollars - 1e-6:
        prompt += words
    return prompt


ONE_FOX = GenerateSpec(prompt="A fox on a table", model="gpt-image-2", quality="low", size="1024x1024")


def sweep_under_a_limit(scope: str, limit: float, animals: str = "fox\nowl\ncat\nelk\nbat\nemu"):
    """The Sweep page with a spending limit set and a sweep of one picture an animal, low quality, ready to run."""
    at = open_page("pages/5_Sweep.py", TIMEOUT).run()
    at.sidebar.number_input(key=state.item(state.BUDGET, scope)).set_value(limit).run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} on a table").run()
    at.text_area(key=state.sweep_values("thing")).input(animals).run()
    at.selectbox(key=state.SWEEP_MODEL).select("gpt-image-2").run()
    at.multiselect(key=state.sweep_axis("quality")).select("low").run()
    at.multiselect(key=state.sweep_axis("size")).select("1024x1024").run()
    return at


def test_a_limit_of_50_cents_refuses_a_76_cent_request(data_dir, monkeypatch, compatible_server):
    billed(monkeypatch, compatible_server)
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    at.sidebar.number_input(key=state.item(state.BUDGET, "session")).set_value(0.5).run()
    base = GenerateSpec(model="gpt-image-2.5-sunburst", quality="xhigh", size="1536x1024", n=3)
    prompt = prompt_costing(0.76, base)
    at.selectbox(key=state.GEN_MODEL).select(base.model).run()
    at.selectbox(key=f"{state.GEN_OPTS}_size").select(base.size).run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select(base.quality).run()
    at.number_input(key=f"{state.GEN_OPTS}_n").set_value(3).run()
    at.text_area(key=state.GEN_PROMPT).input(prompt).run()
    assert any("This session: $0.00 of $0.500 · this request $0.760" in c.value for c in at.sidebar.caption), \
        [c.value for c in at.sidebar.caption]
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception
    errors = shown(at.error)
    assert any("Not sent: this request would cost about $0.760, which would cross your per-session limit of "
               "$0.500 by $0.260. What would fit in the $0.500 left: 1 image instead of 3 ($0.266) or medium quality "
               "($0.102)." in e for e in errors), errors
    assert Store(data_dir).count_runs() == 0  # nothing was sent


def test_a_sweep_stops_at_the_limit(data_dir, monkeypatch, compatible_server):
    billed(monkeypatch, compatible_server)
    at = sweep_under_a_limit("day", round(estimate(ONE_FOX).dollars * 3.5, 4))
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception
    store = Store(data_dir)
    runs = sorted(store.runs(20, page="sweep"), key=lambda r: r.id)
    made = [r for r in runs if r.status == "ok"]
    stopped = [r for r in runs if r.status == "cancelled"]
    assert len(runs) == 6 and len(made) == 3 and len(stopped) == 3
    assert all(len(store.images_of_run(r.id)) == 1 for r in made)  # what ran is kept
    assert all(r.error.startswith("Stopped at the spending limit: this request would cost about") and
               "daily limit" in r.error for r in stopped)
    assert any("Stopped at the spending limit" in e for e in shown(at.error))


def test_one_prompt_to_three_models_side_by_side(data_dir):
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    at.text_area(key=state.GEN_PROMPT).input("A paper boat on a pond").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    targets = ["gpt-image-2.5-sunburst", "gpt-image-2.6-flare", "gpt-image-2 · low"]
    at.session_state[state.GEN_FANOUT_OPEN] = True  # what a click on the fold does
    at.run()
    offered = at.multiselect(key=state.GEN_FANOUT_TARGETS).options
    assert "gpt-image-1.5" not in offered and "gpt-image-1-mini" not in offered  # reported shut down on 2026-12-01
    at.multiselect(key=state.GEN_FANOUT_TARGETS).set_value(targets).run()
    at.button(key=state.GEN_FANOUT_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception, at.exception
    store = Store(data_dir)
    runs = store.runs(10, page="generate")
    assert sorted(r.label for r in runs) == sorted(targets) and all(r.status == "ok" for r in runs)
    figures = [c.value for c in at.caption if " tokens · $" in c.value and c.value.split(" · ")[0].endswith(" s")]
    assert len(figures) == 3, figures
    headings = [m.strip("*") for m in shown(at.markdown)]
    assert sorted(h for h in headings if h in targets) == sorted(targets), headings
    keep = [b for b in at.button if b.key and b.key.startswith("btn_fanout_keep_")]
    assert len(keep) == 3
    keep[0].click().run()
    starred = [img for r in runs for img in store.images_of_run(r.id) if img.starred]
    assert len(starred) == 1
    assert any("Kept (starred)" in c.value for c in at.caption)


def test_the_check_before_spending_shows_what_it_flagged(data_dir):
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    at.sidebar.toggle(key=state.BUDGET_MODERATION).set_value(True).run()
    at.text_area(key=state.GEN_PROMPT).input("A forbidden door in a garden wall").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    assert not at.exception
    run = Store(data_dir).runs(1)[0]
    assert run.status == "failed" and not Store(data_dir).images_of_run(run.id)
    assert any("The check before spending flagged this request (illicit)" in e for e in shown(at.error))


def test_a_sweep_sent_as_a_batch_shows_both_prices_and_fills_its_cells(data_dir):
    at = open_page("pages/5_Sweep.py", TIMEOUT).run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} on a shelf").run()
    at.text_area(key=state.sweep_values("thing")).input("jug\nforbidden box\nclock").run()
    at.multiselect(key=state.sweep_axis("quality")).select("low").run()
    at.toggle(key=state.SWEEP_AS_BATCH).set_value(True).run()
    preview = " ".join(shown(at.info))
    assert "$0 on the offline backend; on OpenAI it would cost ≈ $" in preview, preview
    assert " now, or ≈ $" in preview and " as a batch (within 24 hours)" in preview, preview
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    store = Store(data_dir)
    deadline = time.monotonic() + 60
    while any(b.active for b in store.batches()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    at.run()
    assert not at.exception
    (row,) = store.batches()
    runs = {r.label: r for r in store.runs(10, page="sweep")}
    assert row.status == "completed" and row.completed == 2 and row.failed == 1
    assert runs["thing=jug"].status == "ok" and runs["thing=clock"].status == "ok"
    assert "safety system" in runs["thing=forbidden box"].error
    # cells priced at half the synchronous rate
    full = estimate(GenerateSpec(prompt="A jug on a shelf", quality="low")).dollars
    assert runs["thing=jug"].est_dollars == pytest.approx(full / 2)
    assert any("**Batch** (generations) · completed · 3 of 3 done · 1 failed" in m.value for m in at.markdown)


def test_a_sweep_on_four_workers_sends_only_what_a_session_limit_fits(data_dir, monkeypatch, compatible_server):
    """The sweep's runs are recorded for the session only after they are all submitted, and four workers start
    at once: the check and the start it allows must be one step, or every worker sees nothing spent."""
    billed(monkeypatch, compatible_server)
    at = sweep_under_a_limit("session", round(estimate(ONE_FOX).dollars * 1.5, 4))  # room for one
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    runs = Store(data_dir).runs(20, page="sweep")
    assert len(runs) == 6
    assert [r.status for r in runs].count("ok") == 1, [(r.status, r.error) for r in runs]
    assert all("per-session limit" in r.error for r in runs if r.status == "cancelled")


def test_two_tabs_sweeping_at_once_never_pass_a_daily_limit_together(data_dir, monkeypatch, compatible_server):
    billed(monkeypatch, compatible_server)
    limit = round(estimate(ONE_FOX).dollars * 2.5, 4)  # room for two, whoever sends them
    tabs = [sweep_under_a_limit("day", limit, animals) for animals in ("fox\nowl\ncat\nelk", "bat\nemu\nyak\ngnu")]
    for at in tabs:
        at.button(key=state.SWEEP_BUTTON).click().run()
        assert not at.exception
    settle(tabs[0], data_dir)
    runs = Store(data_dir).runs(20, page="sweep")
    assert len(runs) == 8
    assert [r.status for r in runs].count("ok") == 2, [(r.status, r.error) for r in runs]
