"""GIF and SVG results in a real browser: a GIF plays, an SVG carrying a script is shown without running it."""

import io
import sqlite3
import time

import numpy as np
import pytest
from PIL import Image, ImageSequence

from imagelab.offline.render import render_svg
from imagelab.store import Store

from .conftest import launch_app, screenshot, type_into, wait_idle, wait_until

pytestmark = pytest.mark.e2e

PREVIEW_MODEL = "gpt-image-2.6-flare"  # GIF and SVG are made by the 2.6 models


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """An app whose offline backend puts a script, a handler and an external link into every SVG it sends."""
    with launch_app(tmp_path_factory.mktemp("gif-svg"), {"IMAGELAB_OFFLINE_FAULT": "svg-script"}) as server:
        yield server


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in a selectbox; a rerun can close the list as it opens, so try again if it did."""
    for attempt in range(3):
        wait_idle(page)
        page.locator(f".st-key-{key}").click()
        try:
            page.get_by_role("option", name=option).first.click(timeout=15_000)
            break
        except Exception:  # noqa: BLE001 - playwright's timeout; the last attempt raises
            page.keyboard.press("Escape")
            if attempt == 2:
                raise
    wait_idle(page)


def generate(page, app, fmt_label: str, prompt: str) -> None:
    page.goto(app["url"] + "/Generate")
    wait_idle(page)
    type_into(page, "gen_prompt", prompt)
    choose(page, "gen_model", PREVIEW_MODEL)
    choose(page, "gen_opt_format", fmt_label)


def served(page, app, img) -> bytes:
    """The bytes the browser was given for this <img>."""
    src = img.get_attribute("src")
    answer = page.request.get(src if src.startswith("http") else app["url"] + src)
    assert answer.ok
    return answer.body()


def frames(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as img:
        return [np.asarray(f.convert("RGB"), np.int16) for f in ImageSequence.Iterator(img)]


def test_a_gif_result_plays(hostile_app, page):
    store = Store(hostile_app["data_dir"])
    generate(page, hostile_app, "GIF (preview access)", "a yellow ball bouncing on a blue floor")
    frames_box = page.locator(".st-key-gen_opt_frames input")
    frames_box.fill("4")
    frames_box.press("Enter")
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").click()
    saved = wait_until(lambda: [i for i in store.recent_images() if i.format == "gif"], 90, "the GIF to be saved")
    assert (saved[0].width, saved[0].height) == (512, 512)  # the GIF frame size the form starts with
    img = page.locator(f'.st-key-run_{saved[0].run_id} [data-testid="stImage"] img').first
    img.wait_for(timeout=60_000)
    wait_idle(page)
    data = served(page, hostile_app, img)
    # the element shows the GIF itself (not a still made from it), and its frames differ
    assert data.startswith(b"GIF8")
    shown = frames(data)
    assert len(shown) == 4
    assert len({f.tobytes() for f in shown}) == 4
    assert page.evaluate("(el) => el.naturalWidth", img.element_handle()) > 100
    # and it plays: the same element, photographed a moment apart, shows different pixels
    img.scroll_into_view_if_needed()
    shots = []
    for _ in range(4):
        with Image.open(io.BytesIO(img.screenshot())) as shot:
            shots.append(np.asarray(shot.convert("RGB"), np.int16))
        time.sleep(0.25)
    assert any(np.abs(a - b).max() > 40 for a, b in zip(shots, shots[1:], strict=False))
    screenshot(page, "gif_result")


def _seed_raw_svg(store: Store, markup: bytes) -> None:
    """Put markup into the history as it came, past the store's own sanitiser (as an older version might have)."""
    run_id = store.start_run("generate", PREVIEW_MODEL, "an svg with a script inside", {"output_format": "svg"},
                             None, "test")
    digest = store.write_bytes(markup, "svg")
    with sqlite3.connect(store.root / "history.sqlite3") as db:
        db.execute("INSERT INTO images(run_id, idx, hash, format, width, height, bytes, created_at) "
                   "VALUES (?,?,?,?,?,?,?,?)", (run_id, 0, digest, "svg", 1024, 1024, len(markup), time.time()))
    store.finish_run(run_id, "ok")


def test_an_svg_with_a_script_is_shown_without_running_it(hostile_app, page):
    store = Store(hostile_app["data_dir"])
    generate(page, hostile_app, "SVG (preview access)", "a green leaf on white paper")
    page.locator(".st-key-btn_gen_run button").click()
    saved = wait_until(lambda: [i for i in store.recent_images() if i.format == "svg"], 90, "the SVG to be saved")
    kept = store.read_bytes(saved[0].hash, "svg")
    assert b"<svg" in kept and b"<script" not in kept and b"onload" not in kept and b"example.invalid" not in kept
    img = page.locator(f'.st-key-run_{saved[0].run_id} [data-testid="stImage"] img').first
    img.wait_for(timeout=60_000)
    wait_idle(page)
    assert served(page, hostile_app, img).startswith(b"\x89PNG")  # drawn as pixels, never as markup
    assert page.evaluate("() => window.__pwned") is None and page.title() != "pwned"

    # Markup that still carries the script, straight in the history: the Gallery draws it, runs nothing.
    raw = render_svg("a red square", 1024, 1024, hostile=True)
    assert b"<script>" in raw
    _seed_raw_svg(store, raw)
    page.goto(hostile_app["url"] + "/Gallery")
    wait_idle(page)
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=60_000)
    wait_idle(page)
    for img in page.locator('[data-testid="stImage"] img').all():
        assert not served(page, hostile_app, img).lstrip().startswith(b"<")
    assert page.locator("svg script").count() == 0
    assert page.evaluate("() => window.__pwned") is None and page.title() != "pwned"
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.reload()
    wait_idle(page)
    assert not any("example.invalid" in url for url in requests)
    assert page.evaluate("() => window.__pwned") is None and page.title() != "pwned"
    screenshot(page, "svg_in_gallery")
