"""The work stays in view, measured in a real browser at 1440×900 and 1280×720.

On Generate, Reference edit and Mask edit the prompt, the primary button, the sidebar's estimate
figure and the newest result are inside the window before and after a run, and a result that
arrives while the page is scrolled away is brought into view. A Gallery card opened from the third
row shows its detail inside the window. No button in the page is left without a name.
One app serves every size and page, so the slow part (starting it) happens once.
"""

from __future__ import annotations

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import launch_app, screenshot, type_into, wait_idle, wait_until

pytestmark = pytest.mark.e2e

SIZES = [(1440, 900), (1280, 720)]
ESTIMATE = '.st-key-sidebar_estimate h2'
GALLERY_IMAGES = 13  # four cards a row: the thirteenth is on the fourth row


def _seed(data_dir):
    store = Store(data_dir)
    for i in range(GALLERY_IMAGES):
        prompt = f"Picture number {i}: a {['teal', 'orange', 'violet', 'green'][i % 4]} lighthouse"
        run = store.start_run("generate", "gpt-image-2", prompt, {"prompt": prompt, "size": "1024x1024"})
        store.add_image(run, 0, render(prompt, 1024, 1024, quality="low"), "png", 1024, 1024)
        store.finish_run(run, "ok")
    for page in ("reference_edit", "mask_edit"):  # so each page has a newest result before its first run here
        prompt = f"An earlier {page.replace('_', ' ')}"
        run = store.start_run(page, "gpt-image-2", prompt, {"prompt": prompt, "size": "1024x1024"})
        store.add_image(run, 0, render(prompt, 1024, 1024, quality="low"), "png", 1024, 1024)
        store.finish_run(run, "ok")
    return store


@pytest.fixture(scope="module")
def layout_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("layout-data")
    store = _seed(data)
    with launch_app(data) as app:
        yield app | {"store": store}


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def sized_page(request, browser):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    page = context.new_page()
    yield page
    context.close()


def outside_window(page, selector: str) -> str | None:
    """Why the first element matching ``selector`` is not wholly inside the window, or None if it is."""
    element = page.locator(selector).first
    element.wait_for(state="visible", timeout=60_000)
    box = element.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    if box["x"] < 0 or box["y"] < 0 or box["x"] + box["width"] > size["width"] + 0.5 \
            or box["y"] + box["height"] > size["height"] + 0.5:
        return f"{selector} at {box} is outside the {size['width']}×{size['height']} window"
    return None


def assert_in_window(page, *selectors: str) -> None:
    problems = [p for p in (outside_window(page, s) for s in selectors) if p]
    assert not problems, problems


def unnamed_buttons(page) -> list[str]:
    """Visible buttons of the app (not of Streamlit's chrome or the canvas component) with no name a
    screen reader could read: no words besides their icon, no aria-label."""
    return page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stMain"] button, [data-testid="stSidebarUserContent"] button')]
      .filter(b => b.offsetParent !== null && !b.closest('.stBidiComponent'))
      .filter(b => {
        const c = b.cloneNode(true);
        c.querySelectorAll('[aria-hidden="true"]').forEach(n => n.remove());
        return !(c.textContent.trim() || b.getAttribute('aria-label'));
      })
      .map(b => b.outerHTML.slice(0, 160))""")


def _pick_from_history(page, prefix: str) -> None:
    page.get_by_role("tab", name="From history").first.click()
    page.locator(f'[class*="st-key-btn_{prefix}_pick_"] button').first.click()
    page.locator(f'[class*="st-key-btn_{prefix}_remove_"]').first.wait_for(state="attached", timeout=60_000)
    wait_idle(page)


def _paint(page) -> None:
    canvas = page.locator(".stBidiComponent canvas.upper-canvas")
    canvas.wait_for(state="visible", timeout=60_000)
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for i in range(1, 16):
        page.mouse.move(box["x"] + box["width"] * (0.1 + 0.02 * i), box["y"] + box["height"] * 0.15, steps=2)
    page.mouse.up()
    page.wait_for_selector("text=Mask preview", timeout=60_000)
    wait_idle(page)


PAGES = [  # path, page key, prompt key, button key, what to do before the prompt
    ("Generate", "generate", "gen_prompt", "btn_gen_run", None),
    ("Reference_edit", "reference_edit", "ref_prompt", "btn_ref_run", lambda page: _pick_from_history(page, "ref")),
    ("Mask_edit", "mask_edit", "mask_prompt", "btn_mask_run",
     lambda page: (_pick_from_history(page, "mask"), _paint(page))),
]


def picture_in_view(page, key: str, selector: str) -> None:
    """A result's picture wholly in the window; Mask edit's, drawn large beside the canvas (at least 300 px
    wide), may run below a short window's edge as long as it starts in view and most of it shows."""
    if key != "mask_edit" or page.viewport_size["height"] >= 800:
        assert_in_window(page, selector)
        return
    page.locator(selector).first.wait_for(state="visible", timeout=60_000)
    box = page.locator(selector).first.bounding_box()
    shown = page.viewport_size["height"] - box["y"]
    assert box["y"] >= 0 and shown >= 0.6 * box["height"], (box, page.viewport_size)


def test_prompt_button_estimate_and_newest_result_in_view(layout_app, sized_page):
    page, store = sized_page, layout_app["store"]
    width = page.viewport_size["width"]
    for path, key, prompt_key, button_key, prepare in PAGES:
        page.goto(f"{layout_app['url']}/{path}")
        wait_idle(page)
        if prepare:
            prepare(page)
        type_into(page, prompt_key, f"A small red kite over the sea, for the {width} px layout check")
        before = store.runs(1, page=key)[0].id
        work = [f".st-key-{prompt_key} textarea", f".st-key-{button_key} button", ESTIMATE]
        assert_in_window(page, *work)
        picture_in_view(page, key, f".st-key-run_{before} [data-testid='stImage'] img")
        assert not unnamed_buttons(page), unnamed_buttons(page)
        screenshot(page, f"layout_{key}_{width}_before")

        # Scrolled to the bottom of the form, the run is started without the browser scrolling to the
        # button: the new result must be brought into view by the page itself.
        page.mouse.move(width // 2, 400)
        page.mouse.wheel(0, 5000)
        page.wait_for_timeout(300)
        assert outside_window(page, f".st-key-{button_key} button"), "the page did not scroll; the check needs it"
        page.locator(f".st-key-{button_key} button").dispatch_event("click")
        newest = wait_until(lambda key=key, before=before: (r := store.runs(1, page=key)[0]).id != before
                            and not r.active and r, what=f"the {path} run to finish")
        assert newest.status == "ok", newest.error
        page.locator(f".st-key-run_{newest.id} [data-testid='stImage'] img").first.wait_for(timeout=60_000)
        # the live card hands over to the saved run's card: wait until only that one is left
        page.wait_for_function(f"document.querySelectorAll('.st-key-run_{newest.id}').length === 1",
                               timeout=30_000)
        wait_idle(page)
        page.wait_for_timeout(500)
        screenshot(page, f"layout_{key}_{width}_after")  # first, so a failure can be looked at
        # the new run's card starts in view and its picture is wholly in view (a keep-exact card's drift
        # line and actions may run below a 720-pixel window's edge)
        assert_in_window(page, *work)
        picture_in_view(page, key, f".st-key-run_{newest.id} [data-testid='stImage'] img")
        card = page.locator(f".st-key-run_{newest.id}").first.bounding_box()
        assert card is not None and 0 <= card["y"] < page.viewport_size["height"] / 2, card
        if key == "generate":
            _large_view(page, store, newest.id, width)


def _large_view(page, store, run_id: int, width: int) -> None:
    """The result's View opens the picture as saved (every pixel), on a checkerboard, in the window."""
    page.locator(f".st-key-run_{run_id}").get_by_role("button", name="View").click()
    picture = page.locator('[role="dialog"] .st-key-lightbox img')
    picture.wait_for(timeout=60_000)
    wait_idle(page)
    saved = store.images_of_run(run_id)[0]
    assert picture.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [saved.width, saved.height]
    assert "conic-gradient" in picture.evaluate("i => getComputedStyle(i).backgroundImage")
    assert_in_window(page, '[role="dialog"] .st-key-lightbox img', '[role="dialog"] .stDownloadButton button')
    assert not unnamed_buttons(page), unnamed_buttons(page)
    screenshot(page, f"layout_large_view_{width}")
    page.keyboard.press("Escape")
    picture.wait_for(state="detached", timeout=30_000)


def test_gallery_detail_from_the_third_row_opens_in_view(layout_app, sized_page):
    page, store = sized_page, layout_app["store"]
    width = page.viewport_size["width"]
    store.set_starred(2, True)
    page.goto(f"{layout_app['url']}/Gallery")
    wait_idle(page)
    page.locator(".st-key-card_1").wait_for(timeout=60_000)  # the oldest card: the whole grid is drawn
    border = "e => getComputedStyle(e).borderColor"
    assert page.locator(".st-key-card_starred_2").evaluate(border) != page.locator(".st-key-card_1").evaluate(border)
    assert not unnamed_buttons(page), unnamed_buttons(page)
    # the cards' Open buttons by where they are drawn: rows top to bottom, then left to right
    opens = page.evaluate("""() => [...document.querySelectorAll('[class*="st-key-btn_gallery_detail_"]')]
      .map(e => ({id: +e.className.match(/st-key-btn_gallery_detail_(\\d+)/)[1],
                  top: Math.round(e.closest('[class*="st-key-card_"]').getBoundingClientRect().top + window.scrollY)}))
      .sort((a, b) => a.top - b.top)""")
    rows = sorted({o["top"] for o in opens})
    assert len(rows) >= 3, rows
    image_id = next(o["id"] for o in opens if o["top"] == rows[2])
    third_row = page.locator(f".st-key-btn_gallery_detail_{image_id} button:visible")
    third_row.click()
    dialog = page.locator('[role="dialog"]')
    dialog.wait_for(timeout=60_000)
    wait_idle(page)
    assert store.image(image_id).prompt in dialog.inner_text()
    assert_in_window(page, '[role="dialog"] [data-testid="stImage"] img',
                     '[role="dialog"] .st-key-btn_gallery_close button', '[role="dialog"] .stDownloadButton button')
    assert not unnamed_buttons(page), unnamed_buttons(page)
    screenshot(page, f"layout_gallery_detail_{width}")
