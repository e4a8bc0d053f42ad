"""The offline backend against the API's own description: the operations the SDK exposes, the parameters
the API defines and the shapes it answers with, driven by the real openai SDK."""

import base64
import io

import numpy as np
import openai
import pytest
from openai.types import ImagesResponse
from PIL import Image, ImageDraw

MODEL = "gpt-5.5"


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def data_url(img: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(png(img)).decode()


def decode(b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


def json_edit(client, **body) -> ImagesResponse:
    body.setdefault("model", "gpt-image-1.5")
    body.setdefault("prompt", "a red kite")
    body.setdefault("quality", "low")
    return client.post("/images/edits", body=body, cast_to=ImagesResponse)


def tool_response(client, text="a small red boat", **kw):
    kw.setdefault("tools", [{"type": "image_generation", "quality": "low", "size": "1024x1024"}])
    return client.responses.create(model=MODEL, input=text, **kw)


# --------------------------------------------------------------------------- image results


def test_image_results_leave_revised_prompt_out(client):
    raw = client.images.with_raw_response.generate(model="gpt-image-1.5", prompt="a fox", quality="low")
    assert raw.http_response.json()["data"] and all("revised_prompt" not in d for d in raw.http_response.json()["data"])
    raw = client.images.with_raw_response.edit(model="gpt-image-1.5", prompt="a fox", quality="low",
                                               image=("a.png", png(Image.new("RGB", (64, 64), "red")), "image/png"))
    assert all("revised_prompt" not in d for d in raw.http_response.json()["data"])


# --------------------------------------------------------------------------- edits with a JSON body


def test_json_edit_with_file_id_and_data_url(client):
    blue = client.files.create(file=("blue.png", png(Image.new("RGB", (256, 256), (0, 0, 255))), "image/png"),
                               purpose="vision")
    green = Image.new("RGB", (256, 256), (0, 255, 0))
    r = json_edit(client, images=[{"file_id": blue.id}, {"image_url": data_url(green)}], size="1024x1024")
    img = np.asarray(decode(r.data[0].b64_json).convert("RGB")).astype(int)
    assert img.shape == (1024, 1024, 3)
    # both references appear as tiles: pure blue and pure green pixels are both there
    assert ((img[..., 2] > 240) & (img[..., 0] < 15) & (img[..., 1] < 15)).mean() > 0.02
    assert ((img[..., 1] > 240) & (img[..., 0] < 15) & (img[..., 2] < 15)).mean() > 0.02
    assert r.usage.input_tokens_details.image_tokens > 0


def test_json_edit_with_a_mask_keeps_what_the_mask_protects(client):
    base = Image.new("RGB", (256, 256), (10, 200, 30))
    mask = Image.new("RGBA", (256, 256), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((0, 0, 127, 255), fill=(0, 0, 0, 0))
    mask_file = client.files.create(file=("mask.png", png(mask), "image/png"), purpose="vision")
    r = json_edit(client, images=[{"image_url": data_url(base)}], mask={"file_id": mask_file.id},
                  prompt="a purple storm", size="1024x1024")
    out = np.asarray(decode(r.data[0].b64_json).convert("RGB")).astype(int)
    assert (out[:, 512:] == [10, 200, 30]).all()  # opaque in the mask: kept exactly
    assert (np.abs(out[:, :500] - [10, 200, 30]).max(axis=-1) > 20).mean() > 0.5  # transparent: repainted


def test_json_edit_refuses_remote_urls_unknown_files_and_too_many_images(client):
    with pytest.raises(openai.BadRequestError) as info:
        json_edit(client, images=[{"image_url": "https://example.com/cat.png"}])
    assert info.value.body["param"] == "images[0].image_url" and "cannot fetch image URLs" in info.value.message
    with pytest.raises(openai.BadRequestError) as info:
        json_edit(client, images=[{"file_id": "file-nope"}])
    assert info.value.body["message"] == "No such File object: file-nope"
    dot = {"image_url": data_url(Image.new("RGB", (16, 16)))}
    with pytest.raises(openai.BadRequestError) as info:
        json_edit(client, images=[dot] * 17)
    assert info.value.code == "array_above_max_length" and info.value.body["param"] == "images"
    with pytest.raises(openai.BadRequestError) as info:
        json_edit(client, images=[dot], image=dot)
    assert info.value.body["message"] == "Unknown parameter: 'image'."


# --------------------------------------------------------------------------- /v1/responses parameters


def test_responses_accept_every_parameter_the_api_defines(client):
    r = tool_response(client, conversation=None, prompt_cache_key="k", prompt_cache_retention="24h",
                      context_management=[{"type": "compaction", "compact_threshold": 1000}],
                      moderation={"model": "omni-moderation-latest"}, prompt_cache_options={},
                      image={"context_compression": "auto"}, access_programs={"cyber": "standard"},
                      tools=[{"type": "web_search"}, {"type": "function", "name": "f", "parameters": {}},
                             {"type": "image_generation", "quality": "low", "size": "1024x1024"}])
    assert r.status == "completed"
    assert [o.type for o in r.output] == ["image_generation_call", "message"]


def test_responses_refuse_unknown_parameters_and_tool_types(client):
    with pytest.raises(openai.BadRequestError) as info:
        tool_response(client, extra_body={"teleport": True})
    assert info.value.body["message"] == "Unknown parameter: 'teleport'." and info.value.code == "unknown_parameter"
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model=MODEL, input="x", tools=[{"type": "teleporter"}])
    e = info.value
    assert e.code == "invalid_value" and e.body["param"] == "tools[0].type"
    assert e.body["message"].startswith("Invalid value: 'teleporter'. Supported values are: 'function',")


def test_delete_a_response(client):
    r = tool_response(client)
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(r.id)


def test_input_items_of_a_response(client):
    r = client.responses.create(model=MODEL, input=[
        {"role": "developer", "content": "be brief"},
        {"role": "user", "content": [{"type": "input_text", "text": "a blue lake"}]},
    ])
    page = client.responses.input_items.list(r.id)
    assert [(i.type, i.role) for i in page.data] == [("message", "user"), ("message", "developer")]  # newest first
    assert page.data[0].content[0].text == "a blue lake" and page.data[1].content[0].text == "be brief"
    assert all(i.id for i in page.data) and page.has_more is False
    first = client.responses.input_items.list(r.id, order="asc", limit=1)
    assert [i.role for i in first.data] == ["developer"] and first.has_more is True
    rest = client.responses.input_items.list(r.id, order="asc", after=first.data[0].id)
    assert [i.role for i in rest.data] == ["user"]
    with pytest.raises(openai.NotFoundError):
        client.responses.input_items.list("resp_nope")


# --------------------------------------------------------------------------- models and files


def test_retrieve_a_model(client):
    m = client.models.retrieve("gpt-image-2")
    assert m.id == "gpt-image-2" and m.object == "model"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-image-1")  # retired
    assert info.value.code == "model_not_found"


def test_list_files_pages_like_the_api(client):
    made = [client.files.create(file=(f"{i}.jsonl", b"{}\n", "application/jsonl"), purpose="batch").id
            for i in range(3)]
    listed = [f.id for f in client.files.list(purpose="batch")]
    assert listed[:3] == made[::-1]  # newest first
    page = client.files.list(purpose="batch", limit=2, order="asc")
    assert page.has_more is True and len(page.data) == 2
    everything = [f.id for f in client.files.list(purpose="batch", limit=1, order="asc")]  # the SDK follows `after`
    assert everything[-3:] == made
    assert made[0] not in [f.id for f in client.files.list(purpose="vision")]
    with pytest.raises(openai.BadRequestError) as info:
        client.files.list(limit=0)
    assert info.value.body["param"] == "limit"
