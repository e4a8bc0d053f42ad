"""Fixtures for driving the real openai SDK over HTTP against the offline server."""

import openai
import pytest

from imagelab.offline import start_server


@pytest.fixture(scope="session")
def offline_server():
    srv = start_server(host="127.0.0.1", port=0)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def client(offline_server):
    return openai.OpenAI(api_key="sk-offline", base_url=offline_server.base_url, max_retries=0, timeout=30)
