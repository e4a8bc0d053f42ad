"""The Generate page while its run's row changes under it (another process on the same data folder, or the run
ending between two reads of the page): each run is drawn once, and no element key is used twice."""

import time

from components import state
from imagelab.store import Store

from .conftest import open_page, settle


def test_a_run_still_going_here_but_recorded_as_ended_is_drawn_once(data_dir, monkeypatch, compatible_server):
    srv = compatible_server(faults="latency:3")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    at = open_page().run()
    at.text_area(key=state.GEN_PROMPT).input("a lighthouse drawn slowly").run()
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception, at.exception
    store = Store(data_dir)
    run_id = store.runs(1)[0].id
    deadline = time.monotonic() + 10
    while store.run(run_id).status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    store.finish_run(run_id, "interrupted", error="Marked by another process.")  # the row says ended ...
    at.run()  # ... while this process's engine still runs it
    assert not at.exception, at.exception
    settle(at, data_dir)
