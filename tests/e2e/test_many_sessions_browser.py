"""Twenty people at once on a team's ImageLab (issue 22): 20 browser sessions × 3 runs × 2 pictures over two
Streamlit replicas (``IMAGELAB_WORKERS=0``) behind nginx and two worker processes, with real PostgreSQL, S3 and
sign-in (tests/services/team.py). 0 lost, 0 sent twice, 0 left running.

Each person logs in through the OpenID Connect provider's own page, as in test_team_browser, so the Generate
page shows each person their own runs and nobody else's; the pages are driven step by step in turn (one page
loads while the next is driven), since 20 logins one after the other would take minutes. The offline backend
runs in this process, so its request log shows every request the workers sent.
"""

from __future__ import annotations

import json
import secrets

import boto3
import pytest
from botocore.config import Config
from sqlalchemy import text

from imagelab.history.blobs import content_hash
from imagelab.offline import start_server
from tests.services.team import person, team

from .conftest import wait_idle, wait_until
from .test_replicas_browser import replica_of

pytestmark = pytest.mark.e2e

PEOPLE = 20
CLICKS = 3
PICTURES = 2
LATENCY = 0.3  # seconds a picture: short, and still long enough for runs of several sessions to overlap
WAIT_MS = 120_000  # 2 cores shared by 20 browser pages, 2 replicas, 2 workers and the rest
THINGS = ("a copper kettle on a windowsill", "a paper crane in the rain", "a lighthouse at dusk")


def prompt_of(who: dict[str, str], click: int) -> str:
    """What ``who`` asks for with their ``click``-th press (from 1): told apart from every other in the request log."""
    return f"{who['sub']}, click {click}: {THINGS[click - 1]}"


@pytest.fixture(scope="module")
def backend():
    """The offline backend the workers send to, in this process: its ``app.state.requests`` is what it received."""
    key = "sk-team-" + secrets.token_hex(12)
    server = start_server(token=key, faults=f"latency:{LATENCY}")
    yield server, key
    server.stop()


@pytest.fixture(scope="module")
def crowd(tmp_path_factory, backend):
    server, key = backend
    people = [person(f"painter{i:02d}") for i in range(1, PEOPLE + 1)]
    with team(tmp_path_factory.mktemp("crowd"), people, backend=(server.base_url, key)) as t:
        yield t, people


def sent(server, prompt: str) -> int:
    """How many requests carrying exactly ``prompt`` reached the backend."""
    return sum(json.dumps(prompt).encode() in r.body for r in list(server.app.state.requests))


def shows_own_runs(page, run_ids: list[int]) -> bool:
    """Whether the page's main part shows these runs' cards, each with its 2 pictures loaded, and no other picture."""
    return bool(page.evaluate("""([ids, n]) => {
        const loaded = root => [...root.querySelectorAll('[data-testid="stImage"] img')]
            .filter(i => i.complete && i.naturalWidth > 0).length;
        const main = document.querySelector('[data-testid="stMain"]');
        const cards = ids.map(id => document.querySelector(`.st-key-run_${id}`));
        return cards.every(c => c && loaded(c) === n) && loaded(main) === ids.length * n;
    }""", [run_ids, PICTURES]))


def log_everyone_in(t, people, browser) -> dict[str, object]:
    """Each person logs in through the provider's page in a browser context of their own, and opens Generate
    asking for 2 pictures. Step by step over all the pages: a page's loading goes on while the next is driven."""
    pages = {}
    for who in people:
        context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
        context.set_default_timeout(WAIT_MS)
        pages[who["sub"]] = page = context.new_page()
        page.goto(t.url, wait_until="commit")
    for page in pages.values():
        page.locator(".st-key-btn_login button").click()
    for sub, page in pages.items():
        page.get_by_role("button", name=sub, exact=True).click()
    for page in pages.values():
        page.wait_for_url(lambda url: url.startswith(t.url) and "oauth2callback" not in url)
        page.goto(t.url + "/Generate", wait_until="commit")
    for page in pages.values():
        wait_idle(page, WAIT_MS)
        page.locator(".st-key-gen_opt_n input").fill(str(PICTURES))
        page.locator(".st-key-gen_opt_n input").press("Enter")
    for page in pages.values():
        wait_idle(page, WAIT_MS)
    return pages


@pytest.mark.timeout(900)  # twenty logins and sixty runs on two cores: several minutes
def test_twenty_people_pressing_generate_three_times_each_lose_nothing_and_send_nothing_twice(crowd, backend,
                                                                                             browser):
    t, people = crowd
    server, _ = backend
    pages = {}
    try:
        pages = log_everyone_in(t, people, browser)
        # nginx's sticky cookie spreads the sessions over both replicas
        assert {replica_of(t, page.context) for page in pages.values()} == {r.port for r in t.replicas}

        # round by round each person types a new prompt and presses Generate, while the runs before still go
        for click in range(1, CLICKS + 1):
            for who in people:
                page = pages[who["sub"]]
                page.locator(".st-key-gen_prompt textarea").fill(prompt_of(who, click))
                page.locator(".st-key-btn_gen_run button").click()
            for page in pages.values():
                wait_idle(page, WAIT_MS)

        store = t.store()
        try:
            prompts = {prompt_of(who, click): who for who in people for click in range(1, CLICKS + 1)}
            wait_until(lambda: sum(1 for r in store.runs(200) if not r.active) >= len(prompts), timeout=180,
                       what="every run to end")
            runs = store.runs(200)
            # 0 lost: one run per press, each ok with both its pictures, their bytes in the bucket
            assert sorted(r.prompt for r in runs) == sorted(prompts)
            assert {r.status for r in runs} == {"ok"}, [(r.prompt, r.status, r.error) for r in runs if
                                                        r.status != "ok"]
            s3 = boto3.client("s3", endpoint_url=t.env["AWS_ENDPOINT_URL"],
                              aws_access_key_id=t.env["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=t.env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1",
                              config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
            own: dict[str, set[str]] = {who["sub"]: set() for who in people}
            for run in runs:
                assert run.owner == prompts[run.prompt]["sub"]
                images = store.images_of_run(run.id)
                assert sorted(i.index for i in images) == list(range(PICTURES)), run.prompt
                for image in images:
                    body = s3.get_object(Bucket=store.blobs.bucket,
                                         Key=store.blobs.key_for(image.hash, image.format))["Body"].read()
                    assert body[:8] == b"\x89PNG\r\n\x1a\n" and content_hash(body) == image.hash
                    own[run.owner or ""].add(image.hash)
            # 0 sent twice: the backend received each prompt once, and nothing else for pictures
            assert {p: sent(server, p) for p in prompts} == dict.fromkeys(prompts, 1)
            assert sum(1 for r in list(server.app.state.requests) if "/images/" in r.path) == len(prompts)
            # 0 left running: no run, and no job in the queue, still waiting or going
            assert not [r for r in store.runs(200) if r.active]
            with store.database.read() as db:
                unfinished = db.execute(text("SELECT count(*) FROM procrastinate_jobs "
                                             "WHERE status IN ('todo', 'doing')")).scalar()
            assert unfinished == 0
        finally:
            store.close()

        # each person's Generate page, still open, shows their own 3 runs with their 6 pictures and nobody else's
        for who in people:
            page = pages[who["sub"]]
            mine = [r.id for r in runs if r.owner == who["sub"]]
            wait_until(lambda page=page, mine=mine: shows_own_runs(page, mine), timeout=120,
                       what=f"{who['sub']}'s page to show their pictures")
            main = page.locator('[data-testid="stMain"]').inner_text()
            assert [p for p in prompts if p in main] == [p for p, whose in prompts.items() if whose == who]
    finally:
        for page in pages.values():
            page.context.close()
