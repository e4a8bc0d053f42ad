"""What a client sees first, in a real browser at 1280×720: compact picture actions, descriptions under the picture
asked about, alt text naming each picture, labels shown whole, Present's stage and a results column that does
not say it is empty beside a running card. Before/after screenshots go to tests/artifacts/screenshots."""

import re

import pytest

from .conftest import launch_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

PROMPT = "A red fox [in] (the) snow, watercolour](x) soft morning light over a frozen lake with reeds"
SIZES = ((1280, 720), (1440, 900))


@pytest.fixture(scope="module")
def polish_app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("polish-data")) as server:
        yield server


@pytest.fixture
def slow_polish_app(tmp_path):
    """An empty history each time, and a backend that takes its time, so a run is seen running."""
    with launch_app(tmp_path / "data", {"IMAGELAB_OFFLINE_FAULT": "latency:4"}) as server:
        yield server


def _sized(browser, width: int, height: int):
    return browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1).new_page()


def _generate(page, url: str, prompt: str = PROMPT, n: int = 2) -> None:
    """Send ``n`` pictures of ``prompt`` from Generate; returns once the run's card is drawn with its actions."""
    page.goto(url + "/Generate")
    wait_idle(page)
    count = page.locator(".st-key-gen_opt_n input")
    count.fill(str(n))
    count.press("Tab")
    page.wait_for_timeout(300)
    wait_idle(page)
    area = page.locator(".st-key-gen_prompt textarea")
    area.fill(prompt)
    area.blur()
    page.wait_for_timeout(300)
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").click()
    page.wait_for_selector("[class*='st-key-run_'] [data-testid='stImage'] img", timeout=60_000)
    page.wait_for_selector("[class*='st-key-run_'] .stDownloadButton", timeout=60_000)
    wait_idle(page)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_result_card_keeps_its_actions_in_one_short_row_under_a_taller_picture(polish_app, browser, size):
    page = _sized(browser, *size)
    try:
        _generate(page, polish_app["url"])
        card = page.locator("[class*='st-key-run_']").first
        card.scroll_into_view_if_needed()
        screenshot(page, f"polish_actions_{size[0]}")
        picture = card.locator("[data-testid='stImage'] img").first
        # the visible buttons under the picture in its own column (the picture's own full-screen button is on it)
        boxes = picture.evaluate("""(img) => [...img.closest('[data-testid="stColumn"]').querySelectorAll('button')]
            .map(b => b.getBoundingClientRect())
            .filter(r => r.width > 0 && r.y >= img.getBoundingClientRect().bottom)
            .map(r => ({y: r.y, height: r.height}))""")
        assert len(boxes) >= 4, "View, the download, Describe and Use in… are under each picture"
        tops = {round(b["y"]) for b in boxes}
        assert max(tops) - min(tops) <= 4, f"the actions wrap onto {len(tops)} rows: {sorted(tops)}"
        height = max(b["y"] + b["height"] for b in boxes) - min(b["y"] for b in boxes)
        assert picture.bounding_box()["height"] > height
        # each action names the picture and what it does to a screen reader
        for label in ("View picture 1 of 'A red fox [in] (the) snow", "PNG: download picture 2 of 'A red fox",
                      "Describe picture 2 of 'A red fox", "Use picture 1 of 'A red fox"):
            assert card.get_by_role("button", name=label).count() >= 1, label
    finally:
        page.context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_describe_shows_the_words_under_the_picture_asked_about(polish_app, browser, size):
    page = _sized(browser, *size)
    try:
        _generate(page, polish_app["url"], prompt="A lighthouse of teal glass on a cliff, " + str(size[0]))
        card = page.locator("[class*='st-key-run_']").first
        columns = card.locator("[data-testid='stColumn']")
        asked = columns.nth(1)
        asked.get_by_role("button", name="Describe picture 2 of 'A lighthouse of teal glass").click()
        words = asked.locator("[class*='st-key-description_'] [data-testid='stText']")  # their words, as text
        words.wait_for(timeout=60_000)
        wait_idle(page)
        asked.scroll_into_view_if_needed()
        screenshot(page, f"polish_describe_{size[0]}")
        assert "1024x1024" in words.inner_text()  # the offline backend's description names the picture's size
        # only there: the other picture of the run has no description under it
        assert columns.nth(0).locator("[class*='st-key-description_']").count() == 0
        assert page.locator("[class*='st-key-description_']").count() == 1
    finally:
        page.context.close()


def test_every_result_and_thumbnail_is_named_by_its_prompt(polish_app, browser):
    from components.results import picture_alt

    page = _sized(browser, 1280, 720)
    try:
        _generate(page, polish_app["url"], n=2)
        card = page.locator("[class*='st-key-run_']").first
        alts = card.locator("img").evaluate_all("(imgs) => imgs.map(i => i.alt)")
        screenshot(page, "polish_alt_generate_1280")
        assert len(alts) == 2 and alts == [picture_alt(PROMPT)] * 2, alts
        page.goto(polish_app["url"] + "/Gallery")
        wait_idle(page)
        cards = page.locator("[class*='st-key-card_']")
        cards.first.wait_for()
        screenshot(page, "polish_alt_gallery_1280")
        thumbnails = cards.locator("img").evaluate_all("(imgs) => imgs.map(i => i.alt)")
        assert thumbnails and all(alt and alt != "Picture" for alt in thumbnails), thumbnails
        # the prompt's brackets stay inside the alt text: the whole prompt start, nothing shown as a link
        assert thumbnails.count(picture_alt(PROMPT)) >= 2, thumbnails
        assert cards.locator("a[href='x']").count() == 0
    finally:
        page.context.close()


# Whatever is cut short inside a widget: an input's text, an element ending in an ellipsis or one that scrolls
# sideways (a multiselect's chosen values), wider than its box.
_CUT_SHORT = """(root) => [root, ...root.querySelectorAll('*')].filter(el => {
    const style = getComputedStyle(el);
    const clips = el.tagName === 'INPUT' || style.textOverflow === 'ellipsis'
      || ['auto', 'scroll', 'hidden'].includes(style.overflowX);
    return clips && el.getBoundingClientRect().width > 0 && el.scrollWidth > el.clientWidth + 1;
  }).map(el => (el.value || el.innerText || '').trim())"""


def _choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key} input").click()
    page.get_by_role("option", name=option, exact=False).first.click()
    page.wait_for_timeout(300)
    wait_idle(page)


def _cut_short(page, key: str) -> list[str]:
    return page.locator(f".st-key-{key}").first.evaluate(_CUT_SHORT)


def test_labels_are_shown_whole_at_1280(polish_app, browser):
    page = _sized(browser, 1280, 720)
    try:
        page.goto(polish_app["url"] + "/Generate")
        wait_idle(page)
        _choose(page, "gen_opt_size", "1536×1024")
        _choose(page, "gen_opt_background", "transparent")
        page.locator(".st-key-gen_model").scroll_into_view_if_needed()
        screenshot(page, "polish_labels_generate_1280")
        cut = {key: _cut_short(page, key) for key in ("gen_model", "gen_opt_size", "gen_opt_background")}
        page.get_by_text("Prompt tools", exact=False).first.click()
        wait_idle(page)
        page.get_by_role("tab", name="Library").click()
        page.locator(".st-key-library_entry_0").scroll_into_view_if_needed()
        screenshot(page, "polish_labels_library_1280")
        cut["library Insert"] = _cut_short(page, "library_entry_0")
        page.goto(polish_app["url"] + "/Sweep")
        wait_idle(page)
        area = page.locator(".st-key-sweep_axis_quality input")
        for quality in ("auto", "low", "medium", "high"):
            area.click()
            page.get_by_role("option", name=quality, exact=True).click()
            page.wait_for_timeout(300)
            wait_idle(page)
        chips = page.locator(".st-key-sweep_axis_quality [data-tag]")
        assert chips.count() == 4
        page.keyboard.press("Escape")
        # each chosen value is in sight: what the page shows at its middle is the chip itself
        seen = chips.evaluate_all("""(chips) => chips.map(c => { const r = c.getBoundingClientRect();
            return c.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); })""")
        assert all(seen), seen
        page.keyboard.press("Escape")
        page.locator(".st-key-sweep_axis_quality").scroll_into_view_if_needed()
        screenshot(page, "polish_labels_sweep_1280")
        cut["sweep Quality"] = _cut_short(page, "sweep_axis_quality")
        page.goto(polish_app["url"] + "/Reference_edit")
        wait_idle(page)
        paste = page.frame_locator(".st-key-upl_ref_paste iframe, iframe[title*='paste']").first.locator("button")
        paste.wait_for(timeout=30_000)
        screenshot(page, "polish_labels_paste_1280")
        # in words alone: the clipboard emoji showed as a broken glyph where the font has no emoji
        assert paste.inner_text().strip() == "Paste an image"
        assert not any(cut.values()), cut
    finally:
        page.context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_empty_results_sentence_goes_once_a_run_is_shown(slow_polish_app, browser, size):
    page = _sized(browser, *size)
    try:
        page.goto(slow_polish_app["url"] + "/Generate")
        wait_idle(page)
        empty = page.get_by_text("Your pictures appear here", exact=False)
        assert empty.is_visible()
        area = page.locator(".st-key-gen_prompt textarea")
        area.fill(f"A paper crane on a windowsill, {size[0]}")
        area.blur()
        page.wait_for_timeout(300)
        wait_idle(page)
        page.locator(".st-key-btn_gen_run button").click()
        page.get_by_text("Generating 1 image(s)", exact=False).first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)
        screenshot(page, f"polish_running_{size[0]}")
        assert not empty.is_visible(), "the results column still says it is empty under a running card"
    finally:
        page.context.close()


def _luminance(css_colour: str) -> float:
    red, green, blue = (float(x) for x in re.findall(r"[\d.]+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_present_shows_a_dark_stage_with_one_set_of_instructions(polish_app, browser, size):
    from imagelab.store import Store

    page = _sized(browser, *size)
    try:
        _generate(page, polish_app["url"], prompt=f"A brass telescope on a rooftop at night, {size[0]}", n=2)
        store = Store(polish_app["data_dir"])
        for rec in store.recent_images(2):
            store.set_starred(rec.id, True)
        page.goto(polish_app["url"] + "/Present")
        wait_idle(page)
        frame = page.frame_locator(".st-key-present_stage iframe")
        frame.locator("#count").wait_for()
        screenshot(page, f"polish_present_{size[0]}")
        # the bar over the stage is as dark as the stage, its words light
        bar = page.locator(".st-key-present_bar")
        background = page.evaluate("() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]'))"
                                   ".backgroundColor")
        assert _luminance(background) < 0.15, background
        assert _luminance(bar.get_by_text("picture(s) from", exact=False).evaluate(
            "e => getComputedStyle(e).color")) > 0.6
        # said once: on the bar, not again on the stage
        told = (page.locator("body").inner_text() + frame.locator("body").inner_text()).lower()
        assert told.count("full screen") == 1, told
        # the caption is the prompt alone; the model and size only with Details on
        assert frame.locator("#caption").inner_text().startswith("A brass telescope")
        assert frame.locator("#meta").inner_text().strip() == ""
        # a click on the slide does what the bar says: lets the keys work, and nothing else
        frame.locator("#slide").click()
        assert frame.locator("#count").inner_text().startswith("1 / ")
        page.keyboard.press("ArrowRight")
        assert frame.locator("#count").inner_text().startswith("2 / ")
        page.locator(".st-key-present_details label").click()
        wait_idle(page)
        assert page.locator(".st-key-present_details input").is_checked()
        frame.locator("#meta", has_text="gpt-image-2").wait_for(timeout=10_000)
    finally:
        page.context.close()


def test_the_page_stays_put_when_a_run_ends(polish_app, browser):
    page = _sized(browser, 1280, 720)
    try:
        _generate(page, polish_app["url"], prompt="Four kites over a green hill on a windy day", n=4)
        page.wait_for_timeout(1500)  # the card's scroll, if any, runs once the card is drawn
        screenshot(page, "polish_run_ended_1280")
        # the page's title and the card's own first line (model, cost) are still in the window
        assert page.locator("h1").first.bounding_box()["y"] >= 0
        head = page.locator("[class*='st-key-run_']").first.get_by_text("estimated", exact=False).first
        assert head.bounding_box()["y"] >= 0
    finally:
        page.context.close()


def test_a_library_insert_brings_the_prompt_into_view(polish_app, browser):
    page = _sized(browser, 1280, 720)
    try:
        page.goto(polish_app["url"] + "/Generate")
        wait_idle(page)
        page.get_by_text("Prompt tools", exact=False).first.click()
        wait_idle(page)
        page.get_by_role("tab", name="Library").click()
        entry = page.locator(".st-key-library_entry_2")
        entry.scroll_into_view_if_needed()
        prompt = page.locator(".st-key-gen_prompt textarea")
        assert prompt.bounding_box()["y"] + prompt.bounding_box()["height"] < 0, "the prompt was never out of view"
        entry.get_by_role("button", name="Insert").click()
        wait_idle(page)
        page.wait_for_function("() => { const b = document.querySelector('.st-key-gen_prompt textarea')"
                               ".getBoundingClientRect(); return b.top >= 0 && b.bottom <= window.innerHeight; }",
                               timeout=10_000)
        assert page.evaluate("document.activeElement === document.querySelector('.st-key-gen_prompt textarea')")
        assert prompt.input_value().strip()  # the library's text is in it
        screenshot(page, "polish_library_insert_1280")
        app_top = page.evaluate("document.querySelector('[data-testid=stMain]').getBoundingClientRect().top")
        assert app_top >= 0, "the whole app frame was scrolled, not the page"
    finally:
        page.context.close()
