"""API keys on the offline backend: answered like the API, through the real SDK and on the wire."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import httpx2
import openai
import pytest

from imagelab.offline import start_server
from tests.sdk.conftest import opened

ROOT = Path(__file__).resolve().parents[2]
NO_KEY = ("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
          "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
          "accessing the API from your browser and are prompted for a username and password. You can obtain an "
          "API key from https://platform.openai.com/account/api-keys.")
TOKEN = "sk-imagelab-test-0123456789abcdefWXYZ"


@pytest.fixture(scope="module")
def guarded():
    srv = start_server(token=TOKEN)
    yield srv
    srv.stop()


def sdk(srv_or_url, key):
    url = getattr(srv_or_url, "base_url", srv_or_url)
    return opened(openai.OpenAI(api_key=key, base_url=url, max_retries=0, timeout=30))


def test_no_authorization_header_is_refused_with_the_apis_body(offline_server):
    r = httpx2.get(offline_server.base_url + "/models", timeout=10)
    assert r.status_code == 401
    assert r.json() == {"error": {"message": NO_KEY, "type": "invalid_request_error", "param": None, "code": None}}
    assert r.headers["x-request-id"].startswith("req_")


def test_an_empty_bearer_token_is_no_key(offline_server):
    r = httpx2.post(offline_server.base_url + "/images/generations", json={"prompt": "a fox"},
                    headers={"Authorization": "Bearer"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["message"] == NO_KEY


def test_without_a_token_any_key_is_accepted(offline_server):
    assert sdk(offline_server, "anything-at-all").models.list().data


def test_with_a_token_only_that_key_is_accepted(guarded):
    assert sdk(guarded, TOKEN).models.list().data
    assert guarded.token == TOKEN
    with pytest.raises(openai.AuthenticationError) as info:
        sdk(guarded, "sk-abcdefgh1234567890xyz9").models.list()
    e = info.value
    assert e.status_code == 401 and e.code == "invalid_api_key" and e.type == "invalid_request_error"
    assert e.body["message"] == ("Incorrect API key provided: sk-abcde*************xyz9. You can find your API key at "
                                 "https://platform.openai.com/account/api-keys.")
    assert "1234567890" not in e.response.text


def test_a_wrong_key_is_refused_before_the_body_is_used(guarded):
    with pytest.raises(openai.AuthenticationError):
        sdk(guarded, "sk-wrong").images.generate(prompt="a forbidden fox")  # no moderation answer: 401 first


def test_the_key_as_basic_auth_password(guarded):
    good = base64.b64encode(f":{TOKEN}".encode()).decode()
    assert httpx2.get(guarded.base_url + "/models", headers={"Authorization": f"Basic {good}"},
                      timeout=10).status_code == 200
    bad = base64.b64encode(b":sk-nope").decode()
    r = httpx2.get(guarded.base_url + "/models", headers={"Authorization": f"Basic {bad}"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize("how", ["flag", "env"])
def test_command_line_token(how):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "imagelab.offline", "--port", "0"]
    if how == "flag":
        args += ["--token", TOKEN]
    else:
        env["IMAGELAB_OFFLINE_TOKEN"] = TOKEN
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base_url = proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        assert sdk(base_url, TOKEN).models.list().data
        with pytest.raises(openai.AuthenticationError):
            sdk(base_url, "sk-other").models.list()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
