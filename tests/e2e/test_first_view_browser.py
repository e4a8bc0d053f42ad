"""A session's first view of Generate in a real browser: the prompt and button alone, then the rest of the page,
asked for by the page's own script once they are shown. The script is held back (its file is not served) to
look at the brief view, then let through."""

import pytest

from imagelab.store import Store

from .conftest import wait_idle

pytestmark = pytest.mark.e2e

LINKS = '[data-testid="stSidebar"] [data-testid="stPageLink"]'


def _hold_the_script(context) -> list:
    """Requests for the script of Streamlit's components (the first view's asker), kept unanswered."""
    held: list = []
    context.route("**/static/js/BidiComponent*", lambda route: held.append(route))
    return held


def _brief_view(browser, url: str):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    held = _hold_the_script(context)
    page = context.new_page()
    page.goto(url + "/Generate")
    page.locator(".st-key-gen_prompt textarea").wait_for()
    page.locator(".st-key-btn_gen_run button").wait_for()
    for _ in range(200):  # the asker's script is requested with the prompt's own
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the brief view asked for no script"
    return context, page, held


def test_the_prompt_comes_first_and_the_rest_follows_by_itself(app_server, browser):
    context, page, held = _brief_view(browser, app_server["url"])
    try:
        # The brief view: the prompt and the button, usable; no options, sidebar or results yet.
        assert page.locator(".st-key-btn_gen_run button").is_enabled()
        assert page.locator('[data-testid="stSelectbox"]').count() == 0
        assert page.locator(LINKS).count() == 0
        area = page.locator(".st-key-gen_prompt textarea")
        area.click()
        page.keyboard.type("A kite over the dunes")
        for route in held:
            route.continue_()
        # Nobody clicks anything: the page's script asks for the rest, and it comes.
        page.locator(LINKS).first.wait_for(timeout=30_000)
        wait_idle(page)
        assert page.locator(LINKS).count() >= 9
        assert page.locator(".st-key-gen_model").count() == 1
        assert page.locator(".st-key-first_view_box").count() == 0
        # What was typed meanwhile is still there, and still being typed.
        assert area.input_value() == "A kite over the dunes"
        assert page.evaluate("() => document.activeElement.tagName") == "TEXTAREA"
    finally:
        context.close()


def test_a_click_before_the_rest_arrives_generates(app_server, browser):
    context, page, held = _brief_view(browser, app_server["url"])
    try:
        area = page.locator(".st-key-gen_prompt textarea")
        area.fill("A glass teapot on a windowsill, first view")
        area.blur()
        page.wait_for_timeout(300)
        page.locator(".st-key-btn_gen_run button").click()
        # The form's own rerun sends it and shows it in the results column (then redraws the whole page).
        page.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
        for route in held:
            route.continue_()
        page.locator(LINKS).first.wait_for(timeout=30_000)
        wait_idle(page)
        runs = [r for r in Store(app_server["data_dir"]).runs() if r.prompt == "A glass teapot on a windowsill, "
                                                                             "first view"]
        assert [r.status for r in runs] == ["ok"]
        assert page.locator('[data-testid="stImage"] img').count() >= 1
    finally:
        context.close()
