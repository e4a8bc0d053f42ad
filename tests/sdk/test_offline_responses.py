"""POST /v1/responses (image_generation tool) and /v1/files on the offline backend, via the real SDK."""

import base64
import io

import numpy as np
import openai
import pytest
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseImageGenCallPartialImageEvent,
)
from PIL import Image, ImageDraw

from imagelab.catalog import catalog
from imagelab.costs import input_image_tokens
from imagelab.offline import responses as offline_responses

FAULT = "x-imagelab-fault"
MODEL = "gpt-5.5"


def decode(b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def data_url(img: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(png(img)).decode()


def checker(w=256, h=256, a=(255, 0, 255), b=(0, 255, 0), cell=32) -> Image.Image:
    img = Image.new("RGB", (w, h), a)
    d = ImageDraw.Draw(img)
    for y in range(0, h, cell):
        for x in range((y // cell) % 2 * cell, w, 2 * cell):
            d.rectangle((x, y, x + cell - 1, y + cell - 1), fill=b)
    return img


def image_call(resp):
    calls = [o for o in resp.output if o.type == "image_generation_call"]
    assert len(calls) == 1
    return calls[0]


def picture(resp) -> np.ndarray:
    return np.asarray(decode(image_call(resp).result).convert("RGB")).astype(int)


def make(client, text, **kw):
    tool = {"type": "image_generation", "quality": "low", **kw.pop("tool", {})}
    return client.responses.create(model=MODEL, input=text, tools=[tool], **kw)


def user(*parts):
    return [{"role": "user", "content": list(parts)}]


def border(a: np.ndarray, frac=0.2) -> np.ndarray:
    h, w = a.shape[:2]
    m = np.ones((h, w), bool)
    m[int(h * frac):int(h * (1 - frac)), int(w * frac):int(w * (1 - frac))] = False
    return m


def contains_colour(a: np.ndarray, rgb, tol=8) -> float:
    return float((np.abs(a - np.array(rgb)).max(axis=-1) <= tol).mean())


# --------------------------------------------------------------------------- basics


def test_basic_response_shape_and_usage(client):
    r = make(client, "a red fox in the snow")
    assert r.object == "response" and r.status == "completed" and r.model == MODEL
    assert r.id.startswith("resp_")
    call = image_call(r)
    assert call.id.startswith("ig_") and call.status == "completed"
    assert call.size == "1024x1024" and call.quality == "low" and call.output_format == "png"
    assert call.action == "auto" and "red fox" in call.revised_prompt.lower()
    assert decode(call.result).size == (1024, 1024)
    assert r.output[-1].type == "message" and r.output_text.startswith("Here is")
    tool_model = catalog().default_tool_model
    assert r.tools[0].model == tool_model
    per = catalog().output_table(tool_model)["shapes"]["low"]["square"]
    gen = r.tool_usage.image_gen
    assert gen.output_tokens == per and gen.input_tokens_details.image_tokens == 0
    assert r.usage.output_tokens > per and r.usage.input_tokens >= gen.input_tokens
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    # stored and retrievable
    again = client.responses.retrieve(r.id)
    assert again.id == r.id and image_call(again).result == call.result


def test_output_options_apply(client):
    r = make(client, "a kite", tool={"size": "1536x1024", "output_format": "jpeg", "output_compression": 50,
                                    "quality": "medium"})
    call = image_call(r)
    assert call.size == "1536x1024" and call.output_format == "jpeg" and call.quality == "medium"
    img = decode(call.result)
    assert img.format == "JPEG" and img.size == (1536, 1024)


def test_no_tool_gives_text_only(client):
    r = client.responses.create(model=MODEL, input="hello")
    assert [o.type for o in r.output] == ["message"] and r.output_text


# --------------------------------------------------------------------------- multi-turn


def test_chaining_derives_from_previous(client):
    first = make(client, "a red fox in the snow")
    second = make(client, "make the sky purple", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    a, b = picture(first), picture(second)
    m = border(a)
    assert (a[m] == b[m]).all()  # the previous image kept pixel-exact outside the centre
    assert (a[~m] != b[~m]).any(axis=-1).mean() > 0.3  # the new prompt painted in the centre
    revised = image_call(second).revised_prompt.lower()
    assert "purple" in revised and "red fox" in revised
    # a third turn sees the whole chain of texts
    third = make(client, "add a yellow moon", previous_response_id=second.id)
    revised = image_call(third).revised_prompt.lower()
    assert "red fox" in revised and "purple" in revised and "yellow moon" in revised


def test_branching_from_the_same_response(client):
    root = make(client, "a lighthouse at dusk")
    left = make(client, "paint it blue", previous_response_id=root.id)
    right = make(client, "paint it orange", previous_response_id=root.id)
    a, lft, r = picture(root), picture(left), picture(right)
    m = border(a)
    assert (a[m] == lft[m]).all() and (a[m] == r[m]).all()
    assert (lft[~m] != r[~m]).any(axis=-1).mean() > 0.3
    assert "orange" not in image_call(left).revised_prompt and "blue" not in image_call(right).revised_prompt


def test_image_generation_call_reference(client):
    first = make(client, "a green castle")
    ig = image_call(first).id
    r = client.responses.create(model=MODEL, input=[
        *user({"type": "input_text", "text": "now make it look realistic"}),
        {"type": "image_generation_call", "id": ig},
    ], tools=[{"type": "image_generation", "quality": "low"}])
    a, b = picture(first), picture(r)
    m = border(a)
    assert (a[m] == b[m]).all()
    assert "green castle" in image_call(r).revised_prompt.lower()


def test_unknown_previous_response(client):
    with pytest.raises(openai.BadRequestError) as e:
        make(client, "x", previous_response_id="resp_xyz")
    err = e.value.body
    assert err["message"] == "Previous response with id 'resp_xyz' not found."
    assert err["param"] == "previous_response_id" and err["code"] == "previous_response_not_found"


def test_unknown_image_generation_call(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=MODEL, input=[{"type": "image_generation_call", "id": "ig_nope"}],
                                tools=[{"type": "image_generation"}])
    assert "ig_nope" in e.value.body["message"] and "not found" in e.value.body["message"]


def test_store_false_is_not_kept(client):
    r = make(client, "a boat", store=False)
    with pytest.raises(openai.BadRequestError) as e:
        make(client, "x", previous_response_id=r.id)
    assert e.value.body["code"] == "previous_response_not_found"


# --------------------------------------------------------------------------- input images, files, masks


def test_data_url_references_appear(client):
    ref = Image.new("RGB", (300, 300), (255, 0, 255))
    r = client.responses.create(model=MODEL, input=user(
        {"type": "input_text", "text": "a gift basket with this item"},
        {"type": "input_image", "image_url": data_url(ref)}),
        tools=[{"type": "image_generation", "quality": "low"}])
    assert contains_colour(picture(r), (255, 0, 255)) > 0.2
    assert image_call(r).action == "auto"
    gen = r.tool_usage.image_gen
    assert gen.input_tokens_details.image_tokens == input_image_tokens(300, 300, high_fidelity=True)


def test_file_upload_and_use(client):
    data = png(checker())
    f = client.files.create(file=("a.png", data, "image/png"), purpose="vision")
    assert f.id.startswith("file-") and f.object == "file" and f.bytes == len(data)
    assert f.filename == "a.png" and f.purpose == "vision" and f.status == "processed"
    assert client.files.retrieve(f.id).id == f.id
    assert client.files.content(f.id).content == data
    r = client.responses.create(model=MODEL, input=user(
        {"type": "input_text", "text": "a shop window with these items"},
        {"type": "input_image", "file_id": f.id}),
        tools=[{"type": "image_generation", "quality": "low"}])
    a = picture(r)
    assert contains_colour(a, (255, 0, 255)) > 0.1 and contains_colour(a, (0, 255, 0)) > 0.1


def test_file_errors(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.files.create(file=("a.txt", b"not an image", "text/plain"), purpose="vision")
    assert "vision" in e.value.body["message"]
    with pytest.raises(openai.NotFoundError) as e:
        client.files.retrieve("file-missing")
    assert e.value.body["message"] == "No such File object: file-missing"
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=MODEL, input=user({"type": "input_image", "file_id": "file-missing"}),
                                tools=[{"type": "image_generation"}])
    assert e.value.body["message"] == "No such File object: file-missing"
    assert e.value.body["param"] == "input[0].content[0].file_id"


def test_input_image_mask_keeps_opaque_area(client):
    base = checker(512, 512)
    mask = Image.new("RGBA", (512, 512), (0, 0, 0, 255))
    ImageDraw.Draw(mask).rectangle((0, 0, 255, 511), fill=(0, 0, 0, 0))  # left half: repaint
    img_id = client.files.create(file=("base.png", png(base), "image/png"), purpose="vision").id
    mask_id = client.files.create(file=("mask.png", png(mask), "image/png"), purpose="vision").id
    r = client.responses.create(model=MODEL, input=user(
        {"type": "input_text", "text": "put a flamingo in the pool"},
        {"type": "input_image", "file_id": img_id}),
        tools=[{"type": "image_generation", "quality": "low", "size": "1024x1024",
                "input_image_mask": {"file_id": mask_id}}])
    out = np.asarray(decode(image_call(r).result).convert("RGB").resize((512, 512), Image.Resampling.NEAREST))
    ref = np.asarray(base).astype(int)
    right = np.abs(out[:, 300:].astype(int) - ref[:, 300:]).mean()
    left = np.abs(out[:, :200].astype(int) - ref[:, :200]).mean()
    assert right < 10 and left > 40


def test_input_image_mask_size_mismatch(client):
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=MODEL, input=user(
            {"type": "input_text", "text": "edit"},
            {"type": "input_image", "image_url": data_url(checker(128, 128))}),
            tools=[{"type": "image_generation", "input_image_mask": {"image_url": data_url(mask)}}])
    assert "size does not match" in e.value.body["message"]
    assert e.value.body["param"] == "tools[0].input_image_mask"


def test_edit_action_needs_an_image(client):
    with pytest.raises(openai.BadRequestError) as e:
        make(client, "edit something", tool={"action": "edit"})
    assert e.value.body["param"] == "tools[0].action"


# --------------------------------------------------------------------------- validation, moderation, faults


@pytest.mark.parametrize("tool, param", [
    ({"size": "999x999"}, "tools[0].size"),
    ({"quality": "ultra"}, "tools[0].quality"),
    ({"output_format": "png", "output_compression": 50}, "tools[0].output_compression"),
    ({"background": "transparent", "output_format": "jpeg"}, "tools[0].background"),
    ({"model": "gpt-image-9"}, "tools[0].model"),
    ({"model": "gpt-image-1"}, "tools[0].model"),
    ({"partial_images": 5}, "tools[0].partial_images"),
    ({"n": 2}, "tools[0].n"),
    ({"action": "paint"}, "tools[0].action"),
])
def test_tool_option_errors(client, tool, param):
    with pytest.raises(openai.BadRequestError) as e:
        make(client, "a cat", tool=tool)
    assert e.value.body["param"] == param


def test_top_level_errors(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model="", input="a cat", tools=[{"type": "image_generation"}])
    assert e.value.body["param"] == "model"
    with pytest.raises(openai.BadRequestError) as e:
        client.responses.create(model=MODEL, input=user({"type": "input_image", "image_url": "data:text/plain,hi"}),
                                tools=[{"type": "image_generation"}])
    assert e.value.body["param"] == "input[0].content[0].image_url"


def test_moderation(client):
    with pytest.raises(openai.BadRequestError) as e:
        make(client, "something forbidden")
    assert e.value.body["code"] == "moderation_blocked"
    assert e.value.body["moderation_details"]["moderation_stage"] == "input"
    with pytest.raises(openai.BadRequestError):
        make(client, "something forbidden", stream=True)


def test_fault_status(client):
    with pytest.raises(openai.RateLimitError):
        make(client, "a cat", extra_headers={FAULT: "429"})


# --------------------------------------------------------------------------- streaming


def test_stream_event_order_and_types(client):
    stream = make(client, "a yellow sun", stream=True, tool={"partial_images": 2})
    events = list(stream)
    types = [e.type for e in events]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    head = ["response.created", "response.in_progress", "response.output_item.added",
            "response.image_generation_call.in_progress", "response.image_generation_call.generating",
            "response.image_generation_call.partial_image", "response.image_generation_call.partial_image",
            "response.image_generation_call.completed", "response.output_item.done",
            "response.output_item.added"]
    assert types[:len(head)] == head
    assert types[-2:] == ["response.output_item.done", "response.completed"]
    assert "response.output_text.done" in types
    assert isinstance(events[0], ResponseCreatedEvent)
    partials = [e for e in events if isinstance(e, ResponseImageGenCallPartialImageEvent)]
    assert [p.partial_image_index for p in partials] == [0, 1]
    call_id = events[2].item.id
    assert all(p.item_id == call_id and p.output_index == 0 for p in partials)
    decode(partials[0].partial_image_b64)
    done = events[-1]
    assert isinstance(done, ResponseCompletedEvent)
    final = done.response
    assert final.status == "completed" and image_call(final).id == call_id
    assert final.output_text.startswith("Here is")
    assert final.tool_usage.image_gen.output_tokens == (
        catalog().output_table(catalog().default_tool_model)["shapes"]["low"]["square"] + 200)
    # the streamed response can be continued
    nxt = make(client, "add clouds", previous_response_id=final.id)
    assert "yellow sun" in image_call(nxt).revised_prompt.lower()


def test_stream_helper(client):
    with client.responses.stream(model=MODEL, input="a blue whale",
                                 tools=[{"type": "image_generation", "quality": "low", "partial_images": 1}]) as s:
        kinds = [e.type for e in s]
        final = s.get_final_response()
    assert "response.image_generation_call.partial_image" in kinds
    assert image_call(final).result and final.output_text


def test_stream_cut(client):
    stream = make(client, "a yellow sun", stream=True, tool={"partial_images": 2},
                  extra_headers={FAULT: "cut-stream"})
    types = [e.type for e in stream]
    assert types[-1] == "response.image_generation_call.partial_image"
    assert types.count("response.image_generation_call.partial_image") == 1
    assert "response.completed" not in types


def test_corrupt_fault(client):
    r = make(client, "a cat", extra_headers={FAULT: "corrupt:0"})
    assert base64.b64decode(image_call(r).result) == b"this is not an image"


# --------------------------------------------------------------------------- pure logic


def test_bounded_store_drops_oldest():
    s = offline_responses.BoundedStore(3, 100)
    for i in range(5):
        s.put(f"k{i}", i, 10)
    assert len(s) == 3 and "k0" not in s and s.get("k4") == 4
    s.put("big", "x", 90)
    assert "big" in s and s.total <= 100
