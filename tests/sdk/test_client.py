"""imagelab.client and the run engine against the offline backend, through the real openai SDK."""

import io

import httpx2
import openai
import pytest
from PIL import Image

from imagelab import client as cl
from imagelab.specs import GenerateSpec, TurnSpec
from imagelab.store import Store
from tests.conftest import engine_run
from tests.sdk.conftest import opened


def sdk(server, fault=None, **kw):
    headers = {"x-imagelab-fault": fault} if fault else None
    return opened(openai.OpenAI(api_key="sk-offline", base_url=server.base_url, max_retries=0,
                                timeout=kw.pop("timeout", 30), default_headers=headers, **kw))


def events(server, spec, fault=None, **kw):
    return list(cl.generate(sdk(server, fault, **kw), spec))


def only_failure(evs):
    failed = [e for e in evs if isinstance(e, cl.Failed)]
    assert len(failed) == 1, evs
    return failed[0].error


def test_non_streamed_run_yields_images_then_usage(offline_server):
    spec = GenerateSpec(prompt="two blue whales", size="1024x1536", quality="low", n=2, output_format="webp")
    evs = events(offline_server, spec)
    finals = [e for e in evs if isinstance(e, cl.FinalImage)]
    assert [(f.image_index, f.output_format, f.width, f.height) for f in finals] == [
        (0, "webp", 1024, 1536), (1, "webp", 1024, 1536)]
    usage = evs[-1]
    assert isinstance(usage, cl.UsageReport) and usage.request_id.startswith("req_")
    assert usage.usage["output_tokens"] == 2 * 153


def test_streamed_run_yields_partials_then_final_and_summed_usage(offline_server):
    spec = GenerateSpec(prompt="an orange kite", size="1024x1024", quality="low", n=2, partial_images=2)
    evs = events(offline_server, spec)
    kinds = [type(e).__name__ for e in evs]
    assert kinds == ["PartialImage", "PartialImage", "FinalImage"] * 2 + ["UsageReport"]
    assert [e.image_index for e in evs if isinstance(e, cl.PartialImage)] == [0, 0, 1, 1]
    assert evs[-1].usage["output_tokens"] == 2 * (196 + 2 * 100)
    with Image.open(io.BytesIO(evs[0].data)) as partial:
        assert partial.size == (1024, 1024)


@pytest.mark.parametrize("fault,kind,words", [
    ("401", cl.BadKey, "API key was refused"),
    ("403", cl.NotVerified, "must be verified"),
    ("429", cl.RateLimited, "wait 1 s"),
    ("500", cl.ServerError, "try again"),
])
def test_status_faults_become_plain_sentences(offline_server, fault, kind, words):
    err = only_failure(events(offline_server, GenerateSpec(prompt="a fox"), fault))
    assert isinstance(err, kind) and words in err.sentence
    assert err.request_id and err.request_id.startswith("req_") and err.api_message
    assert err.request_id in err.details()


@pytest.mark.parametrize("prompt,stage", [("a forbidden thing", "input"), ("forbidden-output please", "output")])
def test_moderation_names_its_stage(offline_server, prompt, stage):
    err = only_failure(events(offline_server, GenerateSpec(prompt=prompt)))
    assert isinstance(err, cl.ModerationBlocked) and err.stage == stage and "safety system" in err.sentence


def test_invalid_request_names_the_parameter(offline_server):
    spec = GenerateSpec(prompt="a fox", model="gpt-image-1.5", size="1536x864")  # refused locally too
    err = only_failure(list(cl.run_images(sdk(offline_server).images.with_raw_response.generate, spec.to_sdk_kwargs(),
                                          stream=False, fmt="png", base_url=None, model=spec.model, event_prefix="x")))
    assert isinstance(err, cl.InvalidRequest) and err.param == "size" and "'size'" in err.sentence
    assert "1536x864" in err.api_message


@pytest.mark.parametrize("model,successor", [("gpt-image-1.5", "gpt-image-2"), ("gpt-image-1-mini", "gpt-image-2"),
                                             ("chatgpt-image-latest", "gpt-image-2")])
def test_a_model_the_api_no_longer_has_becomes_a_sentence_naming_its_successor(offline_server, model, successor):
    err = only_failure(events(offline_server, GenerateSpec(prompt="a fox", model=model), "404"))
    assert isinstance(err, cl.ModelUnavailable) and err.status == 404 and err.code == "model_not_found"
    assert err.sentence == (f"The API no longer has {model}: it was reported to shut down on 2026-12-01. "
                            f"Choose {successor}, its successor.")
    assert f"The model `{model}` does not exist" in err.api_message and err.request_id


def test_a_400_saying_the_tool_model_does_not_exist_names_the_successor_too(offline_server):
    # the Responses API refuses a retired tool model with a 400 whose message says it does not exist
    spec = TurnSpec(prompt="a fox", model="gpt-image-2").with_changes(model="gpt-image-1")
    err = only_failure(list(cl.respond(sdk(offline_server), spec)))
    assert isinstance(err, cl.ModelUnavailable) and err.status == 400
    assert err.sentence == ("The API no longer has gpt-image-1: it was retired on 2026-10-23. "
                            "Choose gpt-image-2.5-sunburst, its successor.")


def test_a_model_unknown_to_the_catalog_gets_a_plain_sentence(offline_server):
    err = only_failure(events(offline_server, GenerateSpec(prompt="a fox", model="gpt-image-9")))
    assert isinstance(err, cl.ModelUnavailable) and err.code == "model_not_found"
    assert err.sentence == "The API says the model gpt-image-9 does not exist for this key; choose another model."


def test_unreachable_base_url_is_a_connection_sentence():
    with openai.OpenAI(api_key="sk", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=5) as client:
        err = only_failure(list(cl.generate(client, GenerateSpec(prompt="a fox"))))
    assert isinstance(err, cl.ConnectionFailed) and "127.0.0.1:9" in err.sentence


def test_timeout_is_a_sentence(offline_server):
    err = only_failure(events(offline_server, GenerateSpec(prompt="a fox"), "latency:2", timeout=0.5))
    assert isinstance(err, cl.RequestTimedOut) and "did not answer in time" in err.sentence


def test_cut_stream_is_reported(offline_server):
    spec = GenerateSpec(prompt="a fox", partial_images=1)
    err = only_failure(events(offline_server, spec, "cut-stream"))
    assert isinstance(err, cl.StreamCut) and "0 of 1" in err.sentence


def test_bytes_that_are_not_an_image_are_refused(offline_server):
    err = only_failure(events(offline_server, GenerateSpec(prompt="a fox"), "corrupt:0"))
    assert isinstance(err, cl.NotAnImage) and "not an image" in err.sentence


def run(server, store, spec, fault=None):
    """One request through the run engine, as the app sends it: (its job, its row in the store)."""
    job = engine_run(store, lambda client, sp: cl.generate(sdk(server, fault), sp), spec)
    return job, store.run(job.run_id)


def test_the_engine_saves_every_image_and_the_run(offline_server, tmp_path):
    store = Store(tmp_path)
    spec = GenerateSpec(prompt="three teal boats", size="1024x1024", quality="low", n=3)
    job, row = run(offline_server, store, spec)
    saved = store.images_of_run(row.id)
    assert len(saved) == 3 and len({r.hash for r in saved}) == 3
    assert row.status == "ok" and row.usage["output_tokens"] == 3 * 196
    assert row.actual_dollars == pytest.approx(job.cost.dollars) and row.request_id == job.request_id
    for rec in saved:
        with Image.open(io.BytesIO(store.read_bytes(rec.hash))) as img:
            assert img.size == (1024, 1024)


def test_a_bad_image_loses_none_of_the_others(offline_server, tmp_path):
    store = Store(tmp_path)
    spec = GenerateSpec(prompt="four red apples", quality="low", size="1024x1024", n=4)
    job, row = run(offline_server, store, spec, "corrupt:1")
    assert row.status == "partial"
    assert sorted(r.index for r in store.images_of_run(row.id)) == [0, 2, 3]
    assert store.count_images() == 3 and "not an image" in row.error


def test_images_before_a_cut_stream_are_kept(offline_server, tmp_path):
    store = Store(tmp_path)
    spec = GenerateSpec(prompt="a green field", quality="low", size="1024x1024", n=3, partial_images=1)
    job, row = run(offline_server, store, spec, "cut-after:2")
    assert row.status == "partial" and [r.index for r in store.images_of_run(row.id)] == [0, 1]
    assert isinstance(job.errors[0], cl.StreamCut) and "2 of 3" in job.errors[0].sentence
    assert store.count_images() == 2


def test_a_failed_run_is_recorded_without_images(offline_server, tmp_path):
    store = Store(tmp_path)
    job, row = run(offline_server, store, GenerateSpec(prompt="a fox"), "500")
    assert store.count_images() == 0
    assert row.status == "failed" and row.request_id and "problem on its side" in row.error


def sdk_seeing_ids(server, fault=None):
    """A client that also notes the x-request-id of every reply the offline backend sends."""
    seen = []
    http = httpx2.Client(event_hooks={"response": [lambda response: seen.append(response.headers["x-request-id"])]})
    headers = {"x-imagelab-fault": fault} if fault else None
    client = opened(openai.OpenAI(api_key="sk-offline", base_url=server.base_url, max_retries=0, timeout=30,
                                  default_headers=headers, http_client=http))
    return client, seen


@pytest.mark.parametrize("run,spec", [
    (cl.generate, GenerateSpec(prompt="a fox", quality="low", size="1024x1024")),
    (cl.generate, GenerateSpec(prompt="a fox", quality="low", size="1024x1024", partial_images=1)),
    (cl.respond, TurnSpec(prompt="a fox", quality="low", size="1024x1024")),
    (cl.respond, TurnSpec(prompt="a fox", quality="low", size="1024x1024", partial_images=1)),
], ids=["generate", "generate-stream", "respond", "respond-stream"])
def test_the_request_id_is_the_one_the_server_sent(offline_server, run, spec):
    client, seen = sdk_seeing_ids(offline_server)
    usage = list(run(client, spec))[-1]
    assert isinstance(usage, cl.UsageReport) and len(seen) == 1
    assert usage.request_id == seen[0]


@pytest.mark.parametrize("partials", [0, 1])
def test_a_failure_carries_the_request_id_the_server_sent(offline_server, partials):
    client, seen = sdk_seeing_ids(offline_server, "500")
    err = only_failure(list(cl.generate(client, GenerateSpec(prompt="a fox", partial_images=partials))))
    assert isinstance(err, cl.ServerError) and err.request_id == seen[-1]
