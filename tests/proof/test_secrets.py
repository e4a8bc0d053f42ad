"""A key and base URL kept in the project's .streamlit/secrets.toml never reach a test run: the suite
runs on the offline backend and the server those secrets name receives nothing."""

import sqlite3

from components import state
from imagelab.store import Store
from tests.app.conftest import open_page, settle
from tests.conftest import SECRET_KEY


def backends(data_dir) -> list[str]:
    with sqlite3.connect(data_dir / "history.sqlite3") as db:
        rows = [r[0] for r in db.execute("SELECT backend FROM runs")]
    db.close()
    return rows


def test_secrets_file_is_not_read_by_the_app_tests(data_dir, project_secrets, recording_server):
    assert SECRET_KEY in project_secrets.read_text()  # the file really is where Streamlit looks
    at = open_page().run()
    at.text_area(key=state.GEN_PROMPT).input("a quiet harbour at dawn").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.sidebar.selectbox(key=state.BACKEND_CHOICE).value == "Offline (synthetic)"
    assert Store(data_dir).count_images() == 1
    assert backends(data_dir) == ["Offline backend"]
    assert recording_server.sent_with(SECRET_KEY) == []
