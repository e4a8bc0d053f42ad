"""Every page opens in a real browser with the shared sidebar; screenshots for the README."""

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def seed(data_dir, count=6):
    store = Store(data_dir)
    if store.count_images() >= count:
        return
    prompts = ["A teal lighthouse on a red cliff", "Orange poppies under a blue sky", "A purple city at night",
               "A golden retriever in green grass", "Pink clouds over a black desert", "A white cat on a blue sofa"]
    for prompt in prompts[:count]:
        # made offline, as the README's screenshots are: nothing was paid, so no dollar figure reads as spent
        run = store.start_run("generate", "gpt-image-2", prompt, {"size": "1024x1024", "quality": "low"},
                              billed=False)
        store.add_image(run, 0, render(prompt, 1024, 1024, quality="low"), "png", 1024, 1024)
        store.finish_run(run, "ok", usage={"output_tokens": 196}, actual_dollars=0.0059)


@pytest.mark.parametrize("path,title,name", [("", "ImageLab", "home"), ("/Gallery", "Gallery", "gallery"),
                                             ("/Compare", "Compare", "compare_empty")])
def test_page_opens_with_the_sidebar(app_server, page, path, title, name):
    seed(app_server["data_dir"])
    page.goto(app_server["url"] + path)
    wait_idle(page)
    assert page.locator("h1").first.inner_text().strip() == title
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    assert "This session" in sidebar
    # where requests go is said once: at length on Home, in one line of the sidebar elsewhere
    said = page.locator("body").inner_text().lower().count("offline backend")
    assert said == 1, f"'offline backend' appears {said} times"
    assert not page.locator('[data-testid="stException"]').count()
    if name == "gallery":
        page.wait_for_selector('[class*="st-key-card_"] img')
        assert page.locator('[class*="st-key-card_"] img').count() >= 6
    screenshot(page, name, baseline=name in ("home", "compare_empty"))
