"""The model picker: groups, retiring models and their successor, and choices that carry across pages."""

from components import state
from imagelab.catalog import model_info

from .conftest import open_page

TIMEOUT = 60


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
    assert "gpt-image-1.5 · retiring 2026-12-01" in older
    assert "gpt-image-1 · retired 2026-10-23" in older
    assert max(i for i, label in enumerate(older) if "retiring" in label) < \
        min(i for i, label in enumerate(older) if "retired" in label)


def test_a_retiring_model_warns_and_offers_its_successor(data_dir):
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    at.toggle(key=state.MODELS_OLDER).set_value(True).run()
    at.selectbox(key=state.GEN_MODEL).select("gpt-image-1-mini").run()
    warning = " ".join(w.value for w in at.warning)
    assert "gpt-image-1-mini is reported to shut down on 2026-12-01" in warning
    assert any("third-party trackers" in c.value for c in at.caption)
    button = at.button(key=f"btn_{state.GEN_MODEL}_successor")
    assert button.label == "Try this on gpt-image-2"
    button.click().run()
    assert not at.exception
    assert at.selectbox(key=state.GEN_MODEL).value == "gpt-image-2"
    assert "shut down" not in " ".join(w.value for w in at.warning)


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
