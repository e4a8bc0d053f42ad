"""The Gallery's dense grid, paging, delete with Undo and grouped keep-exact pictures, and Home's light and dark
themes, in a real browser at the two window sizes designers use."""

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import GALLERY_FILTERS, cut_words, launch_app, screenshot, wait_idle, wait_until

pytestmark = pytest.mark.e2e

SIZES = [(1440, 900), (1280, 720)]


@pytest.fixture(scope="module")
def gallery_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("gallery-data")
    store = Store(data)
    for i in range(30):
        prompt = f"Offline picture number {i}"
        run = store.start_run("generate", "gpt-image-2", prompt, {"prompt": prompt, "n": 1}, billed=False)
        store.add_image(run, 0, render(prompt, 512, 512, index=i), "png", 512, 512)
        store.finish_run(run, "ok")
    with launch_app(data) as app:
        yield app | {"store": store}


def in_view(box, width, height) -> bool:
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] + box["width"] <= width


@pytest.mark.parametrize("width,height", SIZES)
def test_dense_grid_shows_ten_pictures_above_the_fold_and_paging_is_one_short_row(gallery_app, browser, width,
                                                                                 height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(gallery_app["url"] + "/Gallery")
    wait_idle(page)
    paging = page.locator(".st-key-gallery_paging_top")
    assert "Page 1 of 2" in paging.inner_text()
    assert paging.bounding_box()["height"] < 60  # one row of buttons, not a labelled number field
    assert cut_words(page, GALLERY_FILTERS) == []  # every filter's label and placeholder whole ("Choose optio…")
    screenshot(page, f"gallery_comfortable_{width}")
    paging.get_by_text("Dense").click()
    wait_idle(page)  # on a busy machine the click's rerun may start after this returns: wait for the grid itself
    dense = ".st-key-gallery_grid_dense [data-testid='stMarkdownContainer'] img"
    page.wait_for_function(f"""() => {{ const all = [...document.querySelectorAll("{dense}")];
        return all.length === 30 && all.every(img => img.complete && img.naturalWidth > 0); }}""", timeout=60_000)
    pictures = page.locator(dense)
    whole = sum(in_view(pictures.nth(i).bounding_box(), width, height) for i in range(pictures.count()))
    if width == 1440:
        assert whole >= 10, whole
    assert whole >= 8, whole
    screenshot(page, f"gallery_dense_{width}")
    paging.get_by_text("Comfortable").click()
    wait_idle(page)
    context.close()


@pytest.mark.parametrize("width,height", SIZES)
def test_delete_asks_where_clicked_and_undo_stays_in_view(gallery_app, browser, width, height):
    store = gallery_app["store"]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(gallery_app["url"] + "/Gallery")
    wait_idle(page)
    page.get_by_role("button", name="Open").nth(6).click()  # a card in the second row
    wait_idle(page)
    dialog = page.locator('[data-testid="stDialog"]')
    dialog.locator(".st-key-btn_gallery_detail_next button").first.click()
    wait_idle(page)
    dialog.locator('[data-testid="stPopover"] button', has_text="Delete").first.click()  # not "Add to board"
    confirm = page.locator(".st-key-btn_gallery_delete_yes button").first
    confirm.wait_for()
    page.wait_for_timeout(300)
    assert in_view(confirm.bounding_box(), width, height)
    screenshot(page, f"gallery_delete_{width}")
    before = store.count_images()
    confirm.click()
    wait_idle(page)  # on a busy machine the click's rerun may start after this returns: the history is watched
    wait_until(lambda: store.count_images() == before - 1, 30, "the picture to be deleted")
    undo = page.locator(".st-key-btn_gallery_undo button").first
    undo.wait_for()
    page.wait_for_timeout(300)
    assert in_view(undo.bounding_box(), width, height)
    screenshot(page, f"gallery_undo_{width}")
    undo.click()
    wait_idle(page)
    wait_until(lambda: store.count_images() == before, 30, "the picture to be put back")
    wait_idle(page)
    assert page.locator(".st-key-gallery_undo").count() == 0
    context.close()


def background(page) -> tuple[int, ...]:
    css = page.evaluate("getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
    return tuple(int(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])


@pytest.mark.parametrize("width,height", SIZES)
def test_home_follows_the_system_theme_and_the_app_menu_switches_it(gallery_app, browser, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, color_scheme="dark")
    page = context.new_page()
    page.goto(gallery_app["url"])
    wait_idle(page)
    assert sum(background(page)) < 200  # the system's dark setting, followed
    assert page.get_by_text("Start here").is_visible()
    screenshot(page, f"home_system_dark_{width}")
    page.locator('[data-testid="stMainMenu"]').click()
    page.locator('[data-testid="stMainMenuItem-theme-Light"]').click()
    page.wait_for_timeout(500)
    assert sum(background(page)) > 600  # switched in the app, whatever the system says
    screenshot(page, f"home_switched_light_{width}")
    context.close()
