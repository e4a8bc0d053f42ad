"""Generate's form reruns on its own when a person types or clicks: what it says still reaches the page."""

import pytest

from .conftest import wait_idle

pytestmark = pytest.mark.e2e


def _alerts(page) -> str:
    return " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())


def test_typing_updates_the_estimate_and_a_refusal_is_said_and_cleared(app_server, page):
    page.goto(app_server["url"] + "/Generate")
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").click()
    page.get_by_text("Write a prompt: it is empty.").wait_for(timeout=30_000)
    side = page.locator('[data-testid="stSidebar"]')
    assert "text in 0 " in side.inner_text()
    area = page.locator(".st-key-gen_prompt textarea")
    area.fill("A red kite over a green hill " * 20)
    area.blur()  # commits the text; Ctrl+Enter would press the primary button
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.body.innerText.includes('Write a prompt: it is empty.')",
                           timeout=30_000)
    wait_idle(page)
    assert "text in 0 " not in side.inner_text()  # the sidebar's estimate counts the typed prompt
    assert "empty" not in _alerts(page)
