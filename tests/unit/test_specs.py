from dataclasses import replace

import pytest

from imagelab.specs import GenerateSpec, nearest_custom_size


def params(spec):
    return [p.param for p in spec.problems()]


def test_a_plain_request_is_valid_and_becomes_sdk_kwargs():
    spec = GenerateSpec(prompt="a red fox", model="gpt-image-1.5", size="1024x1024", quality="low", n=2)
    assert spec.problems() == []
    kw = spec.to_sdk_kwargs()
    assert kw == {"prompt": "a red fox", "model": "gpt-image-1.5", "n": 2, "size": "1024x1024",
                  "quality": "low", "output_format": "png"}
    assert "stream" not in kw and "response_format" not in kw


def test_prompt_rules():
    assert GenerateSpec(prompt="  ").problems()[0].message == "Write a prompt: it is empty."
    long = GenerateSpec(prompt="x" * 32001).problems()
    assert long[0].param == "prompt" and "32,001" in long[0].message and "32,000" in long[0].message
    assert GenerateSpec(prompt="x" * 32000).problems() == []


@pytest.mark.parametrize("n", [0, 11, -1])
def test_n_out_of_range(n):
    assert params(GenerateSpec(prompt="x", n=n)) == ["n"]


def test_standard_sizes_only_for_older_models():
    probs = GenerateSpec(prompt="x", model="gpt-image-1.5", size="1536x864").problems()
    assert probs[0].param == "size" and "1024x1024" in probs[0].message


@pytest.mark.parametrize("size,words", [
    ("1250x836", "multiples of 16"),
    ("3840x1024", "3:1"),
    ("4096x2160", "3840x2160"),
    ("640x640", "fewer than"),
    ("big", "WIDTHxHEIGHT"),
])
def test_custom_size_rules(size, words):
    probs = GenerateSpec(prompt="x", model="gpt-image-2", size=size).problems()
    assert len(probs) == 1 and probs[0].param == "size" and words in probs[0].message


def test_custom_size_suggestion_is_itself_valid():
    for w, h in [(1250, 836), (4000, 1000), (300, 300), (5000, 5000)]:
        hint = nearest_custom_size(w, h)
        assert GenerateSpec(prompt="x", model="gpt-image-2", size=hint).problems() == [], hint


def test_custom_size_accepted():
    assert GenerateSpec(prompt="x", model="gpt-image-2", size="1536x864").problems() == []
    assert GenerateSpec(prompt="x", model="gpt-image-2", size="2160x3840").problems() == []


def test_transparent_needs_png_or_webp():
    probs = GenerateSpec(prompt="x", model="gpt-image-2.5-sunburst", background="transparent",
                         output_format="jpeg").problems()
    assert [p.param for p in probs] == ["background"]
    assert "PNG or WebP" in probs[0].message
    assert GenerateSpec(prompt="x", model="gpt-image-2.5-sunburst", background="transparent",
                        output_format="webp").problems() == []


def test_transparent_is_a_preview_on_gpt_image_2_and_refused_where_the_catalog_lacks_it(monkeypatch):
    from imagelab import catalog as cat

    assert GenerateSpec(prompt="x", model="gpt-image-2", background="transparent").problems() == []
    info = cat.model_info("gpt-image-2")
    without = replace(info, preview_backgrounds=())
    monkeypatch.setattr("imagelab.specs.model_info", lambda name: without if name == "gpt-image-2" else info)
    probs = GenerateSpec(prompt="x", model="gpt-image-2", background="transparent").problems()
    assert probs[0].param == "background" and "gpt-image-2" in probs[0].message


def test_compression_only_for_jpeg_and_webp():
    assert params(GenerateSpec(prompt="x", output_compression=50)) == ["output_compression"]
    spec = GenerateSpec(prompt="x", output_format="jpeg", output_compression=50)
    assert spec.problems() == [] and spec.to_sdk_kwargs()["output_compression"] == 50
    assert params(GenerateSpec(prompt="x", output_format="webp", output_compression=101)) == ["output_compression"]


def test_partial_images_turn_on_streaming():
    spec = GenerateSpec(prompt="x", partial_images=2)
    kw = spec.to_sdk_kwargs()
    assert kw["stream"] is True and kw["partial_images"] == 2
    assert params(GenerateSpec(prompt="x", partial_images=4)) == ["partial_images"]


def test_gif_and_svg_limits():
    m = "gpt-image-2.6-flare"
    assert params(GenerateSpec(prompt="x", model=m, output_format="gif", partial_images=1)) == ["partial_images"]
    assert params(GenerateSpec(prompt="x", model=m, output_format="svg", n=2)) == ["n"]
    assert params(GenerateSpec(prompt="x", model=m, output_format="gif", frame_count=17)) == ["frame_count"]
    assert params(GenerateSpec(prompt="x", model=m, output_format="png", frame_count=4)) == ["frame_count"]
    assert params(GenerateSpec(prompt="x", model="gpt-image-2", output_format="gif")) == ["output_format"]
    ok = GenerateSpec(prompt="x", model=m, output_format="gif", frame_count=4)
    assert ok.problems() == [] and ok.to_sdk_kwargs()["frame_count"] == 4


def test_retired_and_unknown_models():
    assert "gpt-image-2.5-sunburst" in GenerateSpec(prompt="x", model="gpt-image-1").problems()[0].message
    assert params(GenerateSpec(prompt="x", model="nope")) == ["model"]


def test_quality_per_model():
    assert params(GenerateSpec(prompt="x", model="gpt-image-2", quality="max")) == ["quality"]
    assert GenerateSpec(prompt="x", model="gpt-image-2.5-sunburst", quality="max").problems() == []


def _img(w=1024, h=1024, tag="a"):
    from imagelab.specs import InputImage

    return InputImage(b"data-" + tag.encode(), f"{tag}.png", "image/png", w, h, tag * 64)


def _mask(w=1024, h=1024, fraction=0.2):
    from imagelab.specs import MaskInput

    return MaskInput(b"mask", w, h, "m" * 64, fraction)


def test_edit_spec_sends_files_with_names_and_mime():
    from imagelab.specs import EditSpec

    one = EditSpec(prompt="x", model="gpt-image-1.5", images=(_img(),), mask=_mask(), input_fidelity="high")
    assert one.problems() == []
    kw = one.to_sdk_kwargs()
    assert kw["image"] == ("a.png", b"data-a", "image/png")
    assert kw["mask"] == ("mask.png", b"mask", "image/png") and kw["input_fidelity"] == "high"
    many = EditSpec(prompt="x", images=(_img(tag="a"), _img(tag="b")))
    assert [f[0] for f in many.to_sdk_kwargs()["image"]] == ["a.png", "b.png"]
    rec = many.to_record()
    assert rec["images"][1]["hash"] == "b" * 64 and "data" not in str(rec["images"])


def test_edit_spec_rules():
    from imagelab.specs import EditSpec

    def params(**kw):
        return [p.param for p in EditSpec(prompt="x", **kw).problems()]

    assert params(images=()) == ["image"]
    assert params(images=tuple(_img(tag=str(i)) for i in range(17))) == ["image"]
    assert params(images=(_img(),), mask=_mask(512, 512)) == ["mask"]
    assert params(images=(_img(),), mask=_mask(fraction=0.0)) == ["mask"]
    assert params(model="gpt-image-2.5-sunburst", images=(_img(),), mask=_mask(), markup=_mask()) == ["markup"]
    assert params(model="gpt-image-2", images=(_img(),), markup=_mask()) == ["markup"]
    assert params(model="gpt-image-2.5-sunburst", images=(_img(),), markup=_mask()) == []
    assert params(model="gpt-image-2", images=(_img(),), input_fidelity="high") == ["input_fidelity"]
    assert params(model="gpt-image-1-mini", images=(_img(),), input_fidelity="high") == ["input_fidelity"]
    assert params(model="gpt-image-1-mini", images=(_img(),), input_fidelity="low") == []


def test_edit_estimate_counts_input_images():
    from imagelab.costs import estimate
    from imagelab.specs import EditSpec

    low = estimate(EditSpec(prompt="x", model="gpt-image-1.5", images=(_img(),), quality="low", size="1024x1024"))
    assert low.image_input_tokens == 194
    high = estimate(EditSpec(prompt="x", model="gpt-image-1.5", images=(_img(),), quality="low", size="1024x1024",
                             input_fidelity="high"))
    assert high.image_input_tokens == 194 + 4160 and high.dollars > low.dollars
    two = estimate(EditSpec(prompt="x", model="gpt-image-1.5", images=(_img(), _img(1536, 1024, "b"))))
    assert two.image_input_tokens == 194 + 323


def test_gif_frame_duration_is_at_least_20_ms_and_sent_rounded_to_10():
    m = "gpt-image-2.6-flare"
    short = GenerateSpec(prompt="x", model=m, output_format="gif", frame_duration_ms=19).problems()
    assert [p.param for p in short] == ["frame_duration_ms"] and "20" in short[0].message
    assert GenerateSpec(prompt="x", model=m, output_format="gif", frame_duration_ms=20).problems() == []
    kw = GenerateSpec(prompt="x", model=m, output_format="gif", frame_count=3, frame_duration_ms=124).to_sdk_kwargs()
    assert kw["frame_duration_ms"] == 120 and kw["frame_count"] == 3 and kw["output_format"] == "gif"
    assert GenerateSpec(prompt="x", model=m, output_format="gif", frame_duration_ms=125).to_sdk_kwargs()[
        "frame_duration_ms"] == 130
    assert "stream" not in kw and "partial_images" not in kw and "output_compression" not in kw


def test_gif_and_svg_refusals_say_what_they_cannot_do():
    m = "gpt-image-2.6-flare"
    msg = GenerateSpec(prompt="x", model=m, output_format="gif", partial_images=2).problems()[0].message
    assert "stream" in msg and "partial images" in msg and "mask" in msg and "compression" in msg
    comp = GenerateSpec(prompt="x", model=m, output_format="svg", output_compression=50).problems()
    assert [p.param for p in comp] == ["output_compression"]


def test_svg_author_model_is_sent_only_with_svg():
    m = "gpt-image-2.6-flare"
    kw = GenerateSpec(prompt="x", model=m, output_format="svg", svg_model="gpt-5.5").to_sdk_kwargs()
    assert kw["svg"] == {"model": "gpt-5.5"} and kw["n"] == 1
    assert "svg" not in GenerateSpec(prompt="x", model=m, output_format="svg").to_sdk_kwargs()
    assert params(GenerateSpec(prompt="x", model=m, output_format="png", svg_model="gpt-5.5")) == ["svg_model"]


def test_gif_and_svg_belong_to_the_2_6_models():
    for fmt in ("gif", "svg"):
        problems = GenerateSpec(prompt="x", model="gpt-image-2.5-flare", output_format=fmt).problems()
        assert [p.param for p in problems] == ["output_format"]
        assert problems[0].message == (f"gpt-image-2.5-flare does not make {fmt.upper()} output; only "
                                       "gpt-image-2.6-sunburst or gpt-image-2.6-flare do. Choose one of them, or "
                                       "png, jpeg or webp.")
        assert GenerateSpec(prompt="x", model="gpt-image-2.6-sunburst", output_format=fmt).problems() == []


def test_a_gif_takes_frame_sizes_and_a_large_one_fits_fewer_frames():
    m = "gpt-image-2.6-sunburst"
    assert GenerateSpec(prompt="x", model=m, output_format="gif", size="512x512", frame_count=16).problems() == []
    assert GenerateSpec(prompt="x", model=m, output_format="gif", size="1280x720", frame_count=4).problems() == []
    too_many = GenerateSpec(prompt="x", model=m, output_format="gif", size="960x960", frame_count=9).problems()
    assert [p.message for p in too_many] == [
        "A 960x960 GIF fits at most 4 frames (approximate); choose 4 or fewer frames, or a smaller frame size such as "
        "640x640 or 512x512."]
    # left to the API's default of 9 frames, the same
    wide = GenerateSpec(prompt="x", model=m, output_format="gif", size="1024x576").problems()
    assert [p.param for p in wide] == ["frame_count"] and wide[0].message.endswith("such as 512x288.")
    wrong = GenerateSpec(prompt="x", model=m, output_format="gif", size="1024x1024").problems()
    assert [p.param for p in wrong] == ["size"] and "512x512" in wrong[0].message and "1280x720" in wrong[0].message


def test_an_svg_has_a_1024_class_reference_its_own_qualities_and_an_optional_author():
    m = "gpt-image-2.6-flare"
    assert GenerateSpec(prompt="x", model=m, output_format="svg", size="1536x1024", quality="max").problems() == []
    assert params(GenerateSpec(prompt="x", model=m, output_format="png", quality="max")) == ["quality"]
    assert params(GenerateSpec(prompt="x", model=m, output_format="svg", size="512x512")) == ["size"]
    kw = GenerateSpec(prompt="x", model=m, output_format="svg", svg_model="gpt-5.5", svg_effort="high",
                      complexity="medium").to_sdk_kwargs()
    assert kw["svg"] == {"model": "gpt-5.5", "reasoning": {"effort": "high"}} and kw["complexity"] == "medium"
    assert params(GenerateSpec(prompt="x", model=m, output_format="svg", svg_effort="high")) == ["svg_effort"]
    assert params(GenerateSpec(prompt="x", model=m, output_format="svg", svg_model="gpt-5.5",
                               svg_effort="lots")) == ["svg_effort"]


def test_a_turn_that_can_wait_is_sent_for_background_execution_without_a_stream():
    from imagelab.costs import estimate
    from imagelab.specs import TurnSpec

    soon = TurnSpec(prompt="x", partial_images=2)
    assert soon.stream and "background_options" not in soon.to_sdk_kwargs()
    later = TurnSpec(prompt="x", completion_window="2h")
    assert later.waits and later.problems() == []
    kw = later.to_sdk_kwargs()
    assert kw["background_options"] == {"completion_window": "2h"} and kw["service_tier"] == "default"
    assert "stream" not in kw and "partial_images" not in kw["tools"][0]
    assert params(TurnSpec(prompt="x", completion_window="8h", partial_images=1)) == ["partial_images"]
    assert params(TurnSpec(prompt="x", completion_window="24h")) == ["completion_window"]
    assert later.to_record()["completion_window"] == "2h"
    # no discount is published for the windows: the standard price, and the estimate says so
    assert estimate(later).dollars == estimate(TurnSpec(prompt="x")).dollars
    assert estimate(later).approximate and any("discount is not published" in n for n in estimate(later).notes)
