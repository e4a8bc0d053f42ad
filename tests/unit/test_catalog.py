import typing
from datetime import UTC, date, datetime

from openai.types.image_model import ImageModel

from imagelab.catalog import catalog, current_models, image_models, model_info, parse_size, shape_of


def test_every_sdk_model_is_in_the_catalog():
    sdk = set(typing.get_args(ImageModel))
    assert sdk == set(image_models())


def test_retired_models_name_their_successor():
    for name in ("gpt-image-1", "dall-e-2", "dall-e-3"):
        info = model_info(name)
        assert info.retired and info.successor in current_models()
        assert info.successor in info.retirement_sentence()


def test_default_model_is_current():
    assert catalog().default_model in current_models()
    assert catalog().default_tool_model in current_models()


def test_model_facts():
    assert model_info("gpt-image-1.5").input_fidelity == ("low", "high")
    assert model_info("gpt-image-1-mini").input_fidelity == ("low",)
    assert model_info("gpt-image-2").input_fidelity == ()
    assert model_info("gpt-image-2").custom_sizes and not model_info("gpt-image-1.5").custom_sizes
    assert "xhigh" in model_info("gpt-image-2.5-flare").qualities
    assert "xhigh" not in model_info("gpt-image-2").qualities
    assert "transparent" not in model_info("gpt-image-2").backgrounds
    assert model_info("gpt-image-2.5-sunburst").markup


def test_every_current_model_has_prices_and_tokens():
    for name in current_models():
        assert catalog().prices(name)["image_out"] > 0
        assert catalog().output_table(name)["shapes"]["high"]["square"] > 0


def test_sizes_and_shapes():
    assert parse_size("1536x1024") == (1536, 1024)
    assert parse_size("auto") is None and parse_size("0x5") is None and parse_size("12x") is None
    assert shape_of(1024, 1024) == "square" and shape_of(1536, 1024) == "landscape" and shape_of(1, 2) == "portrait"


BEFORE = date(2026, 11, 20)  # before the reported shut-down of gpt-image-1.5, 1-mini and chatgpt-image-latest
AFTER = date(2026, 12, 6)  # the day these facts were checked: past it
REPORTED_GONE = {"gpt-image-1.5", "gpt-image-1-mini", "chatgpt-image-latest"}


def test_picker_groups_put_current_models_first_and_older_ones_last():
    from imagelab.catalog import GROUP_RETIRED, GROUP_RETIRING, GROUP_SHUT_DOWN, GROUP_SNAPSHOTS, picker_groups

    groups = picker_groups(BEFORE)
    assert [g for g, _ in groups] == ["Current", GROUP_SNAPSHOTS, GROUP_RETIRING, GROUP_RETIRED]
    listed = [n for _, members in groups for n in members]
    assert sorted(listed) == sorted(catalog().models)  # every model once
    by_group = dict(groups)
    assert by_group["Current"][0] == catalog().default_model
    assert all(model_info(n).snapshot_of for n in by_group[GROUP_SNAPSHOTS])
    assert set(by_group[GROUP_RETIRING]) == REPORTED_GONE
    after = dict(picker_groups(AFTER))
    assert GROUP_RETIRING not in after and set(after[GROUP_SHUT_DOWN]) == REPORTED_GONE


def test_retiring_models_carry_a_dated_source_and_a_current_successor():
    for name in REPORTED_GONE:
        info = model_info(name)
        assert info.retiring_on == "2026-12-01" and info.retiring_reported and "trackers" in info.lifecycle_source
        successor = model_info(info.successor)
        assert successor is not None and not (successor.retired or successor.retiring)
        assert "reported to shut down on 2026-12-01" in info.retiring_sentence(BEFORE)


def test_past_its_reported_date_a_model_is_reported_shut_down_and_names_its_successor():
    info = model_info("gpt-image-1.5")
    assert info.stage(BEFORE) == "retiring" and info.stage(AFTER) == "reported shut down"
    assert info.stage(date(2026, 12, 1)) == "reported shut down"  # from the day itself
    said = info.retiring_sentence(AFTER)
    assert said.startswith("gpt-image-1.5 was reported shut down on 2026-12-01")
    assert "Choose gpt-image-2, its successor" in said and "can still send" in said
    assert "The API no longer has gpt-image-1.5" in info.gone_sentence() and "gpt-image-2" in info.gone_sentence()


def test_the_picker_hides_models_past_their_date_but_never_before_it():
    from imagelab.catalog import offered_models, picker_choices

    assert REPORTED_GONE.issubset(picker_choices(False, on=BEFORE))
    assert REPORTED_GONE.issubset(offered_models(BEFORE))
    assert not REPORTED_GONE & set(picker_choices(False, on=AFTER)) and not REPORTED_GONE & set(offered_models(AFTER))
    assert "gpt-image-1.5" in picker_choices(True, on=AFTER) and "dall-e-2" in picker_choices(True, on=AFTER)
    shown = picker_choices(False, chosen="gpt-image-1.5", on=AFTER)  # an old setting still opens
    assert "gpt-image-1.5" in shown and "gpt-image-1-mini" not in shown
    shown = picker_choices(False, chosen="gpt-image-1", on=AFTER)
    assert "gpt-image-1" in shown and "dall-e-2" not in shown


def test_the_lifecycle_follows_the_clock_which_is_the_real_date(monkeypatch):
    import imagelab.catalog as cat
    from imagelab.catalog import picker_choices

    assert cat.today() == datetime.now(UTC).date()
    monkeypatch.setattr(cat, "today", lambda: BEFORE)
    assert "gpt-image-1.5" in picker_choices(False) and model_info("gpt-image-1.5").stage() == "retiring"
    monkeypatch.setattr(cat, "today", lambda: AFTER)
    assert "gpt-image-1.5" not in picker_choices(False) and model_info("gpt-image-1.5").shut_down()


def test_gif_and_svg_are_made_by_the_2_6_models_only():
    makers = {name for name, info in catalog().models.items() if {"gif", "svg"} & set(info.all_formats)}
    assert makers == {"gpt-image-2.6-sunburst", "gpt-image-2.6-flare"}
    assert model_info("gpt-image-2.6-flare").preview_formats == ("gif", "svg")


def test_gif_frame_sizes_fit_fewer_frames_as_they_grow():
    from imagelab.catalog import gif_max_frames, gif_sizes

    gif = catalog().limits["gif"]
    sizes = gif_sizes()
    assert list(sizes) == ["384x384", "512x512", "640x640", "720x720", "768x768", "960x960", "512x288", "288x512",
                           "1024x576", "576x1024", "1280x720", "720x1280"]
    assert gif["default_size"] == "512x512" and gif_max_frames("512x512") >= catalog().limits["gif_frames_default"]
    assert "approximate" in gif["source"] and "Size too large for this frame count" in gif["source"]
    lo, hi = catalog().limits["gif_frames"]
    for size, most in sizes.items():  # the table is the documented rule: a pixel budget over all frames
        w, h = parse_size(size)
        assert most == min(hi, gif["frame_pixel_budget"] // (w * h)) and most >= lo
    assert gif_max_frames("960x960") < gif_max_frames("640x640") < gif_max_frames("512x512")
    assert gif_max_frames("1024x1024") is None


def test_svg_is_drawn_from_a_1024_class_reference():
    from imagelab.catalog import svg_rules

    svg = svg_rules()
    assert svg["sizes"] == ["1024x1024", "1024x1536", "1536x1024"]
    assert svg["qualities"][0] == svg["default_quality"] == "low" and svg["qualities"][-1] == "max"
    assert svg["complexities"] == ["low", "medium", "high"] and svg["default_complexity"] == "high"
