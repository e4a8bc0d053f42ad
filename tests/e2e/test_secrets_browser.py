"""The browser suite's server never reads the project's .streamlit/secrets.toml: with a key and a base
URL there, it still generates on the offline backend and the server those secrets name hears nothing."""

import pytest

from imagelab.store import Store
from tests.conftest import SECRET_KEY
from tests.proof.test_secrets import backends

from .conftest import launch_app, wait_idle, wait_until

pytestmark = pytest.mark.e2e


def test_secrets_file_is_not_read_by_the_browser_suite(tmp_path, project_secrets, recording_server, page):
    assert SECRET_KEY in project_secrets.read_text()
    with launch_app(tmp_path / "data") as app:
        page.goto(app["url"] + "/Generate")
        wait_idle(page)
        prompt = page.locator(".st-key-gen_prompt textarea")
        prompt.fill("A teal lighthouse on a red cliff")
        prompt.blur()  # commits the text; Ctrl+Enter would press the primary button
        page.wait_for_timeout(300)
        wait_idle(page)
        page.locator(".st-key-btn_gen_run button").click()
        store = Store(app["data_dir"])
        wait_until(lambda: [r for r in store.runs() if r.status not in ("queued", "running")], what="the run to finish")
        assert [r.status for r in store.runs()] == ["ok"] and store.count_images() == 1
        assert "Offline backend" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert backends(app["data_dir"]) == ["Offline backend"]
    assert recording_server.sent_with(SECRET_KEY) == []
