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
    with openai.OpenAI(api_key="sk-offline", base_url=offline_server.base_url, max_retries=0, timeout=30) as sdk:
        yield sdk


_opened: list[openai.OpenAI] = []


def opened(sdk: openai.OpenAI) -> openai.OpenAI:
    """Close ``sdk`` (and its connection pool) when the test ends."""
    _opened.append(sdk)
    return sdk


@pytest.fixture(autouse=True)
def close_opened_clients():
    yield
    while _opened:
        _opened.pop().close()
