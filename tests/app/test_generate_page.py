"""The Generate page and the landing page through Streamlit's AppTest, on the offline backend."""

import io

import pytest
from PIL import Image

from components import state
from components.options import CUSTOM_SIZE
from imagelab.store import Store

from .conftest import open_page, seed_run, settle, shown

TIMEOUT = 60


def app(path="pages/1_Generate.py"):
    return open_page(path, TIMEOUT)


def test_landing_page_says_the_pictures_are_synthetic(data_dir):
    at = app("app.py").run()
    assert not at.exception
    text = " ".join(i.value for i in at.info)
    assert "offline backend" in text and "synthesised" in text
    assert at.sidebar.selectbox(key=state.BACKEND_CHOICE).value.startswith("Offline")


def test_generate_saves_and_shows_an_image(data_dir):
    at = app().run()
    assert not at.exception
    at.text_area(key=state.GEN_PROMPT).input("A teal lighthouse on a cliff at dusk").run()
    at.selectbox(key=f"{state.GEN_OPTS}_size").select("1536x1024").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception
    assert not at.error, shown(at.error)
    # a history row and a file, with the parameters and usage
    store = Store(data_dir)
    runs = store.runs()
    assert len(runs) == 1 and runs[0].status == "ok" and runs[0].params["size"] == "1536x1024"
    assert runs[0].usage["output_tokens"] > 0 and runs[0].actual_dollars > 0
    images = store.images_of_run(runs[0].id)
    assert len(images) == 1
    with Image.open(io.BytesIO(store.read_bytes(images[0].hash))) as img:
        assert img.size == (1536, 1024) and img.format == "PNG"
    # shown: the image element and its download, and the prompt survives the run
    assert len(at.get("image")) >= 1
    assert at.text_area(key=state.GEN_PROMPT).value == "A teal lighthouse on a cliff at dusk"
    assert any("| spent |" in m.value and "| would cost on OpenAI |" in m.value for m in at.sidebar.markdown)


def test_a_jpeg_s_compression_typed_in_its_box_is_sent_and_saved(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("A paper lantern over a canal").run()
    compression = at.number_input(key=f"{state.GEN_OPTS}_compression")
    assert compression.value == 100 and compression.disabled  # PNG: nothing to compress
    at.selectbox(key=f"{state.GEN_OPTS}_format").select("jpeg").run()
    at.number_input(key=f"{state.GEN_OPTS}_compression").set_value(35).run()
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    store = Store(data_dir)
    (run,) = store.runs()
    assert run.status == "ok" and run.params["output_format"] == "jpeg" and run.params["output_compression"] == 35
    (image,) = store.images_of_run(run.id)
    with Image.open(io.BytesIO(store.read_bytes(image.hash))) as img:
        assert img.format == "JPEG"


def test_the_results_show_the_four_newest_runs_and_the_rest_a_click_away(data_dir):
    for i in range(6):
        seed_run(data_dir, f"a seeded harbour number {i}")
    at = app().run()
    assert not at.exception
    assert len(at.get("image")) == 4
    assert "2 older run(s) are hidden here; all of them are in the Gallery." in [c.value for c in at.caption]
    at.button(key="btn_gen_more").click().run()
    assert not at.exception
    assert len(at.get("image")) == 6
    assert not [c.value for c in at.caption if "older run(s)" in c.value]


def estimate_shown(at) -> str:
    """The sidebar's estimate figure, as a person reads it: the large figure, or on the offline backend (where
    the large figure is "$0 here") what OpenAI would charge, beneath it."""
    figures = [h.value.replace("\\", "") for h in at.sidebar.header]
    assert len(figures) == 1, figures
    if figures[0] == "$0 here":
        would = [c.value for c in at.sidebar.caption if c.value.startswith("would cost ≈ ")]
        assert len(would) == 1, would
        return would[0].removeprefix("would cost ").removesuffix(" on OpenAI")
    return figures[0]


def test_estimate_changes_with_quality(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a red apple").run()
    at.selectbox(key=f"{state.GEN_OPTS}_size").select("1024x1024").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    low = estimate_shown(at)
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("high").run()
    high = estimate_shown(at)
    assert low != high
    assert float(high.strip("≈ $")) > float(low.strip("≈ $")) * 10


def test_bad_input_gets_a_sentence_and_nothing_is_saved(data_dir):
    at = app().run()
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception
    assert "Write a prompt: it is empty." in shown(at.error)
    at.text_area(key=state.GEN_PROMPT).input("a fox").run()
    at.selectbox(key=f"{state.GEN_MODEL}").select("gpt-image-2.5-sunburst").run()
    at.selectbox(key=f"{state.GEN_OPTS}_format").select("jpeg").run()
    at.selectbox(key=f"{state.GEN_OPTS}_background").select("transparent").run()
    assert any("PNG or WebP" in w.value for w in at.warning)
    assert at.button(key=state.GEN_BUTTON).disabled  # a setting to fix stops the button until it is fixed
    assert Store(data_dir).runs() == []


def test_a_40000_character_prompt_says_so_once_and_stops_the_button(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("fox " * 10_000).run()
    assert not at.exception
    said = [m for m in shown(at.error) + shown(at.warning) if "characters long" in m]
    assert said == ["The prompt is 40,000 characters long; shorten it to 32,000 or fewer."]
    assert at.button(key=state.GEN_BUTTON).disabled
    at.text_area(key=state.GEN_PROMPT).input("a fox").run()
    assert not at.button(key=state.GEN_BUTTON).disabled


def test_api_error_appears_in_place_and_keeps_the_prompt(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("something forbidden here").run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    assert not at.exception
    errors = shown(at.error)
    assert any("safety system" in e for e in errors), errors
    assert at.text_area(key=state.GEN_PROMPT).value == "something forbidden here"
    runs = Store(data_dir).runs()
    assert runs[0].status == "failed" and Store(data_dir).count_images() == 0


@pytest.mark.parametrize("page", ["app.py", "pages/1_Generate.py", "pages/6_Gallery.py"])
def test_every_page_draws_the_sidebar(data_dir, page):
    at = app(page).run()
    assert not at.exception
    assert at.sidebar.selectbox(key=state.BACKEND_CHOICE)
    assert any("This session" in m.value for m in at.sidebar.markdown)


def test_prompt_and_options_survive_a_trip_to_another_page(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a blue heron").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("high").run()
    at.switch_page("pages/6_Gallery.py").run()
    assert not at.exception
    at.switch_page("pages/1_Generate.py").run()
    assert at.text_area(key=state.GEN_PROMPT).value == "a blue heron"
    assert at.selectbox(key=f"{state.GEN_OPTS}_quality").value == "high"


def test_the_limits_shown_come_from_the_catalog(data_dir, monkeypatch):
    from imagelab.catalog import catalog

    limits = catalog().limits
    monkeypatch.setitem(limits, "prompt_chars", 1234)
    monkeypatch.setitem(limits, "custom_size", {**limits["custom_size"], "experimental_above": [1000, 1000]})
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a heron").run()
    assert any(c.value == "7 / 1,234 characters" for c in at.caption)
    at.selectbox(key=f"{state.GEN_OPTS}_size").select(CUSTOM_SIZE).run()
    assert any(c.value == "Above 1000×1000 is experimental." for c in at.caption), [c.value for c in at.caption]


def format_choices(at) -> list[str]:
    return list(at.selectbox(key=f"{state.GEN_OPTS}_format").options)


def test_gif_and_svg_are_offered_on_the_2_6_models_only(data_dir):
    at = app().run()
    for model in ("gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare"):
        at.selectbox(key=state.GEN_MODEL).select(model).run()
        assert format_choices(at) == ["PNG", "JPEG", "WEBP"], model
    for model in ("gpt-image-2.6-sunburst", "gpt-image-2.6-flare"):
        at.selectbox(key=state.GEN_MODEL).select(model).run()
        assert format_choices(at) == ["PNG", "JPEG", "WEBP", "GIF (preview access)", "SVG (preview access)"], model


def test_a_gif_offers_its_frame_sizes_and_says_which_frame_counts_fit(data_dir):
    from imagelab.catalog import gif_sizes

    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a yellow ball bouncing").run()
    at.selectbox(key=state.GEN_MODEL).select("gpt-image-2.6-sunburst").run()
    at.selectbox(key=f"{state.GEN_OPTS}_format").select("gif").run()
    size = at.selectbox(key=f"{state.GEN_OPTS}_size")
    assert size.label == "Frame size" and size.value == "512x512" and list(size.options) == [
        f"{s.replace('x', '×')} · up to {most} frames" for s, most in gif_sizes().items()]
    captions = " ".join(c.value for c in at.caption)
    assert "512×512 fits 2 to 16 frames (approximate)" in captions
    assert "9 frames × 200 ms = 1.8 s at 5 fps" in captions
    size.select("960x960").run()
    assert "960×960 fits 2 to 4 frames (approximate)" in " ".join(c.value for c in at.caption)
    said = shown(at.error) + shown(at.warning)
    assert ("A 960x960 GIF fits at most 4 frames (approximate); choose 4 or fewer frames, or a smaller frame size "
            "such as 640x640 or 512x512.") in said
    assert at.button(key=state.GEN_BUTTON).disabled
    at.number_input(key=f"{state.GEN_OPTS}_frames").set_value(4).run()
    at.number_input(key=f"{state.GEN_OPTS}_frame_ms").set_value(250).run()
    assert "4 frames × 250 ms = 1 s at 4 fps" in " ".join(c.value for c in at.caption)
    assert not at.button(key=state.GEN_BUTTON).disabled
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    store = Store(data_dir)
    run = store.runs()[0]
    assert run.status == "ok" and run.params["size"] == "960x960" and run.params["frame_count"] == 4
    with Image.open(io.BytesIO(store.read_bytes(store.images_of_run(run.id)[0].hash, "gif"))) as img:
        assert img.size == (960, 960) and img.n_frames == 4 and img.info["duration"] == 250


def test_an_svg_offers_a_1024_class_reference_low_quality_high_complexity_and_an_optional_author(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a green leaf").run()
    at.selectbox(key=state.GEN_MODEL).select("gpt-image-2.6-flare").run()
    at.selectbox(key=f"{state.GEN_OPTS}_format").select("svg").run()
    size = at.selectbox(key=f"{state.GEN_OPTS}_size")
    assert size.label == "Reference size" and size.value == "1024x1024"
    assert list(size.options) == ["1024×1024", "1024×1536", "1536×1024"]
    quality = at.selectbox(key=f"{state.GEN_OPTS}_quality")
    assert list(quality.options) == ["low", "medium", "high", "xhigh", "max"] and quality.value == "low"
    complexity = at.selectbox(key=f"{state.GEN_OPTS}_complexity")
    assert list(complexity.options) == ["low", "medium", "high"] and complexity.value == "high"
    assert at.selectbox(key=f"{state.GEN_OPTS}_svg_effort").disabled  # no author model, so no svg object
    at.text_input(key=f"{state.GEN_OPTS}_svg_model").input("gpt-5.5").run()
    at.selectbox(key=f"{state.GEN_OPTS}_svg_effort").select("minimal").run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("max").run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    run = Store(data_dir).runs()[0]
    assert run.status == "ok", run.error
    assert (run.params["svg_model"], run.params["svg_effort"], run.params["quality"], run.params["complexity"]) == (
        "gpt-5.5", "minimal", "max", "high")
