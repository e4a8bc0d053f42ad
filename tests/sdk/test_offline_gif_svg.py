"""GIF and SVG output from the offline backend, asked for through the real openai SDK and the run engine."""

import base64
import io

import numpy as np
import openai
import pytest
from PIL import Image, ImageSequence

from imagelab.client import Connection, generate
from imagelab.specs import GenerateSpec
from imagelab.store import Store
from imagelab.svg import svg_size, svg_to_png
from tests.conftest import engine_run

FAULT = "x-imagelab-fault"
PREVIEW_MODEL = "gpt-image-2.6-flare"  # the catalog lists GIF and SVG as its preview formats


def frames_of(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as img:
        return [np.asarray(f.convert("RGB"), np.int16) for f in ImageSequence.Iterator(img)]


def test_gif_has_the_frames_asked_for_and_they_change(client):
    r = client.images.generate(model=PREVIEW_MODEL, prompt="a red kite over green hills", size="640x640",
                               output_format="gif", frame_count=5, frame_duration_ms=124)
    assert r.output_format == "gif"
    data = base64.b64decode(r.data[0].b64_json)
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "GIF" and img.size == (640, 640) and img.n_frames == 5
        assert img.info["duration"] == 120  # rounded to the nearest 10 ms, as the API does
        assert img.info.get("loop") == 0
    frames = frames_of(data)
    for before, after in zip(frames, frames[1:], strict=False):
        assert np.abs(before - after).max(axis=-1).mean() > 0.01  # every frame visibly moves on


def test_gif_defaults_to_nine_frames_of_200_ms_at_512x512(client):
    r = client.images.generate(model=PREVIEW_MODEL, prompt="a spinning top", output_format="gif")
    with Image.open(io.BytesIO(base64.b64decode(r.data[0].b64_json))) as img:
        assert img.n_frames == 9 and img.info["duration"] == 200 and img.size == (512, 512)


def test_svg_is_a_small_valid_drawing(client):
    r = client.images.generate(model=PREVIEW_MODEL, prompt="a blue circle & a <gold> star", size="1536x1024",
                               output_format="svg", svg={"model": "gpt-5.5"})
    data = base64.b64decode(r.data[0].b64_json)
    assert data.startswith(b"<svg") and len(data) < 20_000
    assert svg_size(data) == (1536, 1024)
    with Image.open(io.BytesIO(svg_to_png(data, 300))) as png:
        pixels = np.asarray(png.convert("RGB"))
    assert png.size == (300, 200) and pixels.std() > 10  # drawn, not blank


@pytest.mark.parametrize("extra,param", [
    ({"output_format": "gif", "stream": True, "partial_images": 1}, "stream"),
    ({"output_format": "gif", "partial_images": 2}, "partial_images"),
    ({"output_format": "svg", "n": 2}, "n"),
    ({"output_format": "gif", "output_compression": 50}, "output_compression"),
    ({"output_format": "gif", "frame_count": 17}, "frame_count"),
    ({"output_format": "png", "frame_count": 4}, "frame_count"),
    ({"output_format": "png", "svg": {"model": "gpt-5.5"}}, "svg"),
])
def test_what_gif_and_svg_cannot_do_is_refused(client, extra, param):
    with pytest.raises(openai.BadRequestError) as err:
        client.images.generate(model=PREVIEW_MODEL, prompt="a kite", **extra)
    assert err.value.body["param"] == param


@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-2.5-sunburst", "gpt-image-2.5-flare-2026-09-08",
                                   "gpt-image-1.5"])
@pytest.mark.parametrize("fmt", ["gif", "svg"])
def test_a_model_without_them_refuses_gif_and_svg(client, model, fmt):
    with pytest.raises(openai.BadRequestError) as err:
        client.images.generate(model=model, prompt="a kite", size="1024x1024", output_format=fmt)
    body = err.value.body
    assert err.value.status_code == 400 and body["param"] == "output_format" and body["code"] == "invalid_value"
    assert body["message"] == (f"Invalid value: '{fmt}'. The model '{model}' does not support {fmt.upper()} output; "
                               "supported values are: 'png', 'jpeg', and 'webp'.")


@pytest.mark.parametrize("model", ["gpt-image-2.6-sunburst", "gpt-image-2.6-flare"])
def test_both_2_6_models_make_gif_and_svg(client, model):
    gif = client.images.generate(model=model, prompt="a kite", output_format="gif", frame_count=2)
    svg = client.images.generate(model=model, prompt="a kite", output_format="svg")
    assert base64.b64decode(gif.data[0].b64_json).startswith(b"GIF8")
    assert base64.b64decode(svg.data[0].b64_json).startswith(b"<svg")


def test_a_gif_takes_its_own_frame_sizes_and_larger_ones_fit_fewer_frames(client):
    r = client.images.generate(model=PREVIEW_MODEL, prompt="a kite", size="1280x720", output_format="gif",
                               frame_count=4)
    with Image.open(io.BytesIO(base64.b64decode(r.data[0].b64_json))) as img:
        assert img.size == (1280, 720) and img.n_frames == 4
    with pytest.raises(openai.BadRequestError) as err:
        client.images.generate(model=PREVIEW_MODEL, prompt="a kite", size="960x960", output_format="gif")
    assert err.value.body["param"] == "frame_count"
    assert err.value.body["message"].startswith("Size too large for this frame count: a 960x960 GIF can have at "
                                                "most 4 frames, not 9.")
    with pytest.raises(openai.BadRequestError) as err:
        client.images.generate(model=PREVIEW_MODEL, prompt="a kite", size="1024x1024", output_format="gif")
    assert err.value.body["param"] == "size" and "'512x512'" in err.value.body["message"]


def test_an_svg_is_drawn_from_a_1024_class_reference_up_to_max_quality(client):
    r = client.images.generate(model=PREVIEW_MODEL, prompt="a kite", size="1024x1536", quality="max",
                               output_format="svg", complexity="low",
                               svg={"model": "gpt-5.5", "reasoning": {"effort": "minimal"}})
    assert svg_size(base64.b64decode(r.data[0].b64_json)) == (1024, 1536)
    for bad, param in (({"size": "512x512"}, "size"), ({"quality": "ultra"}, "quality"),
                       ({"svg": {"model": "gpt-5.5", "reasoning": {"effort": "lots"}}}, "svg.reasoning.effort"),
                       ({"svg": {"model": "gpt-5.5", "colour": "red"}}, "svg.colour")):
        with pytest.raises(openai.BadRequestError) as err:
            client.images.generate(model=PREVIEW_MODEL, prompt="a kite", output_format="svg", **bad)
        assert err.value.body["param"] == param
    with pytest.raises(openai.BadRequestError) as err:  # the 2.6 models' own top quality is high
        client.images.generate(model=PREVIEW_MODEL, prompt="a kite", quality="max")
    assert err.value.body["param"] == "quality"


def test_the_svg_script_fault_sends_markup_that_would_run(client):
    raw = client.images.with_raw_response.generate(model=PREVIEW_MODEL, prompt="a kite", size="1024x1024",
                                                   output_format="svg", extra_headers={FAULT: "svg-script"})
    data = base64.b64decode(raw.parse().data[0].b64_json)
    assert b"<script>" in data and b"onload=" in data


def test_the_engine_saves_gif_and_svg_as_they_came(offline_server, tmp_path):
    store = Store(tmp_path)
    conn = Connection(offline_server.base_url, "sk-offline", label="Offline backend", offline=True, timeout=30,
                      max_retries=0)
    gif = GenerateSpec(prompt="a bouncing ball", model=PREVIEW_MODEL, size="512x288", output_format="gif",
                       frame_count=3, frame_duration_ms=60)
    svg = GenerateSpec(prompt="a bouncing ball", model=PREVIEW_MODEL, size="1024x1024", output_format="svg",
                       svg_model="gpt-5.5")
    assert gif.problems() == [] and svg.problems() == []
    jobs = [engine_run(store, generate, s, connection=conn) for s in (gif, svg)]
    assert [j.status for j in jobs] == ["ok", "ok"], [e.sentence for j in jobs for e in j.errors]
    g, s = jobs[0].images[0], jobs[1].images[0]
    assert (g.format, g.width, g.height) == ("gif", 512, 288)
    with Image.open(io.BytesIO(store.read_bytes(g.hash, "gif"))) as img:
        assert img.n_frames == 3 and img.info["duration"] == 60
    assert s.format == "svg" and store.read_bytes(s.hash, "svg").startswith(b"<svg")
