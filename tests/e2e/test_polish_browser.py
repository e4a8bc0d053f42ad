"""What a client sees first, in a real browser at 1280×720: compact picture actions, descriptions under the picture
asked about, alt text naming each picture, labels shown whole, Present's stage and a results column that does
not say it is empty beside a running card. Before/after screenshots go to tests/artifacts/screenshots."""

import pytest

from .conftest import launch_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

PROMPT = "A red fox [in] (the) snow, watercolour](x) soft morning light over a frozen lake with reeds"
SIZES = ((1280, 720), (1440, 900))


@pytest.fixture(scope="module")
def polish_app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("polish-data")) as server:
        yield server


@pytest.fixture(scope="module")
def slow_polish_app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("polish-slow"), {"IMAGELAB_OFFLINE_FAULT": "latency:4"}) as server:
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
        words = asked.locator("[class*='st-key-description_'] [data-testid='stMarkdownContainer']")
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
