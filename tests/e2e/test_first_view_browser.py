"""A session's first view of Generate in a real browser: the prompt and button alone, then the rest of the page,
asked for by the page's own script once they are shown. The script's press of its button is held back to look at
the brief view, then let through."""

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import launch_app, wait_idle

pytestmark = pytest.mark.e2e

LINKS = '[data-testid="stSidebar"] [data-testid="stPageLink"]'
PLACES = ("() => [...document.querySelectorAll('[class*=\"st-key-card_\"] img')].map(img => {"
          " const r = img.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top)]; })")
CARD_CHECKBOXES = '[class*="st-key-card_"] [data-testid="stCheckbox"]'


# Holds the presses of the first view's button (what the page's script does once the prompt is shown) until
# ``window.__letThrough()``.
HOLD = """(() => {
  const press = HTMLElement.prototype.click;
  window.__held = [];
  window.__letThrough = () => { window.__open = true; window.__held.forEach(b => press.call(b)); };
  HTMLElement.prototype.click = function () {
    if (!window.__open && this.closest && this.closest('.st-key-first_view')) { window.__held.push(this); return; }
    return press.call(this);
  };
})();"""


def _let_through(page) -> None:
    page.evaluate("() => window.__letThrough()")


def _brief_view(browser, url: str, path: str = "/Generate", shown: tuple[str, ...] = (
        ".st-key-gen_prompt textarea", ".st-key-btn_gen_run button")):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    context.add_init_script(HOLD)
    page = context.new_page()
    page.goto(url + path)
    for selector in shown:
        page.locator(selector).first.wait_for()
    page.wait_for_function("() => window.__held.length > 0", timeout=10_000, polling=50)  # the script asked
    return context, page


def test_the_prompt_comes_first_and_the_rest_follows_by_itself(app_server, browser):
    context, page = _brief_view(browser, app_server["url"])
    try:
        # The brief view: the prompt and the button, usable; no options, sidebar or results yet.
        assert page.locator(".st-key-btn_gen_run button").is_enabled()
        assert page.locator('[data-testid="stSelectbox"]').count() == 0
        assert page.locator(LINKS).count() == 0
        area = page.locator(".st-key-gen_prompt textarea")
        area.click()
        page.keyboard.type("A kite over the dunes")
        _let_through(page)
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


# The other pages with a brief first view: (path, its first input, an element of the rest of the page).
PAGES = [("/Reference_edit", ".st-key-ref_prompt textarea", ".st-key-ref_model"),
         ("/Mask_edit", ".st-key-mask_prompt textarea", ".st-key-mask_model"),
         ("/Extend", ".st-key-ext_prompt textarea", ".st-key-ext_model"),
         ("/Sweep", ".st-key-sweep_template textarea", ".st-key-sweep_model"),
         ("/Conversation", '[data-testid="stChatInput"] textarea', ".st-key-conv_model")]


@pytest.mark.parametrize(("path", "first", "rest"), PAGES, ids=[p[0].strip("/") for p in PAGES])
def test_each_pages_first_input_comes_first_and_keeps_what_is_typed(app_server, browser, path, first, rest):
    context, page = _brief_view(browser, app_server["url"], path, (first,))
    try:
        assert page.locator(rest).count() == 0 and page.locator(LINKS).count() == 0
        area = page.locator(first)
        area.click()
        page.keyboard.type("Typed before the rest")
        page.evaluate("() => { window.__typedInto = document.activeElement; }")
        _let_through(page)
        page.locator(LINKS).first.wait_for(timeout=30_000)
        wait_idle(page)
        assert page.locator(rest).count() == 1
        # the same field, still being typed in: the rest arrived around it
        assert area.input_value() == "Typed before the rest"
        assert page.evaluate("() => document.activeElement === window.__typedInto && window.__typedInto.isConnected")
    finally:
        context.close()


def test_a_click_before_the_rest_arrives_generates(app_server, browser):
    context, page = _brief_view(browser, app_server["url"])
    try:
        area = page.locator(".st-key-gen_prompt textarea")
        area.fill("A glass teapot on a windowsill, first view")
        area.blur()
        page.wait_for_timeout(300)
        page.locator(".st-key-btn_gen_run button").click()
        # The form's own rerun sends it and shows it in the results column (then redraws the whole page).
        page.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
        _let_through(page)
        page.locator(LINKS).first.wait_for(timeout=30_000)
        wait_idle(page)
        runs = [r for r in Store(app_server["data_dir"]).runs() if r.prompt == "A glass teapot on a windowsill, "
                                                                             "first view"]
        assert [r.status for r in runs] == ["ok"]
        assert page.locator('[data-testid="stImage"] img').count() >= 1
    finally:
        context.close()


def test_gallery_pictures_come_first_and_stay_in_place_when_the_rest_arrives(browser, tmp_path):
    data = tmp_path / "gallery-data"
    store = Store(data)
    for i in range(26):
        run_id = store.start_run("generate", "gpt-image-2", f"picture number {i}", {}, requested=1)
        store.add_image(run_id, 0, render(f"picture number {i}", 96, 96, output_format="png", quality="low", index=i),
                        "png", 96, 96)
        store.finish_run(run_id, "ok")
    with launch_app(data) as server:
        context, page = _brief_view(browser, server["url"], "/Gallery", ('[class*="st-key-card_"] img',))
        try:
            pictures = page.locator('[class*="st-key-card_"] img')
            page.wait_for_function("() => [...document.querySelectorAll('[class*=\"st-key-card_\"] img')]"
                                   ".filter(i => i.complete && i.naturalWidth).length === 24", timeout=30_000)
            assert page.locator(CARD_CHECKBOXES).count() == 0
            assert page.locator('[data-testid="stTextInput"]').count() == 0 and page.locator(LINKS).count() == 0
            page.evaluate("() => document.querySelectorAll('[class*=\"st-key-card_\"] img')"
                          ".forEach(img => { img.dataset.firstView = 'yes'; })")
            where = page.evaluate(PLACES)
            _let_through(page)
            page.locator(LINKS).first.wait_for(timeout=30_000)
            wait_idle(page)
            assert page.locator(CARD_CHECKBOXES).count() == 24
            assert page.locator(".st-key-gallery_text input").count() == 1
            # the same 24 pictures, not drawn again: each is still the element the first view made
            assert pictures.count() == 24
            assert page.locator('[class*="st-key-card_"] img[data-first-view="yes"]').count() == 24
            # and where they were: the first view kept the places of what came after (at this width)
            assert page.evaluate(PLACES) == where
        finally:
            context.close()
