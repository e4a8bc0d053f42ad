"""Extend and keep-exact in a real browser: the saved files are compared pixel by pixel."""

import re

import numpy as np
import pytest
from PIL import Image

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


def seed(data_dir, prompt):
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", prompt, {"size": "1024x1024"})
    rec = store.add_image(run, 0, render(prompt, 1024, 1024, quality="low"), "png", 1024, 1024)
    store.finish_run(run, "ok")
    return store, rec


def pixels(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def test_extend_a_square_to_a_landscape_with_the_picture_on_the_left(app_server, page):
    store, src = seed(app_server["data_dir"], "A red lighthouse on a green cliff")
    open_from_gallery(page, app_server["url"], src.id, "ext")
    page.locator(".st-key-ext_shape").get_by_text("3:2", exact=True).click()
    wait_idle(page)
    page.locator(".st-key-ext_place").get_by_text("west", exact=True).click()
    wait_idle(page)
    page.wait_for_selector("text=The new canvas: 1536×1024, the picture at the left", timeout=30_000)
    type_into(page, "ext_prompt", "A red lighthouse on a long green cliff under a wide evening sky")
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "extend")
    page.locator(".st-key-btn_ext_run button").click()
    runs = wait_until(lambda: [r for r in store.runs() if r.page == "extend" and not r.active], timeout=120,
                      what="the extend run to finish")
    assert runs[0].status == "ok", runs[0].error
    kept = [r for r in store.images_of_run(runs[0].id) if r.variant == "kept"]
    assert len(kept) == 1 and src.hash in store.parents_of(kept[0].id)
    # the saved file itself, from the store's data directory
    out = pixels(store.path_for(kept[0].hash, kept[0].format))
    assert out.shape == (1024, 1536, 3)
    assert (out[:, :1024] == pixels(store.path_for(src.hash, src.format))).all()
    assert (np.abs(out[:, 1100:] - out[:, 1023:1024]).sum(axis=-1) > 0).mean() > 0.5  # the new part is painted
    wait_idle(page)
    page.get_by_text("Outside the mask, the picture").first.wait_for(timeout=60_000)
    screenshot(page, "extend_result")
    page.set_viewport_size({"width": 1280, "height": 720})
    screenshot(page, "extend_result_1280")


@pytest.fixture(scope="module")
def drifting_app(tmp_path_factory):
    """An app whose offline backend drifts like a real model: kept pixels come back a little changed."""
    with launch_app(tmp_path_factory.mktemp("e2e-drift"), env_extra={"IMAGELAB_OFFLINE_FAULT": "drift:6"}) as server:
        yield server


def test_mask_edit_with_drift_shows_the_figure_and_keeps_the_rest_exact(drifting_app, page):
    store, src = seed(drifting_app["data_dir"], "A yellow field under a purple sky")
    open_from_gallery(page, drifting_app["url"], src.id, "mask")
    canvas = mask_canvas(page)
    canvas.scroll_into_view_if_needed()
    paint_stroke(page, canvas)
    page.wait_for_selector("text=Mask preview", timeout=30_000)
    type_into(page, "mask_prompt", "The same field with a red kite in the sky")
    page.locator(".st-key-btn_mask_run button").click()
    runs = wait_until(lambda: [r for r in store.runs() if r.page == "mask_edit" and not r.active], timeout=120,
                      what="the mask edit to finish")
    assert runs[0].status == "ok", runs[0].error
    raw, kept = store.images_of_run(runs[0].id)
    assert (raw.variant, kept.variant) == ("raw", "kept")
    wait_idle(page)
    figure = page.locator(f".st-key-drift_{kept.id}")
    figure.wait_for(timeout=60_000)
    said = re.search(r"Outside the mask, the picture changed by ([a-z ]+): ([0-9]+)% of its pixels there visibly",
                     figure.inner_text())
    assert said is not None and said.group(1) != "too little to see", figure.inner_text()
    with Image.open(store.path_for(runs[0].params["mask"]["hash"], "png")) as mask:
        keep = np.asarray(mask.convert("RGBA"))[..., 3] > 0
    original = pixels(store.path_for(src.hash, src.format))
    assert (pixels(store.path_for(kept.hash, kept.format))[keep] == original[keep]).all()
    assert not (pixels(store.path_for(raw.hash, raw.format))[keep] == original[keep]).all()
    page.set_viewport_size({"width": 1440, "height": 900})
    wait_idle(page)
    page.locator(f".st-key-run_{runs[0].id}").last.scroll_into_view_if_needed()
    screenshot(page, "mask_edit_drift")
    page.get_by_role("tab", name="Drift map").first.click()
    screenshot(page, "mask_edit_drift_map")
