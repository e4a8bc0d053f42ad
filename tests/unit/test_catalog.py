import typing

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


def test_picker_groups_put_current_models_first_and_older_ones_last():
    from imagelab.catalog import GROUP_RETIRED, GROUP_RETIRING, GROUP_SNAPSHOTS, picker_groups

    groups = picker_groups()
    assert [g for g, _ in groups] == ["Current", GROUP_SNAPSHOTS, GROUP_RETIRING, GROUP_RETIRED]
    listed = [n for _, members in groups for n in members]
    assert sorted(listed) == sorted(catalog().models)  # every model once
    by_group = dict(groups)
    assert by_group["Current"][0] == catalog().default_model
    assert all(model_info(n).snapshot_of for n in by_group[GROUP_SNAPSHOTS])
    assert set(by_group[GROUP_RETIRING]) >= {"gpt-image-1.5", "gpt-image-1-mini"}


def test_retiring_models_carry_a_dated_source_and_a_current_successor():
    from imagelab.catalog import GROUP_RETIRING, picker_groups

    for name in dict(picker_groups())[GROUP_RETIRING]:
        info = model_info(name)
        assert info.retiring_on == "2026-12-01" and info.retiring_reported and "trackers" in info.lifecycle_source
        successor = model_info(info.successor)
        assert successor is not None and not (successor.retired or successor.retiring)
        assert "reported to shut down on 2026-12-01" in info.retiring_sentence()


def test_the_picker_lists_older_models_only_when_asked_or_already_chosen():
    from imagelab.catalog import picker_choices

    assert "gpt-image-1.5" not in picker_choices(False)
    assert "gpt-image-1.5" in picker_choices(True) and "dall-e-2" in picker_choices(True)
    shown = picker_choices(False, chosen="gpt-image-1")
    assert "gpt-image-1" in shown and "gpt-image-1.5" not in shown
