"""Request bodies the offline backend refuses as the API does: wrong content types, and bodies past a
size cap, refused without holding them in memory."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx2
import openai
import pytest

from imagelab.offline import edits
from imagelab.offline.files import MAX_FILE_BYTES
from imagelab.offline.protocol import MAX_JSON_BYTES
from imagelab.offline.responses import MAX_REQUEST_BYTES

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer sk-offline"}
MB = 1024 * 1024


def zeros(total: int, counter: list[int] | None = None, chunk: int = MB):
    """``total`` bytes, made as they are sent (the test never holds them), counted in ``counter``."""
    sent = 0
    while sent < total:
        n = min(chunk, total - sent)
        sent += n
        if counter is not None:
            counter[0] = sent
        yield b"\0" * n


def post(url, body, content_type, length=None, **headers):
    hdrs = {**AUTH, "Content-Type": content_type, **headers}
    if length is not None:
        hdrs["Content-Length"] = str(length)
    return httpx2.post(url, content=body, headers=hdrs, timeout=120)


# --------------------------------------------------------------------------- content types


@pytest.mark.parametrize("path", ["/images/generations", "/responses"])
def test_a_json_endpoint_refuses_json_sent_as_text(offline_server, path):
    body = json.dumps({"model": "gpt-5.5", "prompt": "a fox", "input": "a fox"})
    r = post(offline_server.base_url + path, body, "text/plain")
    assert r.status_code == 400
    assert r.json() == {"error": {
        "message": "Unsupported content type: 'text/plain'. This API method only accepts 'application/json' "
                   "requests, but you specified the header 'Content-Type: text/plain'. Please try again with a "
                   "supported content type.",
        "type": "invalid_request_error", "param": None, "code": "unsupported_content_type"}}


def test_json_with_a_charset_is_json(offline_server):
    r = post(offline_server.base_url + "/images/generations", json.dumps({"prompt": "a fox", "quality": "low"}),
             "application/json; charset=utf-8")
    assert r.status_code == 200 and r.json()["data"][0]["b64_json"]


def test_edits_refuse_a_body_that_is_neither_form_nor_json(offline_server):
    r = post(offline_server.base_url + "/images/edits", "prompt=a+fox", "application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "Unsupported content type: 'application/x-www-form-urlencoded'. This API method only accepts "
        "'application/json' and 'multipart/form-data' requests, but you specified the header 'Content-Type: "
        "application/x-www-form-urlencoded'. Please try again with a supported content type.")


def test_files_refuse_json(offline_server):
    r = post(offline_server.base_url + "/files", json.dumps({"purpose": "vision"}), "application/json")
    assert r.status_code == 400 and "only accepts 'multipart/form-data' requests" in r.json()["error"]["message"]


# --------------------------------------------------------------------------- size caps, in process


def test_json_just_under_the_cap_is_read_and_just_over_is_413(offline_server):
    url = offline_server.base_url + "/images/generations"
    frame = json.dumps({"prompt": ""}).encode()
    under = frame[:-2] + b"x" * (MAX_JSON_BYTES - len(frame)) + frame[-2:]
    assert len(under) == MAX_JSON_BYTES
    r = post(url, under, "application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "string_above_max_length"  # read, parsed, judged
    over = frame[:-2] + b"x" * (MAX_JSON_BYTES + 1 - len(frame)) + frame[-2:]
    r = post(url, over, "application/json")
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large" and r.json()["error"]["type"] == "invalid_request_error"


def test_a_chunked_json_body_is_counted_as_it_arrives(offline_server):
    # no Content-Length: the server must count; it answers 413 just past the cap
    r = post(offline_server.base_url + "/images/generations", zeros(MAX_JSON_BYTES + 1, chunk=64 * 1024),
             "application/json")
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def test_a_chunked_edit_form_is_counted_as_it_arrives(client, monkeypatch):
    monkeypatch.setattr(edits, "MAX_BODY_BYTES", 300_000)
    url = str(client.base_url) + "images/edits"
    boundary = "imagelabboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx\r\n--{boundary}\r\n"
            "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
            ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def form(size):
        yield head
        yield from zeros(size - len(head) - len(tail), chunk=16 * 1024)
        yield tail

    r = post(url, form(300_001), f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 413
    r = post(url, form(300_000), f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_image_file"  # read, then judged


@pytest.mark.parametrize("path,ctype", [("/images/generations", "application/json"),
                                        ("/images/edits", "multipart/form-data; boundary=b"),
                                        ("/files", "multipart/form-data; boundary=b")])
def test_an_announced_length_past_the_cap_is_refused_before_any_body_arrives(offline_server, path, ctype):
    # only the headers are sent: a server that waited for the body would never answer
    with socket.create_connection((offline_server.host, offline_server.port), timeout=10) as sock:
        sock.sendall((f"POST /v1{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-offline\r\n"
                      f"Content-Type: {ctype}\r\nContent-Length: {10 ** 12}\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
    head = answer.split(b"\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"connection: close" in answer.lower()


def test_the_sdk_sees_a_413_as_an_api_error(client):
    with pytest.raises(openai.APIStatusError) as info:
        client.images.generate(prompt="x" * (MAX_JSON_BYTES + 10))
    assert info.value.status_code == 413 and info.value.code == "request_too_large"


# --------------------------------------------------------------------------- size caps, the server's memory


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def server_process():
    """The offline server as its own process, so its peak memory is its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "imagelab.offline", "--port", "0"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base_url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
    yield proc, base_url
    proc.terminate()
    proc.wait(10)
    proc.stdout.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from /proc")
def test_huge_bodies_are_refused_without_taking_memory(server_process):
    proc, base_url = server_process
    assert httpx2.get(base_url + "/models", headers=AUTH, timeout=30).status_code == 200
    before = peak_rss_mb(proc.pid)
    cases = [  # (path, content type, bytes, announce the length)
        ("/images/edits", "multipart/form-data; boundary=b", edits.MAX_BODY_BYTES + 1, True),
        ("/files", "multipart/form-data; boundary=b", MAX_FILE_BYTES + 2 * MB, True),
        ("/responses", "application/json", MAX_REQUEST_BYTES + 1, True),
        ("/images/generations", "application/json", 200 * MB, False),  # chunked: counted, never kept
    ]
    for path, ctype, size, announce in cases:
        r = post(base_url + path, zeros(size), ctype, size if announce else None)
        assert r.status_code == 413, (path, r.text)
        assert r.json()["error"]["code"] in ("request_too_large", "file_too_large")
    grown = peak_rss_mb(proc.pid) - before
    assert grown < 64, f"the server's peak memory grew by {grown:.0f} MB"


# --------------------------------------------------------------------------- nesting


@pytest.mark.parametrize("path", ["/images/generations", "/images/edits", "/responses", "/moderations", "/batches"])
@pytest.mark.parametrize("deep", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000,
                                  '{"prompt": ' + "[" * 5_000 + "]" * 5_000 + "}"],
                         ids=["arrays", "objects", "inside a field"])
def test_json_nested_too_deeply_is_the_apis_400_not_a_server_error(offline_server, path, deep):
    r = post(offline_server.base_url + path, deep, "application/json")
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"], error
