"""Whatever a server answers, a run ends in events, no key is shown, and the history stays consistent.

Random replies (status, headers, JSON, HTML, cut-short JSON, huge bodies, key-echoing text, broken
server-sent events) go through the real openai SDK over an ``httpx2.MockTransport`` into
``generate``, ``edit`` and ``respond``, and then through the run engine into a real store.
"""

import base64
import json
import sqlite3
import tempfile
from pathlib import Path

import httpx2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagelab import client as cl
from imagelab.specs import TurnSpec
from imagelab.store import Store
from tests.conftest import engine_run
from tests.sdk.test_hostile_server import KEY, PICTURE, SPECS, mock_client, png, texts

B64 = base64.b64encode(png(12, 10)).decode()
RUNS = {**SPECS, "respond-files": (cl.respond, TurnSpec(prompt="a fox", images=(PICTURE,), attach_as="file"))}

ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
echo = st.sampled_from([KEY, f"Bearer {KEY}", f"Incorrect API key provided: {KEY}", f"key={KEY}&x=1"])
words = st.one_of(ascii_text, echo, st.builds(lambda a, b: a + b, ascii_text, echo))
b64_field = st.one_of(st.just(B64), st.just(B64[:-7]), st.just(base64.b64encode(b"<html>no</html>").decode()),
                      st.just(""), st.none(), st.integers(), words)
usage = st.one_of(st.none(), words, st.fixed_dictionaries({
    "input_tokens": st.one_of(st.integers(0, 10**6), words), "output_tokens": st.integers(-5, 10**6),
    "input_tokens_details": st.one_of(st.none(), st.dictionaries(st.sampled_from(["text_tokens", "image_tokens",
                                                                                 KEY]), st.integers(0, 999)))}))


def image_item():
    return st.fixed_dictionaries({"b64_json": b64_field}, optional={"revised_prompt": words})


def image_call():
    return st.fixed_dictionaries({"type": st.just("image_generation_call"), "id": words, "result": b64_field,
                                  "status": st.sampled_from(["completed", "failed", "generating"])},
                                 optional={"revised_prompt": words, "output_format": words,
                                           "error": st.just({"moderation_details": {"moderation_stage": "output"}})})


response_obj = st.fixed_dictionaries({
    "id": words, "object": st.just("response"), "created_at": st.just(1), "model": st.just("gpt-5.5"),
    "status": st.just("completed"),
    "output": st.one_of(st.lists(st.one_of(image_call(), st.fixed_dictionaries({
        "type": st.just("message"), "content": st.lists(st.fixed_dictionaries(
            {"type": st.just("output_text"), "text": st.one_of(words, st.integers())}), max_size=2)})), max_size=3),
        words)}, optional={"usage": usage})

images_obj = st.fixed_dictionaries({"created": st.just(1)}, optional={
    "data": st.one_of(st.lists(image_item(), max_size=3), words), "usage": usage, "output_format": words})

error_obj = st.fixed_dictionaries({"error": st.fixed_dictionaries({"message": words}, optional={
    "code": st.one_of(words, st.just("moderation_blocked"), st.just("insufficient_quota")),
    "param": words, "type": words})})

json_body = st.one_of(images_obj, response_obj, error_obj, st.lists(st.integers(), max_size=3), words)


def sse_event(kind, data):
    return f"event: {kind}\ndata: {data}\n\n"


stream_event = st.one_of(
    st.builds(lambda k, b, i, u: sse_event(k, json.dumps({"type": k, "b64_json": b, "partial_image_index": i,
                                                          "output_format": "png", "usage": u})),
              st.sampled_from(["image_generation.partial_image", "image_generation.completed",
                               "image_edit.partial_image", "image_edit.completed"]), b64_field,
              st.one_of(st.integers(0, 3), words), usage),
    st.builds(lambda b: sse_event("x", json.dumps({"type": "response.image_generation_call.partial_image",
                                                   "partial_image_b64": b, "partial_image_index": 0})), b64_field),
    st.builds(lambda k, r: sse_event(k, json.dumps({"type": k, "response": r})),
              st.sampled_from(["response.completed", "response.failed", "response.incomplete"]),
              st.one_of(response_obj, words)),
    st.builds(lambda m: sse_event("error", json.dumps({"error": {"message": m}})), words),
    st.builds(lambda t: f"data: {t}\n\n", words),  # not JSON at all
    st.just("data: [DONE]\n\n"),
)


@st.composite
def replies(draw):
    kind = draw(st.sampled_from(["json", "json", "sse", "sse", "html", "cut", "huge", "text"]))
    status = draw(st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 422, 429, 500, 502, 503]))
    if kind == "json":
        body, ctype = json.dumps(draw(json_body)), draw(st.sampled_from(["application/json", "text/plain", ""]))
    elif kind == "sse":
        body, ctype = "".join(draw(st.lists(stream_event, max_size=6))), "text/event-stream"
    elif kind == "html":
        body, ctype = f"<!doctype html><html><body>{draw(words)}</body></html>", "text/html"
    elif kind == "cut":
        whole = json.dumps(draw(json_body))
        body, ctype = whole[: draw(st.integers(0, max(len(whole) - 1, 0)))], "application/json"
    elif kind == "huge":
        body, ctype = json.dumps({"error": {"message": draw(words) * 5000 + "x" * 2_000_000}}), "application/json"
    else:
        body, ctype = draw(words), draw(st.sampled_from(["text/plain", "application/octet-stream", ""]))
    headers = {"x-request-id": draw(st.one_of(st.just("req_abc123"), words)), "content-type": ctype}
    if draw(st.booleans()):
        headers["retry-after"] = draw(st.one_of(st.just("2"), words))
    return status, {k: v for k, v in headers.items() if v}, body


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(endpoint=st.sampled_from(sorted(RUNS)), reply=replies())
def test_any_reply_ends_in_events_without_the_key_and_a_consistent_store(endpoint, reply):
    status, headers, body = reply
    run, spec = RUNS[endpoint]

    def handler(request):
        return httpx2.Response(status, content=body.encode(), headers=headers)

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        events: list = []

        def call(_, sp):
            for ev in run(mock_client(handler), sp):
                events.append(ev)
                yield ev

        result = engine_run(store, call, spec, page=spec.page)
        assert all(isinstance(ev, cl.PartialImage | cl.FinalImage | cl.UsageReport | cl.Failed | cl.TurnReply)
                   for ev in events), events
        shown = "\n".join(t for ev in events for t in texts(ev))
        shown += "\n".join(e.sentence + e.details() for e in result.errors)
        assert KEY not in shown and KEY[3:] not in shown
        with sqlite3.connect(store.db_path) as db:
            assert db.execute("SELECT status FROM runs WHERE id = ?", (result.run_id,)).fetchone()[0] != "running"
            rows = db.execute("SELECT hash FROM images").fetchall()
            dump = "\n".join(str(v) for table in ("runs", "images") for row in db.execute(f"SELECT * FROM {table}")
                             for v in row)
        for (digest,) in rows:
            assert store.path_for(digest, store.format_of(digest)).exists()
        assert KEY[3:] not in dump
