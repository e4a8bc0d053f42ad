"""The Sweep page through AppTest: a preset, the confirm step, a concurrent run with one failure."""

from components import state
from imagelab.store import Store

from .conftest import open_page, settle, shown


def test_offline_sweeps_spend_nothing_so_nothing_asks_for_confirmation(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.selectbox(key=state.SWEEP_PRESET).select("Furniture on a white backdrop").run()
    at.number_input(key=state.SWEEP_THRESHOLD).set_value(0.5).run()
    assert any("8 request(s), 8 image(s): $0 on the offline backend; on OpenAI it would cost" in i.value
               for i in at.info)
    assert not at.checkbox  # no "Yes, spend about …": nothing is spent
    assert not at.button(key=state.SWEEP_BUTTON).disabled


def test_preset_sweep_asks_before_spending_and_runs_every_combination(data_dir, compatible_server):
    from components.connection import CUSTOM

    server = compatible_server()  # a billed connection: any server behind a custom base URL
    at = open_page("pages/5_Sweep.py")
    at.session_state[state.BACKEND_CHOICE] = CUSTOM
    at.session_state[state.BASE_URL] = server.base_url
    at.run()
    at.selectbox(key=state.SWEEP_PRESET).select("Furniture on a white backdrop").run()
    assert not at.exception
    assert any("8 request(s), 8 image(s), estimated" in i.value for i in at.info)
    assert not at.button(key=state.SWEEP_BUTTON).disabled  # under the $1 default threshold
    at.number_input(key=state.SWEEP_THRESHOLD).set_value(0.5).run()
    assert at.button(key=state.SWEEP_BUTTON).disabled  # over it: confirm first
    at.checkbox(key=state.SWEEP_CONFIRM).check().run()
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception
    store = Store(data_dir)
    runs = [r for r in store.runs() if r.page == "sweep"]
    assert len(runs) == 8 and all(r.status == "ok" and r.billed for r in runs)
    prompts = {r.prompt for r in runs}
    assert any("dining chair" in p for p in prompts) and any("speaker" in p for p in prompts)
    assert {r.params["quality"] for r in runs} == {"low", "high"}
    assert any("8 of 8 request(s) made pictures" in m.value for m in at.markdown)
    assert any("item=bench · quality=high" in c.value for c in at.caption)


def test_one_failure_does_not_stop_the_rest(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} on a table").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_thing").input("red cup\nforbidden object\nblue vase").run()
    at.multiselect(key=f"{state.SWEEP_AXIS}_quality").select("low").run()
    at.button(key=state.SWEEP_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception
    store = Store(data_dir)
    runs = sorted((r for r in store.runs() if r.page == "sweep"), key=lambda r: r.prompt)
    assert [r.status for r in runs] == ["ok", "failed", "ok"]  # blue vase, forbidden object, red cup
    assert store.count_images() == 2
    assert any("safety system" in e for e in shown(at.error))
    assert any("2 of 3 request(s) made pictures" in m.value for m in at.markdown)


def test_template_problems_are_sentences(data_dir):
    at = open_page("pages/5_Sweep.py").run()
    at.text_area(key=state.SWEEP_TEMPLATE).input("A {thing} in {place}").run()
    at.text_area(key=f"{state.SWEEP_VALUES}_thing").input("cat").run()
    warnings = " ".join(w.value for w in at.warning)
    assert "place" in warnings
    assert at.button(key=state.SWEEP_BUTTON).disabled
