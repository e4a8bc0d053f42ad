"""Two Streamlit replicas behind a real nginx (deploy/nginx.conf.template), with real PostgreSQL, S3, sign-in
provider and workers (tests/services/team.py): killing the replica a person is on loses them nothing."""

from __future__ import annotations

import os
import re
import signal

import pytest

from tests.services.oidc import ALICE, BOB
from tests.services.team import team

from .conftest import screenshot, wait_idle, wait_until
from .test_team_browser import generate, log_in

pytestmark = pytest.mark.e2e

FIRST = "Alice's copper teapot on a slate roof"
SECOND = "Alice's paper boat in a storm drain"


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory):
    # 8 s a picture: the second run is still being sent when its replica dies
    with team(tmp_path_factory.mktemp("replicas"), [ALICE, BOB], latency=8.0) as t:
        yield t


def replica_of(t, context) -> int:
    """The port of the replica nginx sends this browser to, from nginx's own log of the browser's requests."""
    cookie = next(c["value"] for c in context.cookies() if c["name"] == "imagelab_replica")
    lines = [line for line in (t.folder / "nginx" / "access.log").read_text().splitlines()
             if f"browser={cookie}" in line and "replica=127.0.0.1:" in line]
    # after a failed try nginx logs every replica it tried ("127.0.0.1:A, 127.0.0.1:B"): the last one answered
    tried = re.search(r"replica=(.*?) browser=", lines[-1])
    assert tried is not None
    return int(tried.group(1).split(", ")[-1].rsplit(":", 1)[1])


def test_a_person_whose_replica_dies_reloads_onto_the_other_and_finds_all_their_work(two_replicas, browser):
    t = two_replicas
    context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    try:
        log_in(page, t.url, ALICE)
        generate(page, t.url, FIRST)
        page.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
        home = replica_of(t, context)
        assert home in {r.port for r in t.replicas}

        page.goto(t.url + "/Generate")
        wait_idle(page)
        page.locator(".st-key-gen_prompt textarea").fill(SECOND)
        page.locator(".st-key-gen_prompt textarea").blur()
        page.wait_for_timeout(300)
        wait_idle(page)
        page.locator(".st-key-btn_gen_run button").click()
        store = t.store()
        run = wait_until(lambda: [r for r in store.runs(10) if r.prompt == SECOND], what="the run")[0]
        assert run.status in {"queued", "running"}  # submitted, not finished: the workers have it
        assert replica_of(t, context) == home  # every request of this browser went to one replica

        dead = t.replica_at(home)
        os.kill(dead.pid, signal.SIGKILL)
        dead.proc.wait(10)

        page.reload()
        wait_idle(page)
        assert "alice@example.com" in page.locator('[data-testid="stSidebar"]').inner_text()  # still logged in
        assert replica_of(t, context) != home
        page.goto(t.url + "/Gallery")
        wait_idle(page)
        main = page.locator('[data-testid="stMain"]')
        main.get_by_text(FIRST).first.wait_for(timeout=30_000)
        # the run sent through the dead replica finishes on the workers and shows here
        main.get_by_text(SECOND).first.wait_for(timeout=60_000)
        wait_idle(page)
        # both pictures load, by presigned S3 URLs any replica can hand out
        page.wait_for_function("() => [...document.querySelectorAll('img[src*=\"X-Amz-\"]')]"
                               ".filter(i => i.complete && i.naturalWidth > 0).length >= 2", timeout=30_000)
        finished = wait_until(lambda: [r for r in store.runs(10)
                                       if r.prompt == SECOND and r.status == "ok"], what="the run to finish")
        assert len(finished) == 1
        assert len(store.search_images(text="paper boat")[0]) == 1  # sent once, saved once
        screenshot(page, "replicas_after_one_died")
        page.set_viewport_size({"width": 1280, "height": 720})
        screenshot(page, "replicas_after_one_died_1280")
        store.close()
    finally:
        context.close()
