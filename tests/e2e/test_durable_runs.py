"""A run someone paid for is never lost: whatever the person does while it streams, every image is saved.

The app runs against its built-in backend with injected latency, so a run is still streaming
previews when the person navigates away, edits the prompt, closes the tab, clicks again, cancels
or the app process is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from imagelab.store import Store

from .conftest import ROOT, launch_app, type_into, wait_idle, wait_until

pytestmark = pytest.mark.e2e

SLOW = {"IMAGELAB_OFFLINE_FAULT": "latency:4"}


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("durable"), env_extra=SLOW) as server:
        yield server


def set_number(page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    wait_idle(page)


def start_run(page, url: str, prompt: str, *, n: int = 2, partials: int = 2) -> None:
    """Open Generate, ask for ``n`` images with streamed previews, click Generate, see it start."""
    page.goto(url + "/Generate")
    wait_idle(page)
    type_into(page, "gen_prompt", prompt)
    set_number(page, "gen_opt_n", n)
    set_number(page, "gen_opt_partials", partials)
    page.locator(".st-key-btn_gen_run button").click()
    page.get_by_text("Generating", exact=False).first.wait_for(timeout=30_000)


def finished_run(store: Store, prompt: str, timeout: float = 90):
    def done():
        runs = [r for r in store.runs(100) if r.prompt == prompt and not r.active]
        return runs[0] if runs else None

    return wait_until(done, timeout=timeout, what=f"the run for {prompt!r} to finish")


def assert_kept(store: Store, run, n: int = 2) -> None:
    assert run.status == "ok", run.error
    images = store.images_of_run(run.id)
    assert sorted(i.index for i in images) == list(range(n))
    assert all(store.path_for(i.hash, i.format).exists() for i in images)


def shows_images_of(page, url: str, run, n: int = 2, *, reload: bool = True) -> None:
    """Generate shows the run's card with its pictures (after opening the page afresh, by default)."""
    if reload:
        page.goto(url + "/Generate")
        wait_idle(page)
    page.locator(f".st-key-run_{run.id}").wait_for(timeout=30_000)
    page.wait_for_function(
        "([key, n]) => document.querySelectorAll(`.${key} [data-testid=\"stImage\"] img`).length >= n",
        arg=[f"st-key-run_{run.id}", n], timeout=30_000)


def test_navigating_away_mid_run_keeps_every_image(slow_app, page):
    store = Store(slow_app["data_dir"])
    prompt = "Durable one: a paper boat on a puddle"
    start_run(page, slow_app["url"], prompt)
    page.locator('[data-testid="stSidebar"]').get_by_text("Gallery").click()
    page.wait_for_url("**/Gallery*")
    run = finished_run(store, prompt)
    assert_kept(store, run)
    shows_images_of(page, slow_app["url"], run)


def test_editing_the_prompt_mid_run_keeps_every_image(slow_app, page):
    store = Store(slow_app["data_dir"])
    prompt = "Durable two: a kite over dunes"
    start_run(page, slow_app["url"], prompt)
    type_into(page, "gen_prompt", "Something else entirely, typed while the run streams")
    run = finished_run(store, prompt)
    assert_kept(store, run)
    shows_images_of(page, slow_app["url"], run, reload=False)  # appears on the page that is still open
    # the page keeps what the person typed meanwhile
    assert page.locator(".st-key-gen_prompt textarea").input_value().startswith("Something else entirely")


def test_closing_the_tab_mid_run_keeps_every_image(slow_app, browser):
    store = Store(slow_app["data_dir"])
    prompt = "Durable three: a lantern in the fog"
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    first = context.new_page()
    start_run(first, slow_app["url"], prompt)
    context.close()
    run = finished_run(store, prompt)
    assert_kept(store, run)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        shows_images_of(context.new_page(), slow_app["url"], run)
    finally:
        context.close()


def test_two_clicks_a_second_apart_both_finish_and_show(slow_app, page):
    store = Store(slow_app["data_dir"])
    first, second = "Durable four: a red umbrella", "Durable five: a green bicycle"
    start_run(page, slow_app["url"], first, n=1, partials=1)
    page.wait_for_timeout(1000)
    type_into(page, "gen_prompt", second)
    page.locator(".st-key-btn_gen_run button").click()
    runs = [finished_run(store, first), finished_run(store, second)]
    for run in runs:
        assert_kept(store, run, n=1)
    shows_images_of(page, slow_app["url"], runs[0], n=1)
    shows_images_of(page, slow_app["url"], runs[1], n=1)


def test_cancel_beside_the_button_keeps_the_run_as_cancelled(slow_app, page):
    store = Store(slow_app["data_dir"])
    prompt = "Durable five and a half: a beetle on a stone"
    start_run(page, slow_app["url"], prompt, n=1, partials=2)
    page.locator(".st-key-btn_gen_cancel_sent button").first.click()
    run = finished_run(store, prompt)
    assert run.status == "cancelled" and "Cancelled" in run.error
    page.get_by_text("cancelled", exact=False).first.wait_for(timeout=30_000)
    # once the run has ended, the page is drawn in full: its card, and no Cancel left beside the button
    page.locator(f".st-key-run_{run.id}").wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('.st-key-btn_gen_cancel_sent')", timeout=30_000)


@pytest.fixture(scope="module")
def slower_app(tmp_path_factory):
    """A run long enough to outlast a trip to another page on a loaded machine (4 s did not, at times)."""
    with launch_app(tmp_path_factory.mktemp("durable-tray"), env_extra={"IMAGELAB_OFFLINE_FAULT": "latency:15"}) \
            as server:
        yield server


def test_cancel_from_the_tray_keeps_the_run_as_cancelled(slower_app, page):
    slow_app = slower_app
    store = Store(slow_app["data_dir"])
    prompt = "Durable six: a snail on a leaf"
    start_run(page, slow_app["url"], prompt, n=1, partials=2)
    page.goto(slow_app["url"] + "/Gallery")  # the tray on another page lists the run still going
    wait_idle(page)
    page.locator('[data-testid="stSidebar"] [class*="st-key-btn_tray_cancel_"] button').first.click()
    run = finished_run(store, prompt)
    assert run.status == "cancelled" and "Cancelled" in run.error
    page.goto(slow_app["url"] + "/Generate")
    page.locator(f".st-key-run_{run.id}").get_by_text("cancelled", exact=False).first.wait_for(timeout=30_000)


def test_killed_app_marks_the_run_interrupted_and_starts_clean(tmp_path, browser):
    """SIGKILL mid-run, then start again on the same data directory."""
    data = tmp_path / "killed"
    with launch_app(data, env_extra=SLOW) as first:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        start_run(page, first["url"], "Durable seven: a clock tower at noon", n=2, partials=1)
        store = Store(data)
        wait_until(lambda: [r for r in store.runs(10) if r.status == "running"], what="the run to be running")
        # a stray temporary file, as a write cut short by the kill would leave
        (store.images_dir / "ab").mkdir(exist_ok=True)
        (store.images_dir / "ab" / ".tmp-cut-short").write_bytes(b"half a picture")
        os.kill(first["pid"], signal.SIGKILL)
        context.close()
    with launch_app(data) as server:
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        page = context.new_page()
        for path in ("", "/Generate", "/Gallery", "/Conversation", "/Sweep"):
            page.goto(server["url"] + path)
            wait_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, path
        context.close()
        store = Store(data)
        run = store.runs(10)[0]
        assert run.status == "interrupted" and "stopped before this run finished" in run.error
        assert not list(store.images_dir.rglob(".tmp-*"))
        for image in store.images_of_run(run.id):  # whatever had been saved is still there
            assert store.path_for(image.hash, image.format).exists()


def test_a_conversation_turn_survives_a_killed_app(tmp_path, browser):
    """The turn runs in the background at the API; a restarted app picks its events up where it left off."""
    data = tmp_path / "turn"
    data.mkdir()
    token = "sk-standalone-backend-token"
    backend_env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    backend_env.update(IMAGELAB_OFFLINE_FAULT="latency:8", PYTHONPATH=str(ROOT))
    backend = subprocess.Popen([sys.executable, "-m", "imagelab.offline", "--port", "0", "--token", token],
                               cwd=ROOT, env=backend_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    base_url = backend.stdout.readline().strip().rsplit(" ", 1)[-1]
    env_extra = {"OPENAI_API_KEY": token, "OPENAI_BASE_URL": base_url}
    store = Store(data)
    try:
        with launch_app(data, env_extra=env_extra) as first:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.goto(first["url"] + "/Conversation")
            wait_idle(page)
            box = page.locator('[data-testid="stChatInputTextArea"]')
            box.fill("A lighthouse keeper's cottage in a storm")
            box.press("Enter")
            # the turn is under way at the backend: its response id and position are in the store
            run = wait_until(lambda: next((r for r in store.runs(5) if r.response_id and r.status == "running"),
                                          None), what="the turn to be running in the background")
            os.kill(first["pid"], signal.SIGKILL)
            context.close()
        with launch_app(data, env_extra=env_extra) as server:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            page.goto(server["url"] + "/Conversation")  # the last conversation reopens; its turn resumes
            wait_idle(page)
            done = wait_until(lambda: store.run(run.id) if not store.run(run.id).active else None, timeout=90,
                              what="the resumed turn to finish")
            assert done.status == "ok", done.error
            turn = store.turns(store.conversations()[0].id)[0]
            assert turn.status == "ok" and turn.image_hash and turn.response_id == run.response_id
            page.locator('[data-testid="stChatMessage"] [data-testid="stImage"] img').first.wait_for(timeout=30_000)
            context.close()
    finally:
        backend.kill()
        backend.wait(10)
        backend.stdout.close()
