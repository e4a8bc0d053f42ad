"""The model picker: groups, retiring and shut-down models and their successor, and choices that carry across
pages. Today's date is the catalog's clock, set here where a test needs another day."""

from datetime import date

import pytest

import imagelab.catalog
from components import state
from imagelab.catalog import model_info
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page, settle

TIMEOUT = 60


@pytest.fixture
def before_the_date(monkeypatch):
    """A day before gpt-image-1.5, 1-mini and chatgpt-image-latest were reported to shut down."""
    monkeypatch.setattr(imagelab.catalog, "today", lambda: date(2026, 11, 20))


def names(box) -> list[str]:
    return [label.split(" · ")[0] for label in box.options]


def test_current_models_come_first_then_snapshots_and_older_ones_only_behind_the_switch(data_dir):
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    box = at.selectbox(key=state.GEN_MODEL)
    listed = names(box)
    assert listed[0] == "gpt-image-2"
    snapshots = [bool(model_info(name).snapshot_of) for name in listed]
    first_snapshot = snapshots.index(True)
    assert not any(snapshots[:first_snapshot]) and all(snapshots[first_snapshot:])
    # the box shows the name alone, read whole; what each current model is for is in the picker's help
    assert box.options == listed
    assert all(f"- {name}: {model_info(name).purpose}" in box.help for name in listed[:first_snapshot])
    assert not {"gpt-image-1.5", "gpt-image-1-mini", "gpt-image-1", "dall-e-3"} & set(listed)

    at.toggle(key=state.MODELS_OLDER).set_value(True).run()
    labels = at.selectbox(key=state.GEN_MODEL).options
    assert labels[:len(listed)] == box.options
    older = labels[len(listed):]
    assert "gpt-image-1.5 · reported shut down 2026-12-01" in older
    assert "gpt-image-1 · retired 2026-10-23" in older
    assert max(i for i, label in enumerate(older) if "shut down" in label) < \
        min(i for i, label in enumerate(older) if "retired" in label)


def test_before_its_reported_date_a_retiring_model_is_offered_and_warns(data_dir, before_the_date):
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    labels = at.selectbox(key=state.GEN_MODEL).options
    assert "gpt-image-1.5 · retiring 2026-12-01" in labels  # never hidden before the date
    assert not any("gpt-image-1 —" in label for label in labels)
    at.selectbox(key=state.GEN_MODEL).select("gpt-image-1-mini").run()
    warning = " ".join(w.value for w in at.warning)
    assert "gpt-image-1-mini is reported to shut down on 2026-12-01" in warning


def test_a_reported_shut_down_model_warns_before_sending_and_can_still_be_sent(data_dir):
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    at.toggle(key=state.MODELS_OLDER).set_value(True).run()
    at.selectbox(key=state.GEN_MODEL).select("gpt-image-1-mini").run()
    warning = " ".join(w.value for w in at.warning)
    assert "gpt-image-1-mini was reported shut down on 2026-12-01" in warning
    assert "Choose gpt-image-2, its successor; you can still send this one" in warning
    assert any("third-party trackers" in c.value for c in at.caption)
    at.text_area(key=state.GEN_PROMPT).input("a small red fox").run()
    assert not at.button(key=state.GEN_BUTTON).disabled  # the date is only reported: sending stays possible
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    assert [(r.model, r.status) for r in Store(data_dir).runs()] == [("gpt-image-1-mini", "ok")]
    button = at.button(key=f"btn_{state.GEN_MODEL}_successor")
    assert button.label == "Try this on gpt-image-2"
    button.click().run()
    assert not at.exception
    assert at.selectbox(key=state.GEN_MODEL).value == "gpt-image-2"
    assert "shut down" not in " ".join(w.value for w in at.warning)


def test_old_settings_naming_a_shut_down_model_still_open(data_dir):
    store = Store(data_dir)
    params = {"prompt": "a blue whale", "model": "gpt-image-1.5", "size": "1024x1024", "quality": "low", "n": 1,
              "output_format": "png"}
    run = store.start_run("generate", "gpt-image-1.5", "a blue whale", params, {"dollars": 0.01})
    rec = store.add_image(run, 0, render("a blue whale", 64, 64), "png", 64, 64)
    store.finish_run(run, "ok")
    at = open_page("pages/6_Gallery.py", TIMEOUT).run()
    at.button(key=f"btn_gallery_detail_{rec.id}").click().run()
    at.button(key="btn_gallery_again").click().run()
    assert not at.exception
    assert at.selectbox(key=state.GEN_MODEL).value == "gpt-image-1.5"
    assert at.text_area(key=state.GEN_PROMPT).value == "a blue whale"
    said = " ".join(w.value for w in at.warning)
    assert "gpt-image-1.5 was reported shut down on 2026-12-01" in said and "not available any more" not in said


def test_the_model_and_common_options_carry_across_pages_until_changed(data_dir):
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    at.selectbox(key=state.GEN_MODEL).select("gpt-image-2.5-sunburst").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("high").run()
    at.selectbox(key=f"{state.GEN_OPTS}_size").select("1536x1024").run()
    at.number_input(key=f"{state.GEN_OPTS}_n").set_value(3).run()

    at.switch_page("pages/2_Reference_edit.py").run()
    assert not at.exception
    assert at.selectbox(key=state.REF_MODEL).value == "gpt-image-2.5-sunburst"
    assert at.selectbox(key=f"{state.REF_OPTS}_quality").value == "high"
    assert at.selectbox(key=f"{state.REF_OPTS}_size").value == "1536x1024"
    assert at.number_input(key=f"{state.REF_OPTS}_n").value == 3
    at.selectbox(key=state.REF_MODEL).select("gpt-image-2.6-flare").run()

    at.switch_page("pages/3_Mask_edit.py").run()
    assert at.selectbox(key=state.MASK_MODEL).value == "gpt-image-2.6-flare"
    at.switch_page("pages/1_Generate.py").run()
    assert at.selectbox(key=state.GEN_MODEL).value == "gpt-image-2.6-flare"
    assert at.selectbox(key=f"{state.GEN_OPTS}_quality").value == "high"  # unchanged since, so kept
    assert at.number_input(key=f"{state.GEN_OPTS}_n").value == 3
