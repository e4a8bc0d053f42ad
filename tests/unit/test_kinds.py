"""Jobs as data: a job read back from its JSON sends the same request, and carries no key."""

import json

import pytest

from imagelab.client import Connection
from imagelab.drift import KeepExact
from imagelab.prompts import DESCRIBE, PromptRequest
from imagelab.runs.kinds import KINDS, BadJob, Job, PostStep, kind_of
from imagelab.specs import EditSpec, GenerateSpec, InputImage, MaskInput, TurnSpec

KEY = "sk-person-typed-4b1d9e"
PICTURE = InputImage(b"\x89PNG picture bytes", "a.png", "image/png", 64, 48, "ab" * 32)
MASK = MaskInput(b"\x89PNG mask bytes", 64, 48, "cd" * 32, 0.25)


@pytest.mark.parametrize("spec", [
    GenerateSpec(prompt="a lighthouse", n=2, quality="low"),
    EditSpec(prompt="make it night", images=(PICTURE,), mask=MASK, input_fidelity="high"),
    TurnSpec(prompt="and a moon", images=(PICTURE,), previous_response_id="resp_1"),
    PromptRequest(kind=DESCRIBE, image=PICTURE),
])
def test_a_job_read_back_from_json_makes_the_same_request_and_holds_no_key(spec):
    conn = Connection("http://127.0.0.1:9/v1", KEY, label="Custom", offline=False)
    post = PostStep.keep_exact(KeepExact(b"original", b"mask", 12))
    job = Job.of(kind_of(spec), spec, conn, page="p", parents=("ab" * 32,), group="g", label="l", post=post)
    text = job.dumps()
    assert KEY not in text
    back = Job.from_json(json.loads(text))
    assert back == job
    again = back.spec_object()
    assert again == spec
    assert again.to_sdk_kwargs() == spec.to_sdk_kwargs()
    request = back.request("sk-worker-own")
    assert request.call is KINDS[job.kind].call and request.connection.api_key == "sk-worker-own"
    assert request.postprocess == KeepExact(b"original", b"mask", 12)


def test_a_job_this_version_cannot_read_says_so():
    with pytest.raises(BadJob, match="no job kind is named 'paint'"):
        Job.from_json({"kind": "paint", "spec": {}, "backend": {"base_url": None, "label": "x"}, "page": "p"})
    with pytest.raises(BadJob, match="has no field colour"):
        Job.from_json({"kind": "generate", "spec": {"colour": "red"}, "backend": {"base_url": None, "label": "x"},
                       "page": "p"}).spec_object()
