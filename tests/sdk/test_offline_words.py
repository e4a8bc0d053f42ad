"""Describe a picture and improve a prompt: the offline backend's words, through the real SDK and the run engine."""

import hashlib

import numpy as np
from PIL import Image

from imagelab.client import Connection, ask_for_words
from imagelab.export import embed_metadata
from imagelab.offline.render import encode, render
from imagelab.prompts import DESCRIBE, REWRITE, PromptRequest, word_diff
from imagelab.specs import InputImage
from imagelab.store import Store
from tests.conftest import engine_run


def picture(data: bytes, width: int, height: int) -> InputImage:
    return InputImage(data, "picture.png", "image/png", width, height, hashlib.sha256(data).hexdigest())


def conn(server) -> Connection:
    return Connection(server.base_url, "sk-offline", label="Offline backend", offline=True, timeout=30,
                      max_retries=0)


def flat(rgb, size=(640, 480)) -> bytes:
    return encode(Image.fromarray(np.full((size[1], size[0], 3), rgb, np.uint8)), "png")


def test_describe_names_the_colours_and_size_of_the_picture(client):
    blue = PromptRequest(kind=DESCRIBE, image=picture(flat((37, 99, 235)), 640, 480))
    answer = client.responses.create(**blue.to_sdk_kwargs()).output_text
    assert "landscape 640x480" in answer and "blue" in answer and "red" not in answer
    red = PromptRequest(kind=DESCRIBE, image=picture(flat((220, 38, 38), (300, 600)), 300, 600))
    other = client.responses.create(**red.to_sdk_kwargs()).output_text
    assert "portrait 300x600" in other and "red" in other
    # the same picture always gets the same words
    assert client.responses.create(**blue.to_sdk_kwargs()).output_text == answer


def test_describe_uses_the_words_a_picture_was_made_from(client):
    png = render("a teal lighthouse on a red cliff", 1024, 1024)
    plain = client.responses.create(**PromptRequest(kind=DESCRIBE, image=picture(png, 1024, 1024))
                                    .to_sdk_kwargs()).output_text
    assert "lighthouse" not in plain  # the synthetic renderer writes no metadata of its own
    tagged = embed_metadata(png, "png", {"prompt": "a teal lighthouse on a red cliff", "params": {}})
    answer = client.responses.create(**PromptRequest(kind=DESCRIBE, image=picture(tagged, 1024, 1024))
                                     .to_sdk_kwargs()).output_text
    assert answer.startswith("A teal lighthouse on a red cliff.") and "1024x1024" in answer


def test_improve_rewrites_deterministically_and_keeps_the_subject(client):
    spec = PromptRequest(kind=REWRITE, prompt="a nice pic of a big dog on grass at sunset")
    answer = client.responses.create(**spec.to_sdk_kwargs()).output_text
    assert answer == client.responses.create(**spec.to_sdk_kwargs()).output_text
    parts = word_diff(spec.prompt, answer)
    assert ("delete", "big") in [(p.op, p.text) for p in parts]
    assert ("insert", "large") in [(p.op, p.text) for p in parts]
    assert "dog" in answer and "Lighting" not in answer  # it said "sunset": no lighting sentence is added


def test_describe_runs_on_the_engine_and_keeps_the_words(offline_server, tmp_path):
    store = Store(tmp_path)
    spec = PromptRequest(kind=DESCRIBE, image=picture(flat((22, 163, 74)), 640, 480))
    job = engine_run(store, ask_for_words, spec, page="describe", connection=conn(offline_server))
    assert job.status == "ok", [e.sentence for e in job.errors]
    run = Store(tmp_path).run(job.run_id)  # what a reload or a restarted app reads
    assert run.status == "ok" and run.page == "describe" and "green" in run.reply
    assert run.usage["input_tokens"] > 0 and run.params["image"]["hash"] == spec.image.hash


def test_a_refused_request_for_words_fails_with_a_sentence(offline_server, tmp_path):
    store = Store(tmp_path)
    spec = PromptRequest(kind=REWRITE, prompt="something forbidden")
    job = engine_run(store, ask_for_words, spec, page="rewrite", connection=conn(offline_server))
    run = store.run(job.run_id)
    assert run.status == "failed" and run.reply is None and "safety system" in run.error
