"""POST /v1/images/edits on the offline backend, driven by the real openai SDK over HTTP."""

import base64
import io

import numpy as np
import openai
import pytest
from openai.types import ImageEditCompletedEvent, ImageEditPartialImageEvent
from PIL import Image, ImageDraw

from imagelab.catalog import catalog
from imagelab.costs import input_image_tokens
from imagelab.offline import edits

FAULT = "x-imagelab-fault"
PNG = "image/png"


def decode(b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


def encoded(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def noise(w: int, h: int, seed: int = 1, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, len(mode)), dtype=np.uint8), mode)


def solid(rgb, w=512, h=512) -> Image.Image:
    return Image.new("RGB", (w, h), rgb)


def as_file(img: Image.Image, name: str = "in.png") -> tuple[str, bytes, str]:
    return (name, encoded(img), PNG)


def half_mask(w: int, h: int) -> Image.Image:
    """Left half fully transparent (edit), right half opaque (keep), one column band half-transparent."""
    m = Image.new("RGBA", (w, h), (0, 0, 0, 255))
    ImageDraw.Draw(m).rectangle((0, 0, w // 2 - 1, h - 1), fill=(0, 0, 0, 0))
    ImageDraw.Draw(m).rectangle((w // 2, 0, w // 2 + 31, h - 1), fill=(0, 0, 0, 128))
    return m


def out_tokens(model, quality, shape):
    return catalog().output_table(model)["shapes"][quality][shape]


def bad(client, **kw) -> openai.BadRequestError:
    kw.setdefault("model", "gpt-image-1.5")
    kw.setdefault("prompt", "a blue sky")
    kw.setdefault("image", as_file(solid((200, 30, 30), 64, 64)))
    with pytest.raises(openai.BadRequestError) as info:
        client.images.edit(**kw)
    e = info.value
    assert e.status_code == 400 and e.type == "invalid_request_error"
    return e


# --------------------------------------------------------------------------- mask edits


def test_mask_edit_keeps_opaque_pixels_exactly(client):
    src = noise(1024, 1024)
    mask = half_mask(1024, 1024)
    r = client.images.edit(model="gpt-image-1.5", image=as_file(src), mask=as_file(mask, "mask.png"),
                           prompt="a blue sky with clouds", quality="low")
    assert r.size == "1024x1024" and r.output_format == "png" and r.quality == "low"
    out = decode(r.data[0].b64_json)
    assert out.format == "PNG" and out.size == (1024, 1024) and out.mode == "RGB"
    a, b = np.asarray(out), np.asarray(src)
    keep = np.asarray(mask)[..., 3] > 0  # opaque and half-transparent: kept
    assert np.array_equal(a[keep], b[keep])
    edit = ~keep
    changed = np.any(a[edit] != b[edit], axis=-1).sum()
    assert changed > 0.95 * edit.sum()


def test_mask_edit_custom_size_kept_on_gpt_image_2(client):
    src = noise(1024, 768, seed=2)
    m = Image.new("RGBA", (1024, 768), (0, 0, 0, 255))
    ImageDraw.Draw(m).ellipse((300, 200, 700, 560), fill=(0, 0, 0, 0))
    r = client.images.edit(model="gpt-image-2", image=[as_file(src)], mask=as_file(m, "m.png"), prompt="a red ball")
    assert r.size == "1024x768"
    a = np.asarray(decode(r.data[0].b64_json))
    keep = np.asarray(m)[..., 3] > 0
    assert np.array_equal(a[keep], np.asarray(src)[keep])
    assert np.any(a[~keep] != np.asarray(src)[~keep], axis=-1).mean() > 0.9


def test_output_size_rules(client):
    # not a size gpt-image-1.5 accepts → the nearest standard size by aspect ratio
    r = client.images.edit(model="gpt-image-1.5", image=as_file(solid((10, 200, 90), 900, 600)), prompt="x")
    assert r.size == "1536x1024" and decode(r.data[0].b64_json).size == (1536, 1024)
    r = client.images.edit(model="gpt-image-1.5", image=as_file(solid((10, 200, 90), 300, 500)), prompt="x")
    assert r.size == "1024x1536"
    # explicit size wins; the mask is scaled with the image
    src = solid((10, 200, 90), 1024, 1024)
    r = client.images.edit(model="gpt-image-1.5", image=as_file(src), mask=as_file(half_mask(1024, 1024)),
                           prompt="a purple sea", size="1536x1024")
    out = np.asarray(decode(r.data[0].b64_json))
    assert out.shape == (1024, 1536, 3)
    assert (np.abs(out[:, -200:].astype(int) - (10, 200, 90)).max(axis=-1) <= 2).mean() > 0.99


def test_rgba_input_transparent_output_and_jpeg(client):
    src = noise(1024, 1024, seed=3, mode="RGBA")
    r = client.images.edit(model="gpt-image-1.5", image=as_file(src), mask=as_file(half_mask(1024, 1024)),
                           prompt="a green field", background="transparent")
    out = decode(r.data[0].b64_json)
    assert r.background == "transparent" and out.mode == "RGBA"
    keep = np.asarray(half_mask(1024, 1024))[..., 3] > 0
    assert np.array_equal(np.asarray(out)[keep], np.asarray(src)[keep])
    r = client.images.edit(model="gpt-image-1.5", image=as_file(src), prompt="a green field", output_format="jpeg",
                           output_compression=60, n=2)
    assert r.output_format == "jpeg" and len(r.data) == 2
    assert all(decode(d.b64_json).format == "JPEG" for d in r.data)


# --------------------------------------------------------------------------- references, markup, mask drawing


def _share(img: Image.Image, rgb, tol=3) -> float:
    a = np.asarray(img.convert("RGB")).astype(int)
    return float((np.abs(a - np.asarray(rgb)).max(axis=-1) <= tol).mean())


def test_references_appear_in_result(client):
    colours = [(17, 201, 93), (240, 20, 180), (30, 60, 250), (250, 230, 10), (90, 40, 20)]
    files = [as_file(solid(c, 400 + 50 * i, 400), f"ref{i}.png") for i, c in enumerate(colours)]
    r = client.images.edit(model="gpt-image-1.5", image=files, prompt="a still life in one picture")
    out = decode(r.data[0].b64_json)
    assert out.size == (1024, 1024)  # the first reference (400x400) → nearest standard size, square
    for c in colours:
        assert _share(out, c) > 0.02, c
    # a single reference dominates the picture
    r = client.images.edit(model="gpt-image-2", image=as_file(solid(colours[1], 1024, 1024)), prompt="a poster")
    assert _share(decode(r.data[0].b64_json), colours[1]) > 0.5


def test_markup_repaints_only_the_strokes(client):
    src = noise(1024, 1024, seed=4)
    markup = Image.new("RGBA", (1024, 1024), (0, 0, 0, 0))
    ImageDraw.Draw(markup).line((100, 100, 900, 800), fill=(255, 0, 0, 255), width=60)
    ImageDraw.Draw(markup).ellipse((600, 100, 900, 400), fill=(0, 255, 0, 200))
    r = client.images.edit(model="gpt-image-2.5-sunburst", image=as_file(src), markup=as_file(markup, "markup.png"),
                           prompt="a golden bridge")
    a, b = np.asarray(decode(r.data[0].b64_json)), np.asarray(src)
    strokes = np.asarray(markup)[..., 3] > 0
    assert np.array_equal(a[~strokes], b[~strokes])
    assert np.any(a[strokes] != b[strokes], axis=-1).mean() > 0.95


def test_prompt_asking_for_a_mask_gets_black_and_white(client):
    r = client.images.edit(model="gpt-image-1.5", image=as_file(noise(1024, 1024)),
                           prompt="Draw a black-and-white mask of the main subject: white subject, black background")
    out = np.asarray(decode(r.data[0].b64_json).convert("RGB")).astype(int)
    assert set(np.unique(out)) <= {0, 255}
    assert (out[512, 512] == 255).all() and (out[5, 5] == 0).all() and (out[1018, 1018] == 0).all()


# --------------------------------------------------------------------------- usage, streaming, faults


def test_usage_counts_input_image_tokens(client):
    prompt = "make it blue"
    text = -(-len(prompt) // 4)
    src = as_file(solid((1, 2, 3), 1024, 1024))
    r = client.images.edit(model="gpt-image-1.5", image=src, prompt=prompt, quality="low")
    u = r.usage
    assert u.input_tokens_details.image_tokens == 194 and u.input_tokens_details.text_tokens == text
    assert u.input_tokens == 194 + text and u.output_tokens == out_tokens("gpt-image-1.5", "low", "square")
    assert u.total_tokens == u.input_tokens + u.output_tokens
    r = client.images.edit(model="gpt-image-1.5", image=src, prompt=prompt, quality="low", input_fidelity="high")
    assert r.usage.input_tokens_details.image_tokens == 194 + 4160
    r = client.images.edit(model="gpt-image-1.5", image=[src, as_file(solid((1, 2, 3), 1536, 1024))], prompt=prompt)
    assert r.usage.input_tokens_details.image_tokens == 194 + 323
    r = client.images.edit(model="gpt-image-1-mini", image=src, prompt=prompt, input_fidelity="low")
    assert r.usage.input_tokens_details.image_tokens == input_image_tokens(1024, 1024)


def test_stream_partial_images(client):
    src = noise(1024, 1024, seed=5)
    mask = half_mask(1024, 1024)
    stream = client.images.edit(model="gpt-image-1.5", image=as_file(src), mask=as_file(mask), prompt="a teal lake",
                                quality="medium", stream=True, partial_images=2)
    events = list(stream)
    assert [e.type for e in events] == ["image_edit.partial_image"] * 2 + ["image_edit.completed"]
    assert all(isinstance(e, ImageEditPartialImageEvent) for e in events[:2])
    assert [e.partial_image_index for e in events[:2]] == [0, 1]
    done = events[-1]
    assert isinstance(done, ImageEditCompletedEvent)
    assert done.size == "1024x1024" and done.output_format == "png" and done.quality == "medium"
    assert done.background == "opaque"
    assert done.usage.output_tokens == out_tokens("gpt-image-1.5", "medium", "square") + 200
    assert done.usage.input_tokens_details.image_tokens == 194
    final = np.asarray(decode(done.b64_json))
    keep = np.asarray(mask)[..., 3] > 0
    assert np.array_equal(final[keep], np.asarray(src)[keep])
    for e in events[:2]:
        assert decode(e.b64_json).size == (1024, 1024)


def test_stream_faults_apply(client):
    src = as_file(solid((9, 9, 9), 1024, 1024))
    events = list(client.images.edit(model="gpt-image-1.5", image=src, prompt="x", stream=True, partial_images=2,
                                     extra_headers={FAULT: "cut-stream"}))
    assert [e.type for e in events] == ["image_edit.partial_image"]
    events = list(client.images.edit(model="gpt-image-1.5", image=src, prompt="x", stream=True, n=3,
                                     extra_headers={FAULT: "cut-after:1"}))
    assert [e.type for e in events] == ["image_edit.completed"]
    r = client.images.edit(model="gpt-image-1.5", image=src, prompt="x", extra_headers={FAULT: "corrupt:0"})
    assert base64.b64decode(r.data[0].b64_json) == b"this is not an image"
    with pytest.raises(openai.RateLimitError):
        client.images.edit(model="gpt-image-1.5", image=src, prompt="x", extra_headers={FAULT: "429"})


# --------------------------------------------------------------------------- errors


def test_too_many_images(client):
    e = bad(client, image=[as_file(solid((i, i, i), 32, 32), f"{i}.png") for i in range(17)])
    assert e.body["message"] == ("Invalid 'image': array too long. Expected an array with maximum length 16, "
                                 "but got an array with length 17 instead.")
    assert e.body["param"] == "image"
    r = client.images.edit(model="gpt-image-1.5", prompt="x",
                           image=[as_file(solid((i, i, i), 32, 32), f"{i}.png") for i in range(16)])
    assert r.usage.input_tokens_details.image_tokens == 16 * input_image_tokens(32, 32)


def test_unsupported_mimetype(client):
    e = bad(client, image=("in.png", encoded(solid((1, 1, 1), 64, 64)), "application/octet-stream"))
    assert e.body["message"] == ("Invalid file 'image': unsupported mimetype ('application/octet-stream'). "
                                 "Supported file formats are 'image/jpeg', 'image/png', and 'image/webp'.")
    assert e.body["param"] == "image"
    # the SDK's own default for raw bytes without a name is octet-stream, too
    e = bad(client, image=encoded(solid((1, 1, 1), 64, 64)))
    assert "unsupported mimetype ('application/octet-stream')" in e.body["message"]


def test_unreadable_image(client):
    good = as_file(solid((1, 1, 1), 64, 64))
    e = bad(client, image=[good, ("b.png", b"\x89PNG not really", PNG)])
    assert e.code == "invalid_image_file"
    assert e.body["message"] == "Invalid image file or mode for image 2, please check your image file."
    e = bad(client, image=("b.jpg", b"garbage", "image/jpeg"))
    assert e.body["message"] == "Invalid image file or mode for image 1, please check your image file."


def test_image_too_large(client):
    e = bad(client, image=("big.png", b"\0" * (50 * 1024 * 1024 + 1), PNG))
    assert e.body["param"] == "image" and "50 MB" in e.body["message"]


def test_mask_errors(client):
    missing = "Invalid mask image format - mask image missing alpha channel"
    src = as_file(solid((1, 1, 1), 256, 256))
    e = bad(client, image=src, mask=("m.png", encoded(Image.new("RGB", (256, 256))), PNG))
    assert e.body["message"] == missing and e.body["param"] == "mask"
    e = bad(client, image=src, mask=("m.jpg", encoded(Image.new("RGB", (256, 256)), "JPEG"), "image/jpeg"))
    assert e.body["message"] == missing
    e = bad(client, image=src, mask=("m.webp", encoded(Image.new("RGBA", (256, 256)), "WEBP"), "image/webp"))
    assert e.body["message"] == missing  # a mask must be a PNG
    e = bad(client, image=src, mask=as_file(Image.new("RGBA", (256, 255))))
    assert e.body["message"] == "Invalid mask image format - mask size does not match image size"
    big = noise(1100, 1100, mode="RGBA")
    e = bad(client, image=as_file(noise(1100, 1100)), mask=as_file(big))
    assert e.body["param"] == "mask" and "4 MB" in e.body["message"]


def test_mask_and_markup_rules(client):
    src = as_file(solid((1, 1, 1), 256, 256))
    m = as_file(Image.new("RGBA", (256, 256)))
    e = bad(client, model="gpt-image-2.5-flare", image=src, mask=m, markup=m)
    assert e.body["message"] == "'mask' and 'markup' cannot be used together."
    e = bad(client, model="gpt-image-1.5", image=src, markup=m)
    assert e.body["message"] == "The model 'gpt-image-1.5' does not support the 'markup' parameter."
    e = bad(client, model="gpt-image-2.5-flare", image=src, markup=as_file(Image.new("RGBA", (128, 128))))
    assert e.body["message"] == "Invalid markup image format - markup size does not match image size"


def test_input_fidelity_rules(client):
    e = bad(client, model="gpt-image-2", input_fidelity="high")
    assert e.body["message"] == "The model 'gpt-image-2' does not support the 'input_fidelity' parameter."
    assert e.body["param"] == "input_fidelity"
    e = bad(client, model="gpt-image-1-mini", input_fidelity="high")
    assert e.body["message"] == "Invalid value: 'high'. Supported values are: 'low'."


def test_shared_output_checks_and_unknown_params(client):
    e = bad(client, response_format="b64_json")
    assert e.body["message"] == "Unknown parameter: 'response_format'."
    e = bad(client, size="1254x836")
    assert e.body["message"] == ("Invalid value: '1254x836'. Supported values are: '1024x1024', '1024x1536', "
                                 "'1536x1024', and 'auto'.")
    e = bad(client, n=11)
    assert e.body["param"] == "n"
    e = bad(client, output_format="png", output_compression=50)
    assert e.body["param"] == "output_compression"
    e = bad(client, partial_images=4, stream=True)
    assert e.body["param"] == "partial_images"
    e = bad(client, prompt="")
    assert e.body["param"] == "prompt"


@pytest.mark.parametrize("prompt,stage", [("a forbidden cat", "input"), ("forbidden-output dog", "output")])
def test_moderation(client, prompt, stage):
    with pytest.raises(openai.BadRequestError) as info:
        client.images.edit(model="gpt-image-1.5", image=as_file(solid((1, 1, 1), 64, 64)), prompt=prompt)
    e = info.value
    assert e.code == "moderation_blocked" and e.type == "image_generation_user_error"
    assert e.body["moderation_details"] == {"moderation_stage": stage}


def test_body_size_cap(client, monkeypatch):
    monkeypatch.setattr(edits, "MAX_BODY_BYTES", 100_000)
    with pytest.raises(openai.APIStatusError) as info:
        client.images.edit(model="gpt-image-1.5", image=("big.png", b"\0" * 200_000, PNG), prompt="x")
    assert info.value.status_code == 413 and "too large" in info.value.body["message"]
