"""Every fault the API can throw, through the real app (AppTest) against a compatible server that injects it.

For each: the sentence the user reads, the prompt and inputs still there, nothing half-written
in the store, and images already returned in the same run kept.
"""

import html
import io
import time
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

import components.mask_canvas as mask_canvas
from components import state
from imagelab.history import schema
from imagelab.offline.render import render
from imagelab.store import Store
from tests.app.conftest import open_page, page_text, settle, shown

PROMPT = "A quiet harbour at dawn with two red boats"


def consistent(store: Store) -> None:
    """No run left half-written, every image row has its file, no file without a row or input."""
    runs = store.runs(500)
    assert all(r.status in ("ok", "partial", "failed", "cancelled") and r.finished_at for r in runs)
    hashes = {r.hash for r in store.recent_images(10_000)}
    for digest in hashes:
        assert store.path_for(digest, store.format_of(digest)).exists()
    files = {p.stem for p in store.images_dir.rglob("*.*")}
    with store.database.read() as db:
        inputs = set(db.execute(select(schema.inputs.c.hash)).scalars())
    assert files <= hashes | inputs
    assert not list(store.images_dir.rglob(".tmp-*"))


def generate_with(monkeypatch, compatible_server, faults, *, n=1, partials=0, timeout=None):
    srv = compatible_server(faults=faults)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    at = open_page().run()
    if timeout:
        # the app never waits less than 300 s on a real API; the test lowers that floor to keep it short
        monkeypatch.setattr("imagelab.client.MIN_TIMEOUT", timeout)
        monkeypatch.setattr("components.connection.current_connection", _short(timeout))
    at.text_area(key=state.GEN_PROMPT).input(PROMPT).run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.number_input(key=f"{state.GEN_OPTS}_n").set_value(n).run()
    at.number_input(key=f"{state.GEN_OPTS}_partials").set_value(partials).run()
    started = time.perf_counter()
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception, at.exception
    settle(at)
    assert not at.exception, at.exception
    return at, time.perf_counter() - started


def _short(seconds):
    from components import connection
    from imagelab.client import Connection

    real = connection.current_connection

    def conn():
        c = real()
        return Connection(c.base_url, c.api_key, label=c.label, timeout=seconds, max_retries=0)

    return conn


@pytest.mark.parametrize("faults,words", [
    ("429", "Too many requests for now; wait 1 s"),
    ("500", "had a problem on its side"),
    ("403", "must be verified"),
    ("401", "API key was refused"),
])
def test_status_faults(data_dir, monkeypatch, compatible_server, faults, words):
    at, _ = generate_with(monkeypatch, compatible_server, faults)
    errors = shown(at.error)
    assert any(words in e for e in errors), errors
    assert "request id req_" in page_text(at)  # the API's own id beneath the sentence
    assert at.text_area(key=state.GEN_PROMPT).value == PROMPT
    store = Store(data_dir)
    assert store.runs()[0].status == "failed" and store.count_images() == 0
    consistent(store)


@pytest.mark.parametrize("prompt,stage_words", [
    ("a forbidden harbour", "before making anything"),
    ("a forbidden-output harbour", "withheld the finished image"),
])
def test_moderation_at_each_stage(data_dir, monkeypatch, compatible_server, prompt, stage_words):
    global PROMPT
    saved, PROMPT = PROMPT, prompt
    try:
        at, _ = generate_with(monkeypatch, compatible_server, None)
    finally:
        PROMPT = saved
    assert any(stage_words in e for e in shown(at.error)), shown(at.error)
    assert at.text_area(key=state.GEN_PROMPT).value == prompt
    consistent(Store(data_dir))


def test_timeout(data_dir, monkeypatch, compatible_server):
    at, took = generate_with(monkeypatch, compatible_server, "latency:5", timeout=1)
    assert any("did not answer in time" in e for e in shown(at.error)), shown(at.error)
    assert took < 5  # the page gave up on time, it did not hang
    assert at.text_area(key=state.GEN_PROMPT).value == PROMPT
    consistent(Store(data_dir))


def test_stream_cut_after_a_partial_image(data_dir, monkeypatch, compatible_server):
    at, _ = generate_with(monkeypatch, compatible_server, "cut-stream", partials=2)
    assert any("stream ended" in e for e in shown(at.error)), shown(at.error)
    store = Store(data_dir)
    assert store.count_images() == 0 and store.runs()[0].status == "failed"
    consistent(store)


def test_images_already_returned_are_kept(data_dir, monkeypatch, compatible_server):
    at, _ = generate_with(monkeypatch, compatible_server, "cut-after:2", n=3, partials=1)
    store = Store(data_dir)
    run = store.runs()[0]
    assert run.status == "partial" and store.count_images() == 2
    assert any("2 of 3" in e for e in shown(at.warning))  # kept images: a warning, not an error
    assert len(at.get("image")) >= 2  # the two finished pictures are on the page
    consistent(store)


def test_unreachable_base_url(data_dir, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    at = open_page().run()
    at.text_area(key=state.GEN_PROMPT).input(PROMPT).run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at)
    assert any("Could not reach" in e for e in shown(at.error))
    assert at.text_area(key=state.GEN_PROMPT).value == PROMPT
    consistent(Store(data_dir))


class FakeCanvas:
    """The drawable canvas as the browser keeps it: strokes live under the component's key, so a
    rerun with the same key returns them and a new key (a cleared or replaced canvas) is empty."""

    def __init__(self) -> None:
        self.by_key: dict[str, np.ndarray] = {}
        self.paint_next = False

    def __call__(self, **kw):
        self.width = kw["width"]
        if self.paint_next:
            strokes = np.zeros((kw["height"], kw["width"], 4), np.uint8)
            strokes[:50, :50] = (*mask_canvas.PAINT_RGB, 153)  # the person paints the top-left corner
            self.by_key[kw["key"]] = strokes
            self.paint_next = False
        strokes = self.by_key.get(kw["key"])
        return SimpleNamespace(image_data=None if strokes is None else strokes.copy())


def test_mask_and_image_survive_a_fault_on_the_mask_page(data_dir, monkeypatch, recording_server):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", recording_server.base_url)  # answers every request with a 500
    canvas = FakeCanvas()
    monkeypatch.setattr(mask_canvas, "draw_canvas", canvas)
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "a field", {})
    rec = store.add_image(run, 0, render("a field", 1024, 1024, quality="low"), "png", 1024, 1024)
    store.finish_run(run, "ok")
    at = open_page("pages/3_Mask_edit.py")
    at.session_state[state.handoff_key(state.MASK)] = [rec.hash]
    at.run()
    canvas.paint_next = True
    at.text_area(key=state.MASK_PROMPT).input("the field with a kite").run()
    at.button(key=state.MASK_BUTTON).click().run()
    settle(at)
    assert any("problem on its side" in e for e in shown(at.error)), shown(at.error)
    assert recording_server.requests, "the first try never reached the server"
    assert at.text_area(key=state.MASK_PROMPT).value == "the field with a kite"
    assert [i.hash for i in at.session_state[f"{state.MASK}_images"]] == [rec.hash]

    # after the fault the person tries again, painting nothing new: the same mask goes out
    recording_server.requests.clear()
    at.button(key=state.MASK_BUTTON).click().run()
    settle(at)
    assert not at.exception
    sent = recording_server.requests[-1]
    assert sent.path == "/v1/images/edits"
    form = sent.form()
    assert form["prompt"] == b"the field with a kite"
    with Image.open(io.BytesIO(form["image"])) as image:
        assert image.size == (1024, 1024)
    with Image.open(io.BytesIO(form["mask"])) as mask:
        assert mask.format == "PNG" and mask.size == (1024, 1024) and mask.mode == "RGBA"
        alpha = np.asarray(mask.getchannel("A"))
    # the canvas's 50 painted pixels are 50 × 1024 / its width of the picture's: that corner is to be edited
    edge = round(50 * 1024 / canvas.width)
    assert (alpha[:edge - 3, :edge - 3] == 0).all()
    assert (alpha[edge + 5:, :] == 255).all() and (alpha[:, edge + 5:] == 255).all()
    consistent(store)


def test_references_survive_a_fault_on_the_reference_page(data_dir, monkeypatch, compatible_server):
    srv = compatible_server(faults="429")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    store = Store(data_dir)
    hashes = []
    for prompt in ("a red cup", "a blue plate"):
        run = store.start_run("generate", "gpt-image-2", prompt, {})
        hashes.append(store.add_image(run, 0, render(prompt, 512, 512, quality="low"), "png", 512, 512).hash)
        store.finish_run(run, "ok")
    at = open_page("pages/2_Reference_edit.py")
    at.session_state[state.handoff_key(state.REF)] = hashes
    at.run()
    at.text_area(key=state.REF_PROMPT).input("the cup on the plate").run()
    at.button(key=state.REF_BUTTON).click().run()
    settle(at)
    assert any("Too many requests" in e for e in shown(at.error))
    assert [i.hash for i in at.session_state[f"{state.REF}_images"]] == hashes
    assert at.text_area(key=state.REF_PROMPT).value == "the cup on the plate"
    consistent(store)


def test_prompt_with_html_shows_literally(data_dir):
    at = open_page().run()
    typed = "<script>alert('x')</script> <b>bold</b> **stars** :red[colour]"
    at.text_area(key=state.GEN_PROMPT).input(typed).run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at)
    assert not at.exception
    # shown as text: escaped into an element of ours, never handed to Markdown
    shown = f'<div class="il-quiet-text">{html.escape(typed)}</div>'
    assert any(h.value == shown for h in at.get("html")), [h.value for h in at.get("html")]
    assert Store(data_dir).runs()[0].prompt == typed
