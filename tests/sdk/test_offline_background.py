"""Responses background mode and spread latency on the offline backend, and the client's background
turns (resumed streams, resume after a restart, cancel), all through the real openai SDK."""

import base64
import io
import json
import time

import httpx2
import openai
import pytest
from PIL import Image

from imagelab import client as cl
from imagelab.specs import TurnSpec
from tests.sdk.conftest import opened

FAULT = "x-imagelab-fault"
MODEL = "gpt-5.5"
TOOL = {"type": "image_generation", "quality": "low", "size": "1024x1024", "partial_images": 2}


def sdk(server, fault=None):
    headers = {FAULT: fault} if fault else None
    return opened(openai.OpenAI(api_key="sk-offline", base_url=server.base_url, max_retries=0, timeout=30,
                                default_headers=headers))


def create(client, fault=None, **kw):
    headers = {FAULT: fault} if fault else None
    return client.responses.create(model=MODEL, input="a red fox in the snow", tools=[TOOL], background=True,
                                   store=True, extra_headers=headers, **kw)


def wait_for(client, response_id, statuses=("completed", "failed", "cancelled", "incomplete")):
    """Poll until the response reaches one of ``statuses`` (or give up after many polls)."""
    for _ in range(400):
        resp = client.responses.retrieve(response_id)
        if resp.status in statuses:
            return resp
        time.sleep(0.05)
    raise AssertionError(f"{response_id} stayed {resp.status}")


def the_image(resp) -> Image.Image:
    calls = [o for o in resp.output if o.type == "image_generation_call"]
    assert len(calls) == 1 and calls[0].status == "completed"
    img = Image.open(io.BytesIO(base64.b64decode(calls[0].result)))
    img.load()
    return img


def replay(client, response_id, **kw):
    return list(client.responses.retrieve(response_id, stream=True, **kw))


# --------------------------------------------------------------------------- the backend


def test_background_create_answers_at_once_and_polling_sees_it_complete(client):
    resp = create(client, "latency:1")
    assert resp.status == "queued" and resp.background is True and resp.output == []
    seen = {resp.status}
    for _ in range(400):
        resp = client.responses.retrieve(resp.id)
        seen.add(resp.status)
        if resp.status == "completed":
            break
        time.sleep(0.05)
    assert resp.status == "completed"
    assert "in_progress" in seen  # it was seen working, not only finished
    assert the_image(resp).size == (1024, 1024)
    assert resp.usage.output_tokens > 0


def test_background_needs_store(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.create(model=MODEL, input="a fox", tools=[TOOL], background=True, store=False)
    assert err.value.param == "background"


def test_every_streamed_event_is_numbered_from_zero(client):
    events = list(client.responses.create(model=MODEL, input="a fox", tools=[TOOL], stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    assert events[-1].response.background is False


def test_a_dropped_stream_resumes_with_exactly_the_events_after_it(client):
    stream = create(client, "latency:1", stream=True)
    first = []
    for event in stream:
        first.append(event)
        if len(first) == 4:
            break
    stream.close()  # the connection drops; the work must go on without anyone connected
    response_id = first[0].response.id
    assert [e.sequence_number for e in first] == [0, 1, 2, 3]
    assert first[0].type == "response.created" and first[0].response.status == "queued"

    done = wait_for(client, response_id)  # plain polls only: no stream is open while it finishes
    assert done.status == "completed" and the_image(done).size == (1024, 1024)

    rest = replay(client, response_id, starting_after=3)
    numbers = [e.sequence_number for e in rest]
    assert numbers == list(range(4, 4 + len(rest)))
    assert rest[-1].type == "response.completed" and rest[-1].response.status == "completed"
    kinds = [e.type for e in rest]
    assert kinds.count("response.image_generation_call.partial_image") == 2
    assert kinds.count("response.completed") == 1
    everything = replay(client, response_id)  # the same log, with the same numbers and shapes
    assert [(e.sequence_number, e.type) for e in everything[4:]] == [(e.sequence_number, e.type) for e in rest]
    assert [e.type for e in everything[:4]] == [e.type for e in first]


def test_resuming_while_it_runs_follows_the_live_events(client):
    stream = create(client, "latency:3", stream=True)
    first = [next(iter(stream)) for _ in range(3)]
    stream.close()
    response_id = first[0].response.id
    assert client.responses.retrieve(response_id).status == "in_progress"
    rest = replay(client, response_id, starting_after=first[-1].sequence_number)
    assert [e.sequence_number for e in rest] == list(range(3, 3 + len(rest)))
    assert [e.type for e in rest].count("response.image_generation_call.partial_image") == 2
    assert rest[-1].type == "response.completed"
    assert the_image(rest[-1].response).size == (1024, 1024)


def test_cancel_stops_a_background_response(client):
    resp = create(client, "latency:1")
    cancelled = client.responses.cancel(resp.id)
    assert cancelled.status == "cancelled"
    assert client.responses.cancel(resp.id).status == "cancelled"  # cancelling twice is no error
    time.sleep(1.5)  # past the latency: had the work gone on, it would have finished by now
    after = client.responses.retrieve(resp.id)
    assert after.status == "cancelled" and after.output == []
    kinds = [e.type for e in replay(client, resp.id)]
    assert "response.completed" not in kinds
    assert "response.image_generation_call.completed" not in kinds


def test_cancelling_a_finished_or_foreground_response_is_refused(client):
    done = wait_for(client, create(client).id)
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.cancel(done.id)
    assert "completed" in err.value.message
    assert client.responses.retrieve(done.id).status == "completed"

    plain = client.responses.create(model=MODEL, input="a fox", tools=[TOOL])
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.cancel(plain.id)
    assert "created with background" in err.value.message
    with pytest.raises(openai.NotFoundError):
        client.responses.cancel("resp_nothing_here")
    with pytest.raises(openai.NotFoundError):  # only background responses can be streamed again
        replay(client, plain.id)


# --------------------------------------------------------------------------- spread latency


def arrivals(request):
    """``(event type, seconds since the request was sent)`` for every event of the stream ``request()`` opens."""
    start = time.monotonic()
    return [(e.type, time.monotonic() - start) for e in request()]


def test_latency_spreads_generation_partials_over_the_stream(client):
    got = arrivals(lambda: client.images.generate(
        model="gpt-image-2", prompt="a slow kite", quality="low", n=2, partial_images=2, stream=True,
        extra_headers={FAULT: "latency:3"}))
    kinds = [k for k, _ in got]
    assert kinds == ["image_generation.partial_image", "image_generation.partial_image",
                     "image_generation.completed"] * 2
    times = [t for _, t in got]
    assert times == sorted(times)
    assert times[0] < 3.0  # the first preview came before the latency was over (it is due at 0.5 s)
    assert times[-1] >= 2.9  # the last image at its end
    assert times[-1] - times[0] >= 1.5  # spread, not bunched (due 2.5 s apart)


def test_latency_spreads_edit_partials_over_the_stream(client):
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (20, 120, 200)).save(buf, "PNG")
    got = arrivals(lambda: client.images.edit(
        model="gpt-image-2", image=("in.png", buf.getvalue(), "image/png"), prompt="add a moon", quality="low",
        partial_images=1, stream=True, extra_headers={FAULT: "latency:2"}))
    assert [k for k, _ in got] == ["image_edit.partial_image", "image_edit.completed"]
    assert got[0][1] < 2.0  # before the latency was over (due at 1 s)
    assert got[1][1] >= 1.9


def test_latency_spreads_response_partials_over_the_stream(client):
    got = arrivals(lambda: client.responses.create(model=MODEL, input="a slow fox", tools=[TOOL], stream=True,
                                                   extra_headers={FAULT: "latency:3"}))
    images = [(k, t) for k, t in got if k.startswith("response.image_generation_call.")
              and k.endswith(("partial_image", "completed"))]
    assert [k for k, _ in images] == ["response.image_generation_call.partial_image"] * 2 + [
        "response.image_generation_call.completed"]
    assert images[0][1] < 3.0  # before the latency was over (due at 1 s)
    assert images[-1][1] >= 2.9 and images[-1][1] - images[0][1] >= 1.0
    assert got[-1][0] == "response.completed"


# --------------------------------------------------------------------------- the client


SPEC = TurnSpec(prompt="a red fox in the snow", quality="low", size="1024x1024", partial_images=2)


def test_respond_in_background_survives_a_cut_stream(offline_server):
    cut = sdk(offline_server, "cut-after-events:3")
    assert len(list(create(cut, stream=True))) == 3  # every stream connection really drops after 3 events
    evs = list(cl.respond(cut, SPEC, background=True))
    assert not [e for e in evs if isinstance(e, cl.Failed)], evs
    finals = [e for e in evs if isinstance(e, cl.FinalImage)]
    assert len(finals) == 1 and (finals[0].width, finals[0].height) == (1024, 1024)
    assert [e.partial_index for e in evs if isinstance(e, cl.PartialImage)] == [0, 1]
    progress = [e for e in evs if isinstance(e, cl.ResponseProgress)]
    reply = next(e for e in evs if isinstance(e, cl.TurnReply))
    assert {p.response_id for p in progress} == {reply.response_id}
    numbers = [p.sequence_number for p in progress]
    assert numbers[0] == 0 and numbers == sorted(set(numbers))
    full = replay(sdk(offline_server), reply.response_id)
    assert numbers[-1] == full[-1].sequence_number  # it read up to response.completed
    # every preview is followed by the position after it, so a caller can record both together
    for i, ev in enumerate(evs):
        if isinstance(ev, cl.PartialImage):
            assert isinstance(evs[i + 1], cl.ResponseProgress)
    assert isinstance(evs[-1], cl.UsageReport) and evs[-1].usage["output_tokens"] > 0


def test_resume_after_a_restart_yields_what_was_not_seen(offline_server):
    first = sdk(offline_server)
    stream = create(first, "latency:2", stream=True)
    seen = []
    for event in stream:
        seen.append(event)
        if event.type == "response.image_generation_call.partial_image":
            break
    stream.close()
    response_id, last = seen[0].response.id, seen[-1].sequence_number

    fresh = sdk(offline_server)  # a restarted app: a new client, only the id and the position
    evs = list(cl.resume(fresh, response_id, last, output_format="png"))
    assert not [e for e in evs if isinstance(e, cl.Failed)], evs
    assert [e.partial_index for e in evs if isinstance(e, cl.PartialImage)] == [1]  # not the one seen
    assert len([e for e in evs if isinstance(e, cl.FinalImage)]) == 1
    assert next(e for e in evs if isinstance(e, cl.TurnReply)).response_id == response_id
    numbers = [e.sequence_number for e in evs if isinstance(e, cl.ResponseProgress)]
    assert numbers and numbers[0] > last and numbers == sorted(set(numbers))


def test_resume_of_a_finished_response_yields_its_outputs(offline_server):
    client = sdk(offline_server)
    done = wait_for(client, create(client).id)
    last = replay(client, done.id)[-1].sequence_number
    for position, previews in ((3, [0, 1]), (last, [])):  # replayed from the log / read from the response
        evs = list(cl.resume(sdk(offline_server), done.id, position))
        finals = [e for e in evs if isinstance(e, cl.FinalImage)]
        assert len(finals) == 1 and finals[0].width == 1024, evs
        assert [e.partial_index for e in evs if isinstance(e, cl.PartialImage)] == previews
        assert not [e for e in evs if isinstance(e, cl.Failed)]
        assert isinstance(evs[-1], cl.UsageReport)


def test_cancel_response_stops_a_turn(offline_server):
    client = sdk(offline_server)
    resp = create(client, "latency:2")
    assert cl.cancel_response(client, resp.id) is None
    assert client.responses.retrieve(resp.id).status == "cancelled"
    evs = list(cl.resume(sdk(offline_server), resp.id, 0))
    failed = [e for e in evs if isinstance(e, cl.Failed)]
    assert len(failed) == 1 and isinstance(failed[0].error, cl.Cancelled)
    assert not [e for e in evs if isinstance(e, cl.FinalImage)]


def test_a_turn_cancelled_elsewhere_ends_as_cancelled(offline_server):
    other = sdk(offline_server)
    evs = []
    for ev in cl.respond(sdk(offline_server, "latency:2"), SPEC, background=True):
        evs.append(ev)
        if isinstance(ev, cl.ResponseProgress) and len(evs) == 1:
            assert cl.cancel_response(other, ev.response_id) is None
    failed = [e for e in evs if isinstance(e, cl.Failed)]
    assert len(failed) == 1 and isinstance(failed[0].error, cl.Cancelled), evs
    assert not [e for e in evs if isinstance(e, cl.FinalImage)]


def test_cancel_response_failures_are_events(offline_server):
    failed = cl.cancel_response(sdk(offline_server), "resp_nothing_here")
    assert isinstance(failed, cl.Failed) and isinstance(failed.error, cl.InvalidRequest)
    assert failed.error.status == 404


# --------------------------------------------------------------------------- turns that can wait (openai 3.63.0)

WAIT = {"completion_window": "2h", "continuation_id": "moodboard-7"}


def test_a_waiting_window_is_accepted_in_the_background_and_answered_by_polling(client):
    resp = create(client, "latency:0.3", background_options=WAIT, service_tier="default")
    assert resp.status == "queued"
    assert the_image(wait_for(client, resp.id)).size == (1024, 1024)
    soonest = create(client, background_options={"completion_window": "soonest"}, stream=True)
    assert [e.type for e in soonest][-1] == "response.completed"  # the default window still streams


@pytest.mark.parametrize("window,changes,param", [
    ("2h", {"stream": True}, "stream"),
    ("8h", {"stream": True}, "stream"),
    ("2h", {"background": False, "store": True}, "background"),
    ("8h", {"service_tier": "flex"}, "service_tier"),
    ("24h", {}, "background_options.completion_window"),
])
def test_a_waiting_window_is_refused_where_the_api_would_refuse_it(client, window, changes, param):
    body = {"model": MODEL, "input": "a red fox", "tools": [TOOL], "background": True, "store": True,
            "background_options": {"completion_window": window}, **changes}
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.create(**body)
    assert err.value.status_code == 400 and err.value.body["param"] == param
    if param == "stream":
        assert f"The '{window}' completion window cannot be used with 'stream' true" in err.value.body["message"]


def sdk_recording(server, sent):
    """A client that keeps the JSON body of every request it sends."""
    http = httpx2.Client(event_hooks={"request": [
        lambda request: sent.append((request.method, request.url.path, json.loads(request.content or b"null")))]})
    return opened(openai.OpenAI(api_key="sk-offline", base_url=server.base_url, max_retries=0, timeout=30,
                                http_client=http))


def test_a_turn_that_can_wait_is_created_without_a_stream_and_polled(offline_server, monkeypatch):
    monkeypatch.setattr("imagelab.client.responses.POLL_FIRST", 0.05)
    sent = []
    spec = TurnSpec(prompt="a red fox in the snow", quality="low", size="1024x1024", completion_window="8h")
    evs = list(cl.respond(sdk_recording(offline_server, sent), spec, background=True))
    assert not [e for e in evs if isinstance(e, cl.Failed)], evs
    assert len([e for e in evs if isinstance(e, cl.FinalImage)]) == 1 and isinstance(evs[-1], cl.UsageReport)
    created = [body for method, path, body in sent if method == "POST" and path.endswith("/responses")]
    assert len(created) == 1
    assert created[0]["background"] is True and created[0]["store"] is True and "stream" not in created[0]
    assert created[0]["background_options"] == {"completion_window": "8h"} and created[0]["service_tier"] == "default"
    response_id = next(e for e in evs if isinstance(e, cl.ResponseProgress)).response_id
    polls = [path for method, path, _ in sent if method == "GET"]
    assert polls and all(path.endswith(f"/responses/{response_id}") for path in polls)  # polled, never streamed
    # after a restart it is picked up the same way, by polling
    again = list(cl.resume(sdk(offline_server), response_id, -1, polled=True))
    assert len([e for e in again if isinstance(e, cl.FinalImage)]) == 1
    assert not [e for e in again if isinstance(e, cl.Failed)]
