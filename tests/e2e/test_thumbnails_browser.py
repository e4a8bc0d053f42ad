"""Gallery thumbnails in a real browser: small pictures, kept by the browser between views."""

import pytest

from imagelab.offline.render import render
from imagelab.store import Store
from imagelab.thumbnails import THUMBNAIL_SIDE

from .conftest import launch_app, wait_idle

pytestmark = pytest.mark.e2e


def test_a_second_gallery_view_downloads_no_thumbnail_again(tmp_path, browser):
    store = Store(tmp_path / "data")
    for i in range(3):
        prompt = f"A paper boat on a puddle, number {i}"
        run = store.start_run("generate", "gpt-image-2", prompt, {}, requested=1)
        store.add_image(run, 0, render(prompt, 1024, 1024, quality="low", index=0), "png", 1024, 1024)
        store.finish_run(run, "ok")
    with launch_app(tmp_path / "data") as server:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        urls: dict[str, str] = {}
        received: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", lambda ev: urls.__setitem__(ev["requestId"], ev["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda ev: received.__setitem__(
            urls.get(ev["requestId"], ""), received.get(urls.get(ev["requestId"], ""), 0) + ev["encodedDataLength"]))

        def view() -> dict[str, int]:
            received.clear()
            page.goto(server["url"] + "/Gallery")
            wait_idle(page)
            page.wait_for_function("() => [...document.querySelectorAll('[class*=\"st-key-card_\"] img')]"
                                   ".filter(i => i.complete && i.naturalWidth).length >= 3", timeout=60_000)
            page.wait_for_timeout(500)
            return {url: size for url, size in received.items() if "/app/static/thumbs/" in url}

        first = view()
        assert len(first) == 3, first  # every grid picture is a thumbnail file
        widths = page.evaluate("() => [...document.querySelectorAll('[class*=\"st-key-card_\"] img')]"
                               ".map(i => i.naturalWidth)")
        assert max(widths) <= THUMBNAIL_SIDE
        assert all(size > 2_000 for size in first.values()), first
        again = view()
        # the browser revalidates at most (a 304 of a few hundred bytes); the pictures do not come again
        assert sum(again.values()) < 3 * 1_000, again
        context.close()
