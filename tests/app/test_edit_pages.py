"""Reference edit and Mask edit through AppTest, against the offline backend's /v1/images/edits."""

import io
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

import components.mask_canvas as mask_canvas
from components import state
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page, settle, shown


def seed(data_dir, prompts=("A red square room", "A blue ocean at noon")):
    store = Store(data_dir)
    hashes = []
    for prompt in prompts:
        run = store.start_run("generate", "gpt-image-2", prompt, {})
        rec = store.add_image(run, 0, render(prompt, 1024, 1024, quality="low"), "png", 1024, 1024)
        store.finish_run(run, "ok")
        hashes.append(rec.hash)
    return store, hashes


def test_reference_edit_makes_an_image_from_handed_over_inputs(data_dir):
    store, hashes = seed(data_dir)
    at = open_page("pages/2_Reference_edit.py")
    at.session_state[state.handoff_key(state.REF)] = hashes
    at.run()
    assert not at.exception
    assert [img.hash for img in at.session_state[f"{state.REF}_images"]] == hashes
    assert any("first image is the one a mask applies to" in c.value for c in at.caption)
    at.text_area(key=state.REF_PROMPT).input("Both rooms side by side in a gallery").run()
    at.selectbox(key=f"{state.REF_OPTS}_quality").select("low").run()
    at.button(key=state.REF_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.error, shown(at.error)
    run = store.runs()[0]
    assert run.page == "reference_edit" and run.status == "ok"
    assert [i["hash"] for i in run.params["images"]] == hashes
    out = store.images_of_run(run.id)[0]
    assert store.parents_of(out.id) == hashes
    assert run.usage["input_tokens_details"]["image_tokens"] > 0
    assert len(at.get("image")) >= 3  # two inputs and the result


def test_reference_inputs_reorder_and_remove(data_dir):
    _, hashes = seed(data_dir)
    at = open_page("pages/2_Reference_edit.py")
    at.session_state[state.handoff_key(state.REF)] = hashes
    at.run()
    at.button(key=f"btn_{state.REF}_down_0").click().run()
    assert [i.hash for i in at.session_state[f"{state.REF}_images"]] == hashes[::-1]
    at.button(key=f"btn_{state.REF}_remove_0").click().run()
    assert [i.hash for i in at.session_state[f"{state.REF}_images"]] == hashes[:1]


def test_input_fidelity_only_where_the_model_takes_it(data_dir):
    at = open_page("pages/2_Reference_edit.py").run()
    at.toggle(key=state.MODELS_OLDER).set_value(True).run()  # gpt-image-1.5 is retiring
    at.selectbox(key=state.REF_MODEL).select("gpt-image-1.5").run()
    assert at.get("button_group")  # the input fidelity control
    at.selectbox(key=state.REF_MODEL).select("gpt-image-2").run()
    assert not at.get("button_group")
    assert any("sets input fidelity itself" in c.value for c in at.caption)


def test_reference_edit_without_images_says_what_to_do(data_dir):
    at = open_page("pages/2_Reference_edit.py").run()
    at.text_area(key=state.REF_PROMPT).input("a basket").run()
    assert "Add at least one image to edit." in shown(at.warning)
    assert at.button(key=state.REF_BUTTON).disabled
    assert Store(data_dir).runs() == []


@pytest.fixture
def painted_canvas(monkeypatch):
    """Stand in for the browser canvas: strokes over the top-left quarter of the picture."""
    def fake_canvas(**kw):
        strokes = np.zeros((kw["height"], kw["width"], 4), np.uint8)
        strokes[: kw["height"] // 4, : kw["width"] // 4] = (*mask_canvas.PAINT_RGB, 153)
        return SimpleNamespace(image_data=strokes)

    monkeypatch.setattr(mask_canvas, "draw_canvas", fake_canvas)


def test_mask_edit_repaints_only_the_painted_part(data_dir, painted_canvas):
    store, hashes = seed(data_dir, ("A green meadow with one white horse",))
    at = open_page("pages/3_Mask_edit.py")
    at.session_state[state.handoff_key(state.MASK)] = hashes
    at.run()
    assert not at.exception
    at.text_area(key=state.MASK_PROMPT).input("The same meadow with a red barn in the top left").run()
    at.selectbox(key=f"{state.MASK_OPTS}_quality").select("low").run()
    at.button(key=state.MASK_BUTTON).click().run()
    settle(at, data_dir)
    assert not at.exception and not at.error, shown(at.error)
    run = store.runs()[0]
    assert run.page == "mask_edit" and run.params["mask"]["edit_fraction"] == pytest.approx(1 / 16, abs=0.01)
    src = np.asarray(Image.open(io.BytesIO(store.read_bytes(hashes[0]))).convert("RGB")).astype(int)
    out_rec = store.images_of_run(run.id)[0]
    out = np.asarray(Image.open(io.BytesIO(store.read_bytes(out_rec.hash))).convert("RGB")).astype(int)
    assert out.shape == src.shape
    assert (out[300:, 300:] == src[300:, 300:]).all()          # far from the strokes: untouched
    assert (np.abs(out[:240, :240] - src[:240, :240]).sum(axis=-1) > 0).mean() > 0.5  # under them: repainted
    mask_hash = run.params["mask"]["hash"]
    assert store.format_of(mask_hash) == "png"


def test_mask_edit_needs_a_mark_first(data_dir, monkeypatch):
    monkeypatch.setattr(mask_canvas, "draw_canvas", lambda **kw: SimpleNamespace(image_data=None))
    _, hashes = seed(data_dir, ("A calm lake",))
    at = open_page("pages/3_Mask_edit.py")
    at.session_state[state.handoff_key(state.MASK)] = hashes
    at.run()
    at.text_area(key=state.MASK_PROMPT).input("a lake with a boat").run()
    assert any("Mark the part to change" in e for e in shown(at.warning))
    assert at.button(key=state.MASK_BUTTON).disabled


def test_mask_edits_button_waits_for_a_stroke_before_the_prompt_is_typed(data_dir, monkeypatch):
    monkeypatch.setattr(mask_canvas, "draw_canvas",
                        lambda **kw: SimpleNamespace(image_data=np.zeros((kw["height"], kw["width"], 4), np.uint8)))
    _, hashes = seed(data_dir, ("A calm lake",))
    at = open_page("pages/3_Mask_edit.py")
    at.session_state[state.handoff_key(state.MASK)] = hashes
    at.run()
    assert not at.exception
    assert at.button(key=state.MASK_BUTTON).disabled  # the canvas is there, empty: nothing to send yet
    assert "Mark the part to change first" in " ".join(c.value for c in at.caption)


def test_invert_with_nothing_painted_says_nothing_is_masked(data_dir, monkeypatch):
    """Every stroke undone with Invert on is no mask at all, not a silent "repaint everything"."""
    monkeypatch.setattr(mask_canvas, "draw_canvas",
                        lambda **kw: SimpleNamespace(image_data=np.zeros((kw["height"], kw["width"], 4), np.uint8)))
    _, hashes = seed(data_dir, ("A calm lake",))
    at = open_page("pages/3_Mask_edit.py")
    at.session_state[state.handoff_key(state.MASK)] = hashes
    at.run()
    before = len(Store(data_dir).runs())
    at.toggle(key=state.MASK_INVERT).set_value(True).run()
    assert not at.exception
    assert any(w.startswith("Nothing is masked: Invert is on but nothing is painted") for w in shown(at.warning))
    assert not any("100%" in img.caption for el in at.get("image") for img in el.proto.imgs)
    assert at.button(key=state.MASK_BUTTON).disabled
    assert len(Store(data_dir).runs()) == before


def test_ask_the_model_for_a_mask(data_dir, monkeypatch):
    _, hashes = seed(data_dir, ("A grey cat on a yellow sofa",))
    at = open_page("pages/3_Mask_edit.py")
    at.session_state[state.handoff_key(state.MASK)] = hashes
    at.run()
    at.get("button_group")[0].set_value("Ask the model for a mask").run()
    at.text_input(key=state.MASK_SUBJECT).input("the cat").run()
    at.button(key="btn_mask_ask").click().run()
    settle(at, data_dir)
    assert not at.exception and not at.error, shown(at.error)
    image_hash, mask_png, problem = at.session_state[state.MASK_DRAWN]
    assert problem is None
    assert image_hash == hashes[0]
    mask = Image.open(io.BytesIO(mask_png))
    assert mask.size == (1024, 1024) and mask.mode == "RGBA"
    alpha = np.asarray(mask.getchannel("A"))
    assert alpha[512, 512] == 0 and alpha[5, 5] == 255   # the subject (centre) is to be edited


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _uploader(at, prefix: str):
    return next(up for up in at.file_uploader if (up.key or "").startswith(prefix))


def test_a_one_pixel_upload_is_refused_with_a_sentence_and_nothing_is_sent(data_dir):
    at = open_page("pages/2_Reference_edit.py").run()
    dot = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 0, 0)).save(dot, "PNG")
    _uploader(at, f"upl_{state.REF}_").set_value([("dot.png", dot.getvalue(), "image/png")])
    at.run()
    assert not at.exception
    assert shown(at.error) == [
        '"dot.png" is only 1×1 pixels; the API needs at least 16 pixels on each side. Upload a bigger picture.']
    assert at.session_state[f"{state.REF}_images"] == []
    at.text_area(key=state.REF_PROMPT).input("a basket").run()
    assert at.button(key=state.REF_BUTTON).disabled  # nothing to send: the button cannot be pressed
    store = Store(data_dir)
    assert store.runs() == []
    assert not [p for p in store.images_dir.rglob("*") if p.is_file()]


def test_a_48_megapixel_photo_is_scaled_to_what_the_model_reads(data_dir, painted_canvas):
    photo = Image.new("RGB", (8000, 6000), (0, 0, 255))
    photo.paste((255, 0, 0), (0, 0, 4000, 6000))
    at = open_page("pages/3_Mask_edit.py").run()
    _uploader(at, f"upl_{state.MASK}_").set_value(("holiday.jpg", _jpeg(photo), "image/jpeg"))
    del photo
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = [c.value for c in at.caption]
    assert "Scaled from 8000×6000 to 2048×1536, the most this model reads." in captions
    assert "2048×1536 · " in " ".join(captions)
    (staged,) = at.session_state[f"{state.MASK}_images"]
    stored = Image.open(io.BytesIO(Store(data_dir).read_bytes(staged.hash)))
    assert stored.size == (2048, 1536) == (staged.width, staged.height)
    assert stored.convert("RGB").getpixel((500, 700))[0] > 200       # still the same picture: red left
    at.text_area(key=state.MASK_PROMPT).input("The same wall, painted green on the left").run()
    at.selectbox(key=f"{state.MASK_OPTS}_quality").select("low").run()
    at.button(key=state.MASK_BUTTON).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = Store(data_dir).runs()[0]
    assert [i["hash"] for i in run.params["images"]] == [staged.hash]
    mask = Image.open(io.BytesIO(Store(data_dir).read_bytes(run.params["mask"]["hash"])))
    assert mask.size == (2048, 1536)                                  # the mask is the sent image's size


def test_an_uploaded_mask_is_previewed_over_the_picture(data_dir):
    _, hashes = seed(data_dir, ("A quiet harbour at dawn",))
    at = open_page("pages/3_Mask_edit.py")
    at.session_state[state.handoff_key(state.MASK)] = hashes
    at.run()
    at.get("button_group")[0].set_value("Upload a mask").run()
    bw = Image.new("L", (800, 600), 0)
    bw.paste(255, (0, 0, 400, 600))                                   # white = edit the left half
    buf = io.BytesIO()
    bw.save(buf, "PNG")
    at.file_uploader(key=state.MASK_UPLOAD).set_value(("mask.png", buf.getvalue(), "image/png")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    previews = [img for el in at.get("image") for img in el.proto.imgs if img.caption.startswith("Mask preview")]
    assert [p.caption for p in previews] == ["Mask preview: 50% of the picture will be repainted (tinted)"]
