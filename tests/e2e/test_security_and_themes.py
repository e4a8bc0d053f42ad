"""A sentinel API key never shows up in the browser, the logs, the data or an export; and every page
looks right in the dark theme as well as the light one (screenshots for the README)."""

import io
import zipfile

import pytest

from imagelab.offline import start_server
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import launch_app, screenshot, type_into, wait_idle, wait_until

pytestmark = pytest.mark.e2e

SENTINEL = "sk-SENTINEL-e2e-4b1d7c0a-never-show-me"


def test_sentinel_key_stays_out_of_pages_logs_data_and_exports(tmp_path, page):
    srv = start_server()
    try:
        with launch_app(tmp_path / "data", {"OPENAI_API_KEY": SENTINEL, "OPENAI_BASE_URL": srv.base_url}) as app:
            store_dir = app["data_dir"]
            html = []
            page.goto(app["url"] + "/Generate")
            wait_idle(page)
            assert "Custom" in page.locator('[data-testid="stSidebar"]').inner_text()
            type_into(page, "gen_prompt", "A brass key on a velvet cushion")
            page.locator(".st-key-btn_gen_run button").first.click()
            store = Store(store_dir)
            wait_until(lambda: store.count_images() == 1, what="the picture")
            wait_idle(page)
            html.append(page.content())
            for path in ("", "/Gallery", "/Conversation", "/Sweep", "/Reference_edit", "/Mask_edit"):
                page.goto(app["url"] + path)
                wait_idle(page)
                html.append(page.content())
            page.goto(app["url"] + "/Gallery")
            wait_idle(page)
            rec = store.recent_images()[0]
            page.locator(f".st-key-gallery_sel_{rec.id} label").click()
            wait_idle(page)
            page.locator(".st-key-btn_gallery_export button").first.click()
            link = page.locator(".st-key-lnk_gallery_export a").first
            link.wait_for(timeout=60_000)
            answer = page.request.get(app["url"] + link.get_attribute("href"))
            assert answer.ok
            archive = zipfile.ZipFile(io.BytesIO(answer.body()))
            for name in archive.namelist():
                assert SENTINEL.encode() not in archive.read(name), name
            for text in html:
                assert SENTINEL not in text
            for path in store_dir.rglob("*"):
                if path.is_file():
                    assert SENTINEL.encode() not in path.read_bytes(), path
    finally:
        srv.stop()


DARK_PAGES = [("", "home"), ("/Generate", "generate"), ("/Reference_edit", "reference_edit"),
              ("/Mask_edit", "mask_edit"), ("/Conversation", "conversation"), ("/Sweep", "sweep"),
              ("/Gallery", "gallery")]


@pytest.fixture(scope="module")
def dark_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("dark-data")
    store = Store(data)
    for i, prompt in enumerate(["A teal lighthouse on a red cliff", "Orange poppies under a blue sky",
                                "A purple city at night", "A golden retriever in green grass"]):
        run = store.start_run("generate", "gpt-image-2", prompt, {"size": "1024x1024", "quality": "low"},
                              billed=False)
        store.add_image(run, 0, render(prompt, 1024, 1024, quality="low", index=i), "png", 1024, 1024)
        store.finish_run(run, "ok", usage={"total_tokens": 196}, actual_dollars=0.0059)
    with launch_app(data) as app:
        yield app


@pytest.fixture
def dark_page(browser):
    """A browser on a computer set to dark: ImageLab follows it (no theme is fixed in its configuration)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="dark")
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("path,name", DARK_PAGES)
def test_every_page_in_the_dark_theme(dark_app, dark_page, path, name):
    page = dark_page
    page.goto(dark_app["url"] + path)
    wait_idle(page)
    assert not page.locator('[data-testid="stException"]').count()
    background = page.evaluate("getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor")
    rgb = [int(x) for x in background[background.index("(") + 1:background.index(")")].split(",")[:3]]
    assert sum(rgb) < 200, background  # really dark
    screenshot(page, f"dark_{name}")
