"""The keyboard in a real browser: Tab goes from field to field without stopping at every help icon, a clicked
help icon's tip does not stay over the form, and Ctrl+Enter runs Extend as it runs Generate."""

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import launch_app, open_from_gallery, screenshot, wait_idle, wait_until

pytestmark = pytest.mark.e2e

TIP = '[data-testid="stTooltipContent"]'


@pytest.fixture(scope="module")
def keys_app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("keys-data")) as server:
        yield server


def _focused(page) -> str:
    return page.evaluate("() => { const e = document.activeElement;"
                         " return e.getAttribute('aria-label') || e.innerText || e.tagName; }")


@pytest.mark.parametrize("size", [(1440, 900), (1280, 720)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_tab_goes_from_the_prompt_through_generates_fields_without_stopping_at_help_icons(keys_app, browser, size):
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=1).new_page()
    try:
        page.goto(keys_app["url"] + "/Generate")
        wait_idle(page)
        page.locator(".st-key-gen_prompt textarea").focus()
        stops = []
        for _ in range(13):
            page.keyboard.press("Tab")
            stops.append(_focused(page))
        page.wait_for_timeout(400)
        assert not [s for s in stops if s.startswith("Help")], stops
        # the fields themselves, in reading order, right after the button and the prompt tools
        assert stops[2:6] == ["Model", "Show shut-down and retired models", "Size", "Quality"], stops
        assert not page.locator(TIP).is_visible()  # no tip is open over the form while tabbing through it
        screenshot(page, f"keyboard_tab_to_quality_{size[0]}")
    finally:
        page.context.close()


def test_a_clicked_help_icon_shows_its_tip_only_while_the_pointer_is_on_it(keys_app, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(keys_app["url"] + "/Generate")
    wait_idle(page)
    icon = page.get_by_role("button", name="Help for Model")
    icon.click()
    page.locator(TIP).first.wait_for(state="visible")  # the tip shows where the person points
    page.mouse.move(1100, 600)  # away, over the empty results column
    page.wait_for_timeout(600)
    assert not page.locator(TIP).is_visible()  # nothing left over the prompt, the Generate button or the fields
    assert _focused(page) != "Help for Model"


def test_ctrl_enter_in_the_prompt_runs_extend(keys_app, page):
    store = Store(keys_app["data_dir"])
    run = store.start_run("generate", "gpt-image-2", "A red lighthouse", {"size": "1024x1024"}, billed=False)
    src = store.add_image(run, 0, render("A red lighthouse", 1024, 1024, quality="low"), "png", 1024, 1024)
    store.finish_run(run, "ok")
    open_from_gallery(page, keys_app["url"], src.id, "ext")
    page.wait_for_selector("text=The new canvas", timeout=30_000)
    area = page.locator(".st-key-ext_prompt textarea")
    area.fill("A red lighthouse on a long green cliff")
    area.press("Control+Enter")
    runs = wait_until(lambda: [r for r in store.runs() if r.page == "extend"], timeout=60,
                      what="the extend run Ctrl+Enter started")
    assert [r.prompt for r in runs] == ["A red lighthouse on a long green cliff"]
    assert "Ctrl + Enter" in page.locator(".st-key-btn_ext_run button").inner_text()  # the button says so
