"""The offline backend, driven by the real openai SDK over HTTP."""

import base64
import io
import time

import numpy as np
import openai
import pytest
from PIL import Image

from imagelab.catalog import catalog
from imagelab.offline import start_server
from imagelab.offline.render import compose, partial_states

FAULT = "x-imagelab-fault"


def decode(b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


def table(model):
    return catalog().output_table(model)["shapes"]


# --------------------------------------------------------------------------- success


@pytest.mark.parametrize("fmt,pil", [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
def test_formats_sizes_and_usage(client, fmt, pil):
    prompt = "a lighthouse on a cliff at dusk"
    r = client.images.generate(model="gpt-image-1.5", prompt=prompt, size="1536x1024", quality="low",
                               output_format=fmt)
    assert r.output_format == fmt and r.size == "1536x1024" and r.quality == "low" and r.background == "opaque"
    assert len(r.data) == 1 and r.data[0].revised_prompt is None
    img = decode(r.data[0].b64_json)
    assert img.format == pil and img.size == (1536, 1024)
    out = table("gpt-image-1.5")["low"]["landscape"]
    text = -(-len(prompt) // 4)
    u = r.usage
    assert u.input_tokens == text and u.input_tokens_details.text_tokens == text
    assert u.input_tokens_details.image_tokens == 0
    assert u.output_tokens == out and u.output_tokens_details.image_tokens == out
    assert u.total_tokens == text + out


def test_auto_size_and_quality_and_n(client):
    r = client.images.generate(model="gpt-image-2", prompt="two cats", n=2)
    assert r.size == "1024x1024"
    auto_q = catalog().raw["auto_quality_estimated_as"]
    assert r.quality == auto_q
    assert len(r.data) == 2
    assert r.usage.output_tokens == 2 * table("gpt-image-2")[auto_q]["square"]
    a, b = (np.asarray(decode(d.b64_json), dtype=np.int16) for d in r.data)
    assert np.abs(a - b).mean() > 5  # the two images differ visibly


def test_custom_size_scales_tokens(client):
    r = client.images.generate(model="gpt-image-2", prompt="a wide panorama", size="2048x1152", quality="high")
    assert decode(r.data[0].b64_json).size == (2048, 1152)
    expected = round(table("gpt-image-2")["high"]["landscape"] * 2048 * 1152 / (1536 * 1024))
    assert r.usage.output_tokens == expected


def test_deterministic(client):
    kw = dict(model="gpt-image-1-mini", prompt="a quiet pond with lilies", quality="low")
    a = client.images.generate(**kw).data[0].b64_json
    b = client.images.generate(**kw).data[0].b64_json
    c = client.images.generate(**{**kw, "prompt": "a noisy city street"}).data[0].b64_json
    assert a == b
    assert a != c


def test_colour_word_sets_dominant_colour(client):
    r = client.images.generate(model="gpt-image-1-mini", prompt="a red barn", quality="low")
    mean = np.asarray(decode(r.data[0].b64_json).convert("RGB"), dtype=np.float64).mean(axis=(0, 1))
    assert mean[0] > mean[1] + 40 and mean[0] > mean[2] + 40
    r = client.images.generate(model="gpt-image-1-mini", prompt="a blue whale", quality="low")
    mean = np.asarray(decode(r.data[0].b64_json).convert("RGB"), dtype=np.float64).mean(axis=(0, 1))
    assert mean[2] > mean[0] + 40


@pytest.mark.parametrize("model", ["gpt-image-2.5-sunburst", "gpt-image-2"])  # on gpt-image-2 a preview feature
def test_transparent_png_has_clear_pixels(client, model):
    r = client.images.generate(model=model, prompt="a gold coin", background="transparent", output_format="png")
    assert r.background == "transparent"
    img = decode(r.data[0].b64_json)
    assert img.mode == "RGBA"
    alpha = np.asarray(img)[..., 3]
    assert (alpha == 0).mean() > 0.2 and (alpha == 255).mean() > 0.2


def test_compression_changes_jpeg_size(client):
    kw = dict(model="gpt-image-1.5", prompt="a forest", quality="low", output_format="jpeg")
    small = client.images.generate(**kw, output_compression=10).data[0].b64_json
    big = client.images.generate(**kw, output_compression=95).data[0].b64_json
    assert len(base64.b64decode(small)) < len(base64.b64decode(big)) * 0.7


def test_stream_partials_then_completed(client):
    stream = client.images.generate(model="gpt-image-1.5", prompt="a purple mountain", stream=True,
                                    partial_images=2, quality="medium", output_format="webp")
    events = list(stream)
    assert [e.type for e in events] == ["image_generation.partial_image"] * 2 + ["image_generation.completed"]
    p0, p1, done = events
    assert isinstance(p0, openai.types.ImageGenPartialImageEvent)
    assert isinstance(done, openai.types.ImageGenCompletedEvent)
    assert [p0.partial_image_index, p1.partial_image_index] == [0, 1]
    for e in events:
        assert e.size == "1024x1024" and e.quality == "medium" and e.output_format == "webp"
        assert decode(e.b64_json).size == (1024, 1024)
    assert done.usage.output_tokens == table("gpt-image-1.5")["medium"]["square"] + 2 * 100
    assert done.usage.input_tokens == -(-len("a purple mountain") // 4)
    # partials are rougher states of the final picture, converging on it
    final = np.asarray(decode(done.b64_json).convert("RGB"), dtype=np.int16)
    d0 = np.abs(np.asarray(decode(p0.b64_json).convert("RGB"), dtype=np.int16) - final).mean()
    d1 = np.abs(np.asarray(decode(p1.b64_json).convert("RGB"), dtype=np.int16) - final).mean()
    assert d0 > d1 > 0


def test_partial_states_pure():
    img = compose("a teal boat", 256, 256)
    states = partial_states(img, 3)
    assert len(states) == 3 and all(s.size == (256, 256) for s in states)


def test_models_listing(client, offline_server):
    ids = [m.id for m in client.models.list()]
    assert "gpt-image-2" in ids and "gpt-image-1" not in ids and "dall-e-3" not in ids
    assert all(m.owned_by == "imagelab-offline" for m in client.models.list())


def test_request_id_header(client):
    raw = client.images.with_raw_response.generate(model="gpt-image-1-mini", prompt="hi", quality="low")
    assert raw.headers["x-request-id"].startswith("req_")


# --------------------------------------------------------------------------- errors


def _err(client, exc, **kw):
    kw.setdefault("prompt", "a cat")
    with pytest.raises(exc) as info:
        client.images.generate(**kw)
    e = info.value
    assert e.request_id and e.request_id.startswith("req_")
    return e


def test_invalid_size_message(client):
    e = _err(client, openai.BadRequestError, model="gpt-image-1.5", size="1254x836")
    assert e.message.endswith(
        "Invalid value: '1254x836'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.")
    assert e.body["param"] == "size" and e.body["type"] == "invalid_request_error"


def test_invalid_custom_size_explains_rule(client):
    e = _err(client, openai.BadRequestError, model="gpt-image-2", size="1254x836")
    assert "multiples of 16" in e.message


@pytest.mark.parametrize("param,value", [("response_format", "b64_json"), ("style", "vivid")])
def test_legacy_parameters_rejected(client, param, value):
    e = _err(client, openai.BadRequestError, model="gpt-image-2", **{param: value})
    assert f"Unknown parameter: '{param}'." in e.message


def test_unknown_model(client):
    e = _err(client, openai.NotFoundError, model="gpt-image-9")
    assert "The model `gpt-image-9` does not exist or you do not have access to it." in e.message
    assert e.code == "model_not_found"


def test_retired_model_names_successor(client):
    e = _err(client, openai.NotFoundError, model="gpt-image-1")
    assert "gpt-image-2.5-sunburst" in e.message


@pytest.mark.parametrize("kw,needle", [
    (dict(model="gpt-image-1.5", background="transparent", output_format="jpeg"), "Transparent background"),
    (dict(model="gpt-image-1.5", output_format="png", output_compression=50), "Compression less than 100"),
    (dict(n=0), "Expected a value >= 1"),
    (dict(n=11), "Expected a value <= 10"),
    (dict(partial_images=4, stream=False), "Expected a value <= 3"),
    (dict(partial_images=-1), "Expected a value >= 0"),
    (dict(prompt=""), "string too short"),
    (dict(prompt="x" * 32001), "maximum length 32000"),
    (dict(model="gpt-image-1.5", quality="xhigh"), "Invalid value: 'xhigh'"),
])
def test_parameter_errors(client, kw, needle):
    e = _err(client, openai.BadRequestError, **kw)
    assert needle in e.message


@pytest.mark.parametrize("prompt,stage", [("a forbidden thing", "input"), ("forbidden-output please", "output")])
def test_moderation(client, prompt, stage):
    e = _err(client, openai.BadRequestError, prompt=prompt)
    assert e.body["message"].startswith("Your request was rejected by the safety system.")
    assert e.code == "moderation_blocked" and e.type == "image_generation_user_error"
    assert e.body["moderation_details"] == {"moderation_stage": stage}


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("fault,exc,needle", [
    ("429", openai.RateLimitError, "Rate limit"),
    ("500", openai.InternalServerError, "The server had an error"),
    ("401", openai.AuthenticationError, "Incorrect API key"),
    ("403", openai.PermissionDeniedError, "Your organization must be verified to use the model `gpt-image-2`"),
])
def test_fault_header(client, fault, exc, needle):
    e = _err(client, exc, model="gpt-image-2", extra_headers={FAULT: fault})
    assert needle in e.message
    if fault == "429":
        assert e.response.headers["retry-after"] == "1"
        assert e.code == "rate_limit_exceeded"


def test_fault_latency(client):
    t = time.perf_counter()
    client.images.generate(model="gpt-image-1-mini", prompt="slow", quality="low",
                           extra_headers={FAULT: "latency:0.6"})
    assert time.perf_counter() - t >= 0.6


def test_fault_cut_stream(client):
    stream = client.images.generate(model="gpt-image-1.5", prompt="cut", stream=True, partial_images=2,
                                    extra_headers={FAULT: "cut-stream"})
    types = [e.type for e in stream]
    assert types == ["image_generation.partial_image"]


def test_server_wide_faults():
    srv = start_server(faults="500")
    try:
        with openai.OpenAI(api_key="sk-offline", base_url=srv.base_url, max_retries=0, timeout=10) as c, \
                pytest.raises(openai.InternalServerError):
            c.images.generate(prompt="x")
    finally:
        srv.stop()


def test_env_faults(monkeypatch):
    monkeypatch.setenv("IMAGELAB_OFFLINE_FAULT", "429")
    srv = start_server()
    try:
        with openai.OpenAI(api_key="sk-offline", base_url=srv.base_url, max_retries=0, timeout=10) as c, \
                pytest.raises(openai.RateLimitError):
            c.models.list()
    finally:
        srv.stop()
