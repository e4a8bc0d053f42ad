"""Spending limits in the sidebar and a sweep sent as a batch, in a real browser (with screenshots to look at)."""

import pytest

from imagelab.store import Store

from .conftest import launch_app, screenshot, type_into, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture
def limited_app(tmp_path):
    data = tmp_path / "data"
    Store(data).set_limit("day", 5.0)  # the sidebar shows the limits that are set
    with launch_app(data) as server:
        yield server


def test_a_batch_sweep_with_limits_in_the_sidebar(limited_app, page):
    # Three models side by side are proved through AppTest (tests/app/test_spending.py); here the sidebar's
    # limit and a batch sweep are driven in Chromium.
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(limited_app["url"] + "/Generate")
    wait_idle(page)
    side = page.locator('[data-testid="stSidebar"]')
    assert side.inner_text().count("Today: $0.00 of $5.00") == 1
    # a generation (the button's part of the form) keeps the limit beneath the estimate, once, as it runs and after
    type_into(page, "gen_prompt", "A brass kettle on a stove")
    page.locator(".st-key-btn_gen_run button").click()
    card = page.locator('[class*="st-key-run_"]').filter(has_text="A brass kettle on a stove").first
    card.locator(".stDownloadButton").wait_for(timeout=60_000)
    wait_idle(page)
    assert side.inner_text().count("Today: $0.00 of $5.00") == 1
    assert "Offline runs do not count against these limits." in side.inner_text()
    page.goto(limited_app["url"] + "/Sweep")
    wait_idle(page)
    page.locator(".st-key-sweep_template textarea").fill("A {thing} on a shelf")
    page.locator(".st-key-sweep_template textarea").blur()  # commits; Ctrl+Enter would run it
    page.wait_for_timeout(300)
    wait_idle(page)
    page.locator(".st-key-sweep_values_thing textarea").fill("jug\nclock\nvase\nlamp")
    page.locator(".st-key-sweep_values_thing textarea").blur()  # commits; Ctrl+Enter would run it
    page.wait_for_timeout(300)
    wait_idle(page)
    page.locator(".st-key-sweep_as_batch label").click()
    wait_idle(page)
    assert "as a batch (within 24 hours)" in page.locator('[data-testid="stMain"]').inner_text()
    page.locator(".st-key-btn_sweep_run button").click()
    wait_idle(page)
    page.locator('[data-testid="stMain"]').get_by_text("· completed · 4 of 4 done").wait_for(timeout=90_000)
    page.locator('[data-testid="stImage"] img').nth(3).wait_for(timeout=30_000)
    page.locator('[data-testid="stMain"]').get_by_text("· completed · 4 of 4 done").scroll_into_view_if_needed()
    screenshot(page, "sweep-batch-1280")
