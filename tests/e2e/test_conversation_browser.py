"""Two turns of a conversation in a real browser."""

import pytest

from imagelab.store import Store

from .conftest import screenshot, wait_idle, wait_until

pytestmark = pytest.mark.e2e


def send(page, text):
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill(text)
    box.press("Enter")


def test_two_turns(app_server, page):
    store = Store(app_server["data_dir"])
    before = len(store.conversations())
    page.goto(app_server["url"] + "/Conversation")
    wait_idle(page)
    send(page, "A small wooden cabin in a snowy pine forest")
    conv = wait_until(lambda: len(store.conversations()) > before and store.conversations()[0], what="turn 1")
    wait_until(lambda: [t for t in store.turns(conv.id) if t.status == "ok"], what="turn 1 saved")
    wait_idle(page)
    page.wait_for_selector("text=Turn 1", timeout=30_000)
    send(page, "Now make it night with warm light in the windows")
    turns = wait_until(lambda: len([t for t in store.turns(conv.id) if t.status not in ("queued", "running")]) == 2
                       and store.turns(conv.id), what="turn 2 saved")
    assert turns[1].parent_id == turns[0].id and all(t.status == "ok" for t in turns)
    wait_idle(page)
    page.wait_for_selector("text=Turn 2", timeout=30_000)
    assert page.locator('[data-testid="stChatMessage"]').count() >= 4
    # both turns' pictures appear without a reload once the engine has saved them
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stChatMessage\"] [data-testid=\"stImage\"] img')"
                           ".length >= 2", timeout=30_000)
    screenshot(page, "conversation")
