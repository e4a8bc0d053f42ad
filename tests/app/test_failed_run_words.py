"""A failed run's card built from the history says what the server said, as the live card did."""

from components import state
from imagelab.store import Store

from .conftest import open_page, page_text, settle


def test_a_failed_run_rebuilt_from_the_history_shows_the_servers_message_status_and_code(
        data_dir, monkeypatch, compatible_server):
    srv = compatible_server(faults="429")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    at = open_page().run()
    at.text_area(key=state.GEN_PROMPT).input("a quiet harbour at dawn").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at)
    run = Store(data_dir).runs()[0]
    assert run.status == "failed"

    later = open_page().run()  # another session: the card comes from the history alone
    assert not later.exception
    text = page_text(later)
    assert "Too many requests for now" in text  # ImageLab's sentence
    assert "API said: Rate limit reached for images per minute (offline fault injection)" in text
    assert "status 429" in text and "code rate_limit_exceeded" in text
    assert f"request id {run.request_id}" in text
