"""A burst of requests to the offline backend: it draws a few pictures at a time (one per CPU), lets a few
more requests wait, and answers the rest with the API's 429 and ``retry-after``, which the SDK retries."""

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2
import openai
import pytest

from imagelab.offline import render, start_server

from .conftest import opened

BODY = {"model": "gpt-image-1.5", "prompt": "a lighthouse in a storm", "quality": "low", "size": "1024x1024"}


@pytest.fixture
def drawings_at_once(monkeypatch):
    """The most pictures the server's render.render drew at the same moment, counted inside it."""
    real = render.render
    lock = threading.Lock()
    seen = {"now": 0, "most": 0}

    def counted(*args, **kwargs):
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(render, "render", counted)
    return seen


async def _burst(url: str, count: int) -> list[httpx2.Response]:
    async with httpx2.AsyncClient(timeout=120, limits=httpx2.Limits(max_connections=count)) as client:
        return await asyncio.gather(*(client.post(url, json=BODY, headers={"Authorization": "Bearer sk-offline"})
                                      for _ in range(count)))


def test_sixty_requests_at_once_draw_one_picture_per_cpu_and_the_rest_wait_or_are_told_to_retry(drawings_at_once):
    srv = start_server()
    try:
        # on a thread of its own: a browser test's event loop may still run on this one (Playwright's sync API)
        with ThreadPoolExecutor(1) as pool:
            answers = pool.submit(lambda: asyncio.run(_burst(srv.base_url + "/images/generations", 60))).result()
        gate = srv.app.state.render_gate
    finally:
        srv.stop()
    cpus = os.cpu_count() or 1
    assert 0 < drawings_at_once["most"] <= cpus
    assert gate.most_running <= cpus
    assert {a.status_code for a in answers} <= {200, 429}
    refused = [a for a in answers if a.status_code == 429]
    assert refused and len(answers) - len(refused) >= cpus
    for a in refused:
        assert a.headers["retry-after"] == "1"
        assert a.json()["error"]["code"] == "rate_limit_exceeded" and a.json()["error"]["type"] == "requests"
    assert all(a.json()["data"][0]["b64_json"] for a in answers if a.status_code == 200)


def test_the_sdk_retries_a_busy_server_until_every_picture_is_made():
    srv = start_server(render_workers=1, render_queue=1)
    try:
        sdk = opened(openai.OpenAI(api_key="sk-offline", base_url=srv.base_url, max_retries=8, timeout=60))
        with ThreadPoolExecutor(6) as pool:
            made = list(pool.map(lambda _: sdk.images.generate(**BODY), range(6)))
        gate = srv.app.state.render_gate
    finally:
        srv.stop()
    assert gate.refused > 0  # some were told to come back ...
    assert all(m.data[0].b64_json for m in made)  # ... and every one came back with its picture
    assert gate.most_running == 1
