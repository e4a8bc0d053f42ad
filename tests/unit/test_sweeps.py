"""Sweeps: template variables, expansion, problems, plans, presets, and sweeps on the run engine (fake client)."""

import time

import pytest

from imagelab.client import Connection, Failed, FinalImage, ModerationBlocked, UsageReport
from imagelab.costs import estimate
from imagelab.runs.engine import RunEngine
from imagelab.runs.sweeps import (
    MAX_REQUESTS,
    Sweep,
    cancel_sweep,
    fill_template,
    load_presets,
    submit_sweep,
    sweep_grid,
    template_variables,
)
from imagelab.specs import GenerateSpec
from imagelab.store import Store

ITEMS = ["dining chair", "fruit bowl", "speaker", "bench"]


def furniture(**kw):
    args = dict(template="Photo of a {item} on a white backdrop", values={"item": list(ITEMS)},
                axes={"quality": ["low", "high"]}, base=GenerateSpec(size="1024x1024"))
    args.update(kw)
    return Sweep(**args)


def test_template_variables_in_order_once_ignoring_escapes():
    assert template_variables("{a} and {b} then {a} {{not}} {{c}} {d}}}") == ["a", "b", "d"]
    assert template_variables("no placeholders {} { x } {1}") == []
    assert fill_template("{{literal}} {a}-{b}", {"a": "x"}) == "{literal} x-{b}"


def test_expansion_counts_labels_and_specs():
    items = furniture().expand()
    assert len(items) == 8 == furniture().request_count
    assert items[0].label == "item=dining chair · quality=low"
    assert items[1].label == "item=dining chair · quality=high"
    assert items[7].label == "item=bench · quality=high"
    assert items[2].spec.prompt == "Photo of a fruit bowl on a white backdrop"
    assert items[2].spec.quality == "low" and items[2].spec.size == "1024x1024"
    assert items[3].bindings == {"item": "fruit bowl", "quality": "high"}
    assert [i.index for i in items] == list(range(8))


def test_several_axes_multiply_and_fixed_dimensions_stay_out_of_labels():
    sweep = furniture(axes={"quality": ["high"], "size": ["1024x1024", "1536x1024"],
                            "model": ["gpt-image-2", "gpt-image-1.5"]})
    items = sweep.expand()
    assert len(items) == 4 * 1 * 2 * 2
    assert items[0].label == "item=dining chair · size=1024x1024 · model=gpt-image-2"
    assert {i.spec.model for i in items} == {"gpt-image-2", "gpt-image-1.5"}
    assert sweep.problems() == []


def test_a_fully_fixed_sweep_still_has_a_label():
    items = Sweep("a fox", {}, {}, GenerateSpec()).expand()
    assert len(items) == 1 and items[0].label == "#1" and items[0].spec.prompt == "a fox"


def test_problems_are_sentences():
    sweep = Sweep("A {item} in {colour}", values={"item": [], "shape": ["round"]},
                  axes={"flavour": ["x"], "quality": []})
    probs = sweep.problems()
    text = " ".join(probs)
    assert "{colour} has no values" in text
    assert "values for {item} is empty" in text
    assert "{shape}" in text and "no placeholder" in text
    assert "'flavour' is not an option" in text
    assert "option 'quality' is empty" in text
    assert all(p.endswith(".") for p in probs)


def test_cap_names_the_count_and_the_limit():
    sweep = Sweep("{a} {b}", values={"a": [str(i) for i in range(15)], "b": [str(i) for i in range(15)]})
    probs = sweep.problems()
    assert len(probs) == 1 and "225 requests" in probs[0] and str(MAX_REQUESTS) in probs[0]


def test_item_spec_problems_say_which_item():
    probs = furniture(axes={"quality": ["low", "ultra"]}).problems()
    assert len(probs) == 1  # the same problem, once, with how many items share it
    assert probs[0].startswith("Item 2 (item=dining chair · quality=ultra) (and 3 more items): The quality 'ultra'")
    probs = furniture(values={"item": ["chair", " "]}).problems()
    assert any("blank" in p for p in probs)


def test_plan_totals_are_the_sum_of_estimates():
    sweep = furniture()
    plan = sweep.plan()
    assert plan.request_count == 8 and plan.image_count == 8
    assert plan.total_estimate_dollars == pytest.approx(sum(estimate(i.spec).dollars for i in sweep.expand()))
    assert plan.approximate == any(estimate(i.spec).approximate for i in sweep.expand())
    assert plan.needs_confirmation(plan.total_estimate_dollars / 2)
    assert not plan.needs_confirmation(plan.total_estimate_dollars + 1)


def test_presets_load_and_expand_cleanly():
    presets = load_presets()
    names = " ".join(p.template for p in presets)
    assert len(presets) >= 4
    assert "Photo of a {item} on a white backdrop" in names
    assert "sneaker" in names and "chocolate" in names and "{style}" in names
    furniture_preset = next(p for p in presets if "{item}" in p.template)
    assert furniture_preset.values["item"] == ITEMS
    for p in presets:
        sweep = p.to_sweep()
        assert sweep.problems() == [], p.name
        assert len(sweep.expand()) >= 4
        assert all("{" not in i.spec.prompt for i in sweep.expand())


# --- run_sweep with a fake client -------------------------------------------------------------

def _png(color):
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, "PNG")
    return buf.getvalue()


def fake_events(client, spec):
    if "boom" in spec.prompt:
        raise RuntimeError("kaboom")
    if "blocked" in spec.prompt:
        yield Failed(ModerationBlocked("The safety system rejected this request before making anything."))
        yield UsageReport(None, "req_x", 0.0)
        return
    time.sleep(0.05)
    yield FinalImage(0, _png((len(spec.prompt) * 7 % 255, 0, 0)), "png", 8, 8)
    yield UsageReport({"input_tokens": 5, "output_tokens": 10}, "req_ok", 0.05)


# Never contacted: the fake call above answers instead of the SDK client.
NOWHERE = Connection("http://127.0.0.1:9/v1", "sk-test", label="fake", offline=True, max_retries=0)


def test_sweep_keeps_order_and_survives_failures(tmp_path):
    store = Store(tmp_path)
    engine = RunEngine(store, workers=3)
    items = Sweep("a {thing}", {"thing": ["cat", "boom", "dog", "blocked", "owl"]}).expand()
    group, ids = submit_sweep(engine, items, NOWHERE, call=fake_events)
    engine.wait_all()
    runs = sorted(store.runs(10, group_id=group), key=lambda r: r.id)
    assert [r.id for r in runs] == ids
    assert [r.prompt for r in runs] == [i.spec.prompt for i in items]
    assert [r.label for r in runs] == [i.label for i in items]
    assert [r.status for r in runs] == ["ok", "failed", "ok", "failed", "ok"]
    assert "kaboom" in runs[1].error and "safety system" in runs[3].error
    assert all(r.page == "sweep" for r in runs)
    assert store.count_images() == 3


def test_cancel_stops_items_not_started_and_keeps_what_was_saved(tmp_path):
    store = Store(tmp_path)
    engine = RunEngine(store, workers=1)
    items = Sweep("a {thing}", {"thing": [f"t{i}" for i in range(6)]}).expand()
    group, ids = submit_sweep(engine, items, NOWHERE, call=fake_events)
    engine.wait(ids[0])
    assert cancel_sweep(engine, group) >= 4
    engine.wait_all()
    statuses = [store.run(i).status for i in ids]
    assert statuses[0] == "ok" and statuses[-1] == "cancelled"
    assert all(s in ("ok", "cancelled") for s in statuses)
    # the first finished; the second was running (what it already had is kept); the rest never started
    assert len(store.images_of_run(ids[0])) == 1
    assert all(not store.images_of_run(i) for i in ids[2:])
    assert all("Cancelled" in store.run(i).error for i in ids[1:])


def test_empty_sweep_runs_nothing(tmp_path):
    engine = RunEngine(Store(tmp_path))
    assert submit_sweep(engine, [], NOWHERE, call=fake_events)[1] == []


def test_grid_puts_the_first_axis_down_and_the_second_across():
    items = furniture(values={"item": ["chair", "bench"]}).expand()
    runs = [(10 + i, item.label) for i, item in enumerate(items)]
    grid = sweep_grid(list(reversed(runs)))  # submission order comes from the run ids, not the list
    assert (grid.row_axis, grid.column_axis) == ("item", "quality")
    assert grid.rows == ["chair", "bench"] and grid.columns == ["low", "high"]
    assert grid.cells == [[10, 11], [12, 13]]
    assert [items[i].bindings for i in (1, 2)] == [{"item": "chair", "quality": "high"},
                                                   {"item": "bench", "quality": "low"}]


def test_grid_of_one_axis_is_a_row_per_value_and_odd_labels_a_row_per_run():
    grid = sweep_grid([(1, "item=a cup · saucer"), (2, "item=x=1")])
    assert grid.rows == ["a cup · saucer", "x=1"] and grid.columns == [""] and grid.cells == [[1], [2]]
    three = furniture(values={"item": ["chair", "bench"]},
                      axes={"quality": ["low", "high"], "size": ["1024x1024", "1536x1024"]})
    grid = sweep_grid([(i, item.label) for i, item in enumerate(three.expand())])
    assert grid.rows == ["item=chair · quality=low", "item=chair · quality=high", "item=bench · quality=low",
                         "item=bench · quality=high"]
    assert grid.columns == ["1024x1024", "1536x1024"] and grid.cells == [[0, 1], [2, 3], [4, 5], [6, 7]]
    mixed = sweep_grid([(1, "item=a"), (2, "a typed label")])
    assert mixed.rows == ["item=a", "a typed label"] and mixed.cells == [[1], [2]]
