"""Extend through AppTest, against the offline backend's /v1/images/edits."""

import io

import numpy as np
from PIL import Image

from components import state
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page, settle, shown


def seed(data_dir):
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "A lighthouse on a cliff", {})
    rec = store.add_image(run, 0, render("A lighthouse on a cliff", 1024, 1024, quality="low"), "png", 1024, 1024)
    store.finish_run(run, "ok")
    return store, rec


def pixels(store, rec):
    with Image.open(io.BytesIO(store.read_bytes(rec.hash))) as img:
        return np.asarray(img.convert("RGB")).astype(int)


def _group(at, label):
    return next(g for g in at.get("button_group") if g.label == label)


def test_extend_to_a_landscape_with_the_picture_on_the_right(data_dir):
    store, src = seed(data_dir)
    at = open_page("pages/9_Extend.py")
    at.session_state[state.handoff_key(state.EXT)] = [src.hash]
    at.run()
    assert not at.exception
    _group(at, "New shape").set_value("3:2").run()
    _group(at, "Where the picture sits").set_value("right").run()
    at.text_area(key=state.EXT_PROMPT).input("A lighthouse on a long cliff under a wide evening sky").run()
    at.selectbox(key=state.EXT_QUALITY).select("low").run()
    at.button(key=state.EXT_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.error, shown(at.error)
    run = store.runs()[0]
    assert run.page == "extend" and run.status == "ok" and run.params["size"] == "1536x1024"
    raw, kept = store.images_of_run(run.id)
    assert (raw.variant, kept.variant) == ("raw", "kept")
    assert src.hash in store.parents_of(kept.id) and store.parents_of(raw.id) == [src.hash]
    out = pixels(store, kept)
    assert out.shape == (1024, 1536, 3) and (out[:, 512:] == pixels(store, src)).all()
    assert any("Outside the mask, the picture did not change at all." in m.value for m in at.markdown)  # offline


def test_a_canvas_smaller_than_the_picture_gets_a_sentence(data_dir):
    store, src = seed(data_dir)
    at = open_page("pages/9_Extend.py")
    at.session_state[state.handoff_key(state.EXT)] = [src.hash]
    at.run()
    _group(at, "New shape").set_value("Custom").run()
    at.number_input(key=state.EXT_WIDTH).set_value(800).run()
    at.text_area(key=state.EXT_PROMPT).input("A lighthouse").run()
    assert any("smaller than the picture" in w for w in shown(at.warning))
    at.button(key=state.EXT_BUTTON).click().run()
    assert not at.exception and any("smaller than the picture" in e for e in shown(at.error))
    assert store.count_runs(page="extend") == 0


def test_the_picker_folds_away_once_a_picture_is_chosen(data_dir):
    store, src = seed(data_dir)
    at = open_page("pages/9_Extend.py").run()
    picker = [e for e in at.get("expander") if "Picture" in e.label]
    assert len(picker) == 1 and picker[0].proto.expanded  # nothing chosen: the picker is open
    at = open_page("pages/9_Extend.py")
    at.session_state[state.handoff_key(state.EXT)] = [src.hash]
    at.run()
    assert not at.exception
    picker = [e for e in at.get("expander") if "change it" in e.label]
    assert len(picker) == 1 and not picker[0].proto.expanded  # folded, so the shape choice is not covered
    at.run()
    picker = [e for e in at.get("expander") if "change it" in e.label]
    assert len(picker) == 1 and not picker[0].proto.expanded and "imagelab-" in picker[0].label
