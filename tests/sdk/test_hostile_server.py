"""A compatible server that misbehaves: echoes the key back, or is not the API at all.

The server is an ``httpx2.MockTransport`` under the real openai SDK, so every byte still goes through
the SDK's own request building, status handling and stream decoding.
"""

import base64
import io
import json
import sqlite3

import httpx2
import openai
import pytest
from PIL import Image

from imagelab import client as cl
from imagelab.specs import EditSpec, GenerateSpec, InputImage, TurnSpec
from imagelab.store import Store
from imagelab.text import redact_url, scrub
from tests.conftest import engine_run
from tests.sdk.conftest import opened

KEY = "sk-proj-Hostile0123456789abcdefXYZ_-q"
PLAIN_KEY = "local-secret-7f3a9c"  # not key-shaped: only being the client's own key gets it scrubbed


def png(w=8, h=8):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


PICTURE = InputImage(png(), "in.png", "image/png", 8, 8, "hash-in")

SPECS = {
    "generate": (cl.generate, GenerateSpec(prompt="a fox")),
    "generate-stream": (cl.generate, GenerateSpec(prompt="a fox", partial_images=1)),
    "edit": (cl.edit, EditSpec(prompt="a fox", images=(PICTURE,))),
    "edit-stream": (cl.edit, EditSpec(prompt="a fox", images=(PICTURE,), partial_images=1)),
    "respond": (cl.respond, TurnSpec(prompt="a fox")),
    "respond-stream": (cl.respond, TurnSpec(prompt="a fox", partial_images=1)),
}


def mock_client(handler, key=KEY, base_url="http://hostile.test/v1"):
    return opened(openai.OpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=5,
                                http_client=httpx2.Client(transport=httpx2.MockTransport(handler))))


def texts(ev):
    """Every piece of text an event carries: what the page shows and the history stores."""
    if isinstance(ev, cl.Failed):
        e = ev.error
        return [e.sentence, str(e), e.details(), e.api_message or "", e.request_id or "", e.code or "",
                e.param or ""]
    if isinstance(ev, cl.FinalImage):
        return [ev.revised_prompt or ""]
    if isinstance(ev, cl.UsageReport):
        return [ev.request_id or "", json.dumps(ev.usage)]
    if isinstance(ev, cl.TurnReply):
        return [ev.text, ev.response_id or "", ev.image_call_id or "", ev.revised_prompt or ""]
    return []


def all_text(events):
    return "\n".join(t for ev in events for t in texts(ev))


def only_failure(evs):
    failed = [e for e in evs if isinstance(e, cl.Failed)]
    assert len(failed) == 1, evs
    return failed[0].error


# --- the key echoed back -----------------------------------------------------------------------

def echoing(status):
    def handler(request):
        auth = request.headers["Authorization"]
        bare = auth.removeprefix("Bearer ")
        body = {"error": {"message": f"Incorrect API key provided: {auth}. You sent {bare} (header {auth!r})",
                          "type": "invalid_request_error", "code": f"bad_key_{bare}", "param": f"key={bare}"}}
        return httpx2.Response(status, json=body, headers={"x-request-id": f"req_{bare}",
                                                          "retry-after": bare})
    return handler


@pytest.mark.parametrize("status,kind", [(400, cl.InvalidRequest), (401, cl.BadKey), (429, cl.RateLimited),
                                         (500, cl.ServerError)])
@pytest.mark.parametrize("endpoint", sorted(SPECS))
@pytest.mark.parametrize("key", [KEY, PLAIN_KEY])
def test_a_key_echoed_back_reaches_no_event(status, kind, endpoint, key):
    run, spec = SPECS[endpoint]
    evs = list(run(mock_client(echoing(status), key=key), spec))
    err = only_failure(evs)
    assert isinstance(err, kind)
    text = all_text(evs)
    assert key not in text and key[3:] not in text
    assert "[redacted]" in err.api_message  # the message is kept, with the key taken out


def test_the_key_is_scrubbed_from_a_translated_error_it_is_given():
    request = httpx2.Request("POST", "http://hostile.test/v1/images/generations")
    response = httpx2.Response(400, request=request, headers={"x-request-id": f"req_{PLAIN_KEY}"})
    exc = openai.BadRequestError(f"bad: {PLAIN_KEY}", response=response,
                                 body={"message": f"you sent {PLAIN_KEY}", "param": "size"})
    err = cl.translate_error(exc, base_url="http://me:pw@hostile.test/v1?token=t", secrets=[PLAIN_KEY])
    shown = " ".join([err.sentence, err.details(), err.api_message, err.request_id])
    assert PLAIN_KEY not in shown and "you sent [redacted]" in err.api_message
    unscrubbed = cl.translate_error(exc, base_url="http://hostile.test/v1")
    assert PLAIN_KEY in unscrubbed.api_message  # a plain word is only a secret when it is named as one


def test_a_connection_failure_never_names_the_password_in_the_base_url():
    def refuse(request):
        raise httpx2.ConnectError("refused", request=request)
    client = mock_client(refuse, base_url="http://me:hunter2pass@proxy.test:8080/v1?api-key=zzz123")
    err = only_failure(list(cl.generate(client, GenerateSpec(prompt="a fox"))))
    assert isinstance(err, cl.ConnectionFailed)
    assert "http://proxy.test:8080/v1" in err.sentence
    assert "hunter2pass" not in all_text([cl.Failed(err)]) and "zzz123" not in err.sentence


# --- scrub, redact_url and the connection label --------------------------------------------------

@pytest.mark.parametrize("text,hidden", [
    ("Incorrect API key provided: sk-proj-abcDEF_123-xyz789.", "abcDEF_123"),
    ("Authorization: Bearer whatever.the.token-is", "whatever.the.token"),
    ("authorization: basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNz"),
    ("see http://admin:s3cret@10.0.0.1/v1", "s3cret"),
    ("key sk-abcdef1234 in the middle", "abcdef1234"),
])
def test_scrub_takes_out_what_is_key_shaped(text, hidden):
    out = scrub(text)
    assert hidden not in out and "[redacted]" in out


def test_scrub_keeps_ordinary_words_and_takes_out_named_secrets():
    assert scrub("task-force risk-taking sk-1 none") == "task-force risk-taking sk-1 none"
    assert scrub("the key local-secret-7f3a9c was refused", [PLAIN_KEY, "none"]) == "the key [redacted] was refused"


@pytest.mark.parametrize("url,shown", [
    ("http://me:pw@host:8080/v1?api-key=x#frag", "http://host:8080/v1"),
    ("https://proxy.example.com/v1", "https://proxy.example.com/v1"),
    ("https://token@[::1]:9/openai/v1?x=1", "https://[::1]:9/openai/v1"),
])
def test_redact_url_drops_credentials_and_query(url, shown):
    assert redact_url(url) == shown


def test_a_custom_connection_is_stored_without_its_credentials(tmp_path):
    url = "http://me:hunter2pass@proxy.test/v1?api-key=zzz123"
    conn = cl.Connection(url, PLAIN_KEY, label=f"Custom: {url} ({PLAIN_KEY})")
    assert conn.label == "Custom: http://proxy.test/v1 ([redacted])"

    def answer(request):
        return httpx2.Response(500, json={"error": {"message": "down"}})
    store = Store(tmp_path)
    spec = GenerateSpec(prompt="a fox")
    client = mock_client(answer, key=PLAIN_KEY, base_url=url)
    engine_run(store, lambda _, sp: cl.generate(client, sp), spec, connection=conn)
    with sqlite3.connect(store.db_path) as db:  # the database file itself, as a backup would hold it
        stored = "\n".join(str(v) for row in db.execute("SELECT * FROM runs") for v in row)
    assert "Custom: http://proxy.test/v1 ([redacted])" in stored
    assert "hunter2pass" not in stored and "zzz123" not in stored and PLAIN_KEY not in stored


# --- not the API at all ----------------------------------------------------------------------------

LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Corporate proxy</body></html>"


def answering(status, body, content_type):
    def handler(request):
        return httpx2.Response(status, content=body.encode() if isinstance(body, str) else body,
                               headers={"content-type": content_type, "x-request-id": "req_proxy1"})
    return handler


@pytest.mark.parametrize("endpoint", sorted(SPECS))
def test_an_html_page_says_so_and_names_the_base_url(endpoint):
    run, spec = SPECS[endpoint]
    client = mock_client(answering(200, LOGIN_PAGE, "text/html; charset=utf-8"),
                         base_url="http://me:pw@proxy.test/v1?sig=abc")
    err = only_failure(list(run(client, spec)))
    assert isinstance(err, cl.NotTheAPI)
    assert err.sentence.startswith("The server at http://proxy.test/v1 answered with an HTML page instead of")
    assert "Check the base URL: it should end in /v1" in err.sentence
    assert "Corporate proxy" in err.api_message and err.request_id == "req_proxy1"
    assert ":pw@" not in err.sentence and "sig=abc" not in err.sentence


@pytest.mark.parametrize("body,content_type,what", [
    ('{"created": 1, "data": [{"b64_json": "iVBOR', "application/json", "JSON that is cut short"),
    ("", "application/json", "an empty reply"),
    ("Bad gateway, try later", "text/plain", "plain text"),
    ('{"created": 1, "data": "nope"}', "application/json", "JSON without a list of images"),
    ("[1, 2, 3]", "application/json", "JSON that is cut short or not the image API's"),
])
def test_a_reply_that_is_not_the_apis_json_is_named(body, content_type, what):
    err = only_failure(list(cl.generate(mock_client(answering(200, body, content_type)), GenerateSpec(prompt="a"))))
    assert isinstance(err, cl.NotTheAPI), err.sentence
    assert f"answered with {what}" in err.sentence and "http://hostile.test/v1" in err.sentence


def test_a_stream_of_garbage_is_not_the_api():
    garbage = "data: {not json\n\n"
    err = only_failure(list(cl.generate(mock_client(answering(200, garbage, "text/event-stream")),
                                        GenerateSpec(prompt="a fox", partial_images=1))))
    assert isinstance(err, cl.NotTheAPI) and "http://hostile.test/v1" in err.sentence
    assert err.request_id == "req_proxy1"


def test_a_well_formed_reply_still_gives_its_image_and_request_id():
    b64 = base64.b64encode(png(16, 12)).decode()
    body = json.dumps({"created": 1, "data": [{"b64_json": b64, "revised_prompt": f"a fox {KEY}"}],
                       "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12,
                                 "input_tokens_details": {"text_tokens": 5, "image_tokens": 0}, KEY: 1}})
    evs = list(cl.generate(mock_client(answering(200, body, "application/json")), GenerateSpec(prompt="a fox")))
    final, usage = evs
    assert isinstance(final, cl.FinalImage) and (final.width, final.height) == (16, 12)
    assert final.revised_prompt == "a fox [redacted]"
    assert usage.request_id == "req_proxy1" and usage.usage["output_tokens"] == 7 and KEY not in json.dumps(usage.usage)
