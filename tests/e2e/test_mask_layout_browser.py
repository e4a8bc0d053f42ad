"""Mask edit's layout in a real browser: the canvas fits the window, the button waits for a stroke, and a result is
shown large with a before/after slider and its drift in plain words."""

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import (
    launch_app,
    mask_canvas,
    open_from_gallery,
    paint_stroke,
    screenshot,
    type_into,
    wait_idle,
    wait_until,
)

pytestmark = pytest.mark.e2e

PROMPT = "A yellow field under a purple sky"


@pytest.fixture(scope="module")
def mask_app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("mask-layout"), env_extra={"IMAGELAB_OFFLINE_FAULT": "drift:6"}) as server:
        yield server


@pytest.mark.parametrize("size", [(1280, 720), (1440, 900)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_mask_edit_fits_waits_for_paint_and_shows_the_result_large_with_before_and_after(mask_app, browser, size):
    width, height = size
    store = Store(mask_app["data_dir"])
    run = store.start_run("generate", "gpt-image-2", PROMPT, {"size": "1024x1024"}, billed=False)
    src = store.add_image(run, 0, render(PROMPT, 1024, 1024, quality="low"), "png", 1024, 1024)
    store.finish_run(run, "ok")
    page = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1).new_page()
    try:
        open_from_gallery(page, mask_app["url"], src.id, "mask")
        canvas = mask_canvas(page)
        frame = page.locator(".stBidiComponent iframe, iframe[title*='drawable']").first
        bottom = max(canvas.bounding_box()["y"] + canvas.bounding_box()["height"],
                     frame.bounding_box()["y"] + frame.bounding_box()["height"] if frame.count() else 0)
        assert bottom <= height, f"the canvas ends at {bottom} px in a {height} px window"
        # the canvas's toolbar (shown when pointed at) sits between the instructions and the picture, over neither
        page.mouse.move(canvas.bounding_box()["x"] + 40, canvas.bounding_box()["y"] + 40)
        page.wait_for_timeout(400)
        undo = page.evaluate("() => document.querySelector('[data-testid=stBidiComponentIsolated]').shadowRoot"
                             ".querySelector('button[title=Undo], button[aria-label=Undo]').getBoundingClientRect()"
                             ".toJSON()")
        words = page.get_by_text("Paint over what should change; undo and redo").bounding_box()
        assert undo["height"] > 0 and undo["top"] >= words["y"] + words["height"], (undo, words)
        assert undo["bottom"] <= canvas.bounding_box()["y"] + 1
        button = page.locator(".st-key-btn_mask_run button").first
        assert button.is_disabled()  # nothing painted yet
        paint_stroke(page, canvas)
        type_into(page, "mask_prompt", "The same field with a red kite in the sky")
        assert button.is_enabled()
        before = len(store.runs())
        button.click()
        runs = wait_until(lambda: [r for r in store.runs() if r.page == "mask_edit" and not r.active][:1]
                          if len(store.runs()) > before else None, timeout=120, what="the mask edit to finish")
        kept = [i for i in store.images_of_run(runs[0].id) if i.variant == "kept"][0]
        wait_idle(page)
        card = page.locator(f".st-key-run_{runs[0].id}").last
        card.wait_for(timeout=60_000)
        picture = card.locator("[data-testid='stImage'] img").first
        picture.wait_for(timeout=30_000)
        assert picture.bounding_box()["width"] >= 300  # not a thumbnail beside the canvas
        said = page.locator(f".st-key-drift_{kept.id}").inner_text()
        assert "Outside the mask, the picture changed by" in said and "ΔE" not in said
        card.get_by_role("tab", name="Before / after").click()
        slider = card.frame_locator("iframe").first.locator("#frame")
        slider.wait_for(timeout=30_000)
        assert slider.get_attribute("data-split") == "50.0"
        card.scroll_into_view_if_needed()
        screenshot(page, f"mask_edit_before_after_{width}")
    finally:
        page.context.close()
