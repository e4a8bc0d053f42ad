"""One prompt to three models, and a sweep sent as a batch, in a real browser (with screenshots to look at)."""

import pytest

from imagelab.store import Store

from .conftest import launch_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture
def limited_app(tmp_path):
    data = tmp_path / "data"
    Store(data).set_limit("day", 5.0)  # the sidebar shows the limits that are set
    with launch_app(data) as server:
        yield server


def test_three_models_side_by_side_and_a_batch_sweep(limited_app, page):
    for width, height in ((1440, 900), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(limited_app["url"] + "/Generate")
        wait_idle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert "Today: $0.00 of $5.00" in sidebar.inner_text()
        prompt = page.locator(".st-key-gen_prompt textarea")
        prompt.fill(f"A paper boat on a still pond, {width} wide")
        prompt.press("Control+Enter")
        wait_idle(page)
        page.get_by_text("Compare models").click()
        picker = page.locator(".st-key-gen_fanout_targets input")
        chosen = page.locator(".st-key-gen_fanout_targets").inner_text()
        for target in [t for t in ("gpt-image-1.5", "gpt-image-1-mini", "gpt-image-2 · low") if t not in chosen]:
            picker.click()
            picker.fill(target)
            page.get_by_role("option", name=target, exact=True).click(force=True)
            wait_idle(page)
        page.keyboard.press("Escape")
        page.locator(".st-key-btn_gen_fanout button").click()
        wait_idle(page)
        page.locator('[class*="st-key-btn_fanout_keep_"]').nth(2).wait_for(timeout=90_000)
        wait_idle(page)
        page.wait_for_timeout(1500)  # the polling part hands over to the full page once all three have ended
        wait_idle(page)
        screenshot(page, f"compare-models-{width}")
        assert page.locator('[class*="st-key-btn_fanout_keep_"] button:visible').count() == 3
        captions = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]:visible')
        figures = captions.filter(has_text=" tokens · $")
        assert figures.count() == 3
        page.locator('[class*="st-key-fanout_"] img').nth(2).wait_for(timeout=30_000)
        screenshot(page, f"compare-models-{width}")
    page.goto(limited_app["url"] + "/Sweep")
    wait_idle(page)
    page.locator(".st-key-sweep_template textarea").fill("A {thing} on a shelf")
    page.locator(".st-key-sweep_template textarea").press("Control+Enter")
    wait_idle(page)
    page.locator(".st-key-sweep_values_thing textarea").fill("jug\nclock\nvase\nlamp")
    page.locator(".st-key-sweep_values_thing textarea").press("Control+Enter")
    wait_idle(page)
    page.locator(".st-key-sweep_as_batch label").click()
    wait_idle(page)
    assert "as a batch (within 24 hours)" in page.locator('[data-testid="stMain"]').inner_text()
    page.locator(".st-key-btn_sweep_run button").click()
    wait_idle(page)
    page.get_by_text("· completed · 4 of 4 done").wait_for(timeout=90_000)
    page.locator('[data-testid="stImage"] img').nth(3).wait_for(timeout=30_000)
    page.get_by_text("· completed · 4 of 4 done").scroll_into_view_if_needed()
    screenshot(page, "sweep-batch-1280")
