"""Generate an image in a real browser and keep the screenshot the README shows."""

import io

import pytest
from PIL import Image

from imagelab.store import Store

from .conftest import screenshot, wait_idle

pytestmark = pytest.mark.e2e


def test_generate_in_the_browser(app_server, page):
    page.goto(app_server["url"] + "/Generate")
    wait_idle(page)
    assert "Offline backend" in page.locator('[data-testid="stSidebar"]').inner_text()
    prompt = page.locator(".st-key-gen_prompt textarea")
    prompt.fill("A teal lighthouse on a red cliff at golden hour, waves below")
    prompt.blur()  # commits the text; Ctrl+Enter would press the primary button
    page.wait_for_timeout(300)
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").click()
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
    # the picture shows first in the form's own card, then the page is redrawn with it among the results: on a
    # busy machine the first wait can end before that redraw, which takes the card away for a moment
    wait_idle(page)
    page.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
    results = page.locator('[data-testid="stImage"] img')
    assert results.count() >= 1
    # the picture really arrived in the browser (decoded, not a broken image)
    assert page.evaluate("(img) => img.naturalWidth", results.first.element_handle()) > 100
    assert "PNG" in page.locator(".stDownloadButton").first.inner_text()
    # the sidebar's last-run panel shows the usage the API reported once the run has ended: offline, $0
    # spent and what it would cost on OpenAI
    page.locator('[data-testid="stSidebar"]').get_by_text("would cost on OpenAI", exact=False).first.wait_for(
        timeout=30_000)
    # The sidebar's estimate and the form: the results beside them hold seconds and the money of a history
    # other tests share, so their lines (and what follows them) vary from run to run.
    screenshot(page, "generate", baseline=True, clip={"x": 0, "y": 0, "width": 830, "height": 640})
    store = Store(app_server["data_dir"])
    images = store.recent_images()
    assert images and images[0].prompt.startswith("A teal lighthouse")
    with Image.open(io.BytesIO(store.read_bytes(images[0].hash))) as img:
        assert img.width >= 1024
