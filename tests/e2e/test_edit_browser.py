"""Mask edit and Reference edit in a real browser: a stroke drawn with the mouse on the real canvas."""

import io

import numpy as np
import pytest
from PIL import Image

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import (
    mask_canvas,
    open_from_gallery,
    record_sending,
    screenshot,
    sending_seen,
    type_into,
    wait_idle,
    wait_until,
)

pytestmark = pytest.mark.e2e


def seed_one(data_dir, prompt):
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", prompt, {"size": "1024x1024"})
    rec = store.add_image(run, 0, render(prompt, 1024, 1024, quality="low"), "png", 1024, 1024)
    store.finish_run(run, "ok")
    return store, rec


def test_paint_a_mask_with_the_mouse_and_edit(app_server, page):
    store, src = seed_one(app_server["data_dir"], "A yellow field under a purple sky")
    open_from_gallery(page, app_server["url"], src.id, "mask")
    canvas = mask_canvas(page)
    box = canvas.bounding_box()
    # a thick stroke across the top-left quarter of the picture
    page.mouse.move(box["x"] + box["width"] * 0.08, box["y"] + box["height"] * 0.12)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(box["x"] + box["width"] * (0.08 + 0.015 * i), box["y"] + box["height"] * 0.12, steps=2)
    page.mouse.up()
    page.wait_for_timeout(1000)  # the canvas sends its strokes a moment after the mouse is released
    wait_idle(page)
    page.wait_for_selector("text=Mask preview", timeout=30_000)
    type_into(page, "mask_prompt", "The same field with a red kite in the sky")
    screenshot(page, "mask_edit")
    page.locator(".st-key-btn_mask_run button").click()
    runs = wait_until(lambda: [r for r in store.runs() if r.page == "mask_edit" and not r.active],
                      what="the mask edit to finish")
    assert runs[0].status == "ok", runs[0].error
    wait_idle(page)
    page.wait_for_selector(".stDownloadButton", timeout=60_000)
    out_rec = store.images_of_run(runs[0].id)[0]
    before = np.asarray(Image.open(io.BytesIO(store.read_bytes(src.hash))).convert("RGB")).astype(int)
    after = np.asarray(Image.open(io.BytesIO(store.read_bytes(out_rec.hash))).convert("RGB")).astype(int)
    assert after.shape == before.shape
    assert (after[600:, 600:] == before[600:, 600:]).all()        # far from the stroke: the input's own pixels
    stroke = (slice(110, 135), slice(150, 350))                     # under the stroke: repainted
    assert (np.abs(after[stroke] - before[stroke]).sum(axis=-1) > 0).mean() > 0.9
    screenshot(page, "mask_edit_result")


def test_reference_edit_from_history(app_server, page):
    seed_one(app_server["data_dir"], "A red teapot on a white table")
    seed_one(app_server["data_dir"], "A blue cup with steam")
    page.goto(app_server["url"] + "/Reference_edit")
    wait_idle(page)
    page.get_by_role("tab", name="From history").click()
    for i in range(2):
        page.locator('[class*="st-key-btn_ref_pick_"] button').nth(i).click()
        page.locator(f".st-key-btn_ref_remove_{i}").wait_for(timeout=30_000)
        wait_idle(page)
    assert page.locator('[class*="st-key-btn_ref_remove_"]').count() == 2
    type_into(page, "ref_prompt", "The teapot and the cup together on a picnic blanket")
    record_sending(page)
    page.locator(".st-key-btn_ref_run button").click()
    store = Store(app_server["data_dir"])
    runs = wait_until(lambda: [r for r in store.runs() if r.page == "reference_edit" and not r.active],
                      what="the reference edit to finish")
    assert runs[0].status == "ok" and len(runs[0].params["images"]) == 2
    wait_idle(page)
    page.wait_for_selector('.stDownloadButton', timeout=30_000)
    # the click was shown at once, in a card the browser drew with the prompt, gone once the run's own card came
    assert sending_seen(page)[:1] == ["Sending… The teapot and the cup together on a picnic blanket"]
    assert page.locator(".il-sending").inner_text() == ""
    page.locator("h1").first.scroll_into_view_if_needed()  # the page as it opens: title, inputs and result
    screenshot(page, "reference_edit")
