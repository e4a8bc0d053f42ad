"""The workspace in a real browser: nothing leaves the machine, the Compare split moves without the
server, Ctrl+Enter runs a page's primary action, Present fills the window."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import launch_app, screenshot, wait_idle, wait_until

pytestmark = pytest.mark.e2e

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TOUR = ["", "/Generate", "/Reference_edit", "/Mask_edit", "/Conversation", "/Sweep", "/Gallery", "/Compare",
        "/Present"]


def seed(data_dir):
    """Two generations and an edit of the first, all starred (Present shows starred pictures)."""
    store = Store(data_dir)
    recs = []
    for i, prompt in enumerate(["A teal lighthouse on a red cliff", "Orange poppies under a blue sky"]):
        run = store.start_run("generate", "gpt-image-2", prompt, {"size": "1024x1024"}, billed=False)
        recs.append(store.add_image(run, 0, render(prompt, 1024, 1024, quality="low", index=i), "png", 1024, 1024))
        store.finish_run(run, "ok", usage={"total_tokens": 300}, actual_dollars=0.0059)
    run = store.start_run("reference_edit", "gpt-image-2", "The lighthouse at night", {}, billed=False)
    recs.append(store.add_image(run, 0, render("The lighthouse at night", 1024, 1024, quality="low"), "png", 1024,
                                1024, parents=[recs[0].hash]))
    store.finish_run(run, "ok", usage={"total_tokens": 300}, actual_dollars=0.0059)
    for rec in recs:
        store.set_starred(rec.id, True)
    return store, recs


@pytest.fixture
def fresh_app(tmp_path):
    with launch_app(tmp_path / "data") as server:
        yield server


def _outside(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme not in ("data", "blob", "about") and parsed.hostname not in LOCAL_HOSTS


def test_a_full_tour_and_a_run_never_leave_the_machine(fresh_app, browser):
    seed(fresh_app["data_dir"])
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    seen: list[str] = []
    outside: list[str] = []
    context.on("request", lambda request: seen.append(request.url))

    def refuse(route):  # never reach the internet, even when the app tries
        outside.append(route.request.url)
        route.abort()

    context.route(lambda url: _outside(url), refuse)
    page = context.new_page()
    try:
        for path in TOUR:
            page.goto(fresh_app["url"] + path)
            wait_idle(page)
            page.wait_for_timeout(500)  # icons, fonts and frames that load after the script ran
        page.goto(fresh_app["url"] + "/Generate")
        wait_idle(page)
        page.locator(".st-key-gen_prompt textarea").fill("A paper boat on a puddle")
        page.locator(".st-key-btn_gen_run button").click()
        store = Store(fresh_app["data_dir"])
        wait_until(lambda: any(r.prompt == "A paper boat on a puddle" and not r.active for r in store.runs()),
                   what="the run")
        page.wait_for_selector(".st-key-run_4 [data-testid='stImage'] img", timeout=60_000)
        page.wait_for_timeout(500)
    finally:
        context.close()
    assert len(seen) > 50  # the recorder saw the tour
    assert outside == [], f"requests left the machine: {sorted(set(outside))}"
    assert not [url for url in seen if _outside(url)]


def test_the_compare_split_moves_in_the_browser_without_a_rerun(fresh_app, page):
    store, recs = seed(fresh_app["data_dir"])
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(fresh_app["url"] + "/Gallery")
    wait_idle(page)
    for rec in (recs[0], recs[2]):
        page.locator(f".st-key-gallery_sel_{rec.id} label").click()
        wait_idle(page)
    page.locator(".st-key-btn_gallery_compare button").first.click()
    page.wait_for_url("**/Compare*")
    wait_idle(page)
    pair = page.locator(".st-key-compare_pair input")
    assert pair.input_value() == "The lighthouse at night — against its input"
    pair.click()
    if not page.locator("[role='option']").first.is_visible():
        page.keyboard.press("ArrowDown")  # a click that only focused the box: the keyboard opens its list
    page.locator("[role='option']").first.wait_for()
    options = page.locator("[role='option']").all_inner_texts()
    assert options == ["The lighthouse at night — against its input",
                       "A teal lighthouse on a red cliff ◀ ▶ The lighthouse at night"]
    page.keyboard.press("Escape")
    wait_idle(page)

    frame_element = page.locator("iframe[srcdoc*='Before and after split']")
    frame = page.frame_locator("iframe[srcdoc*='Before and after split']")
    frame.locator("#frame").wait_for()
    frame_element.scroll_into_view_if_needed()
    sent: list[object] = []
    page.on("websocket", lambda ws: ws.on("framesent", sent.append))
    box = frame.locator("#frame").bounding_box()  # in the page's coordinates
    before = float(frame.locator("#frame").get_attribute("data-split"))
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    for step in range(1, 21):  # 20 drag steps, from the middle to 30% of the width
        page.mouse.move(box["x"] + box["width"] * (0.5 - step * 0.01), y)
    page.mouse.up()
    page.wait_for_timeout(300)
    after = float(frame.locator("#frame").get_attribute("data-split"))
    assert before == 50 and 26 <= after <= 34
    # the before picture is clipped at the line: pixels left of it are the input's, right of it the edit's
    assert frame.locator("#before").evaluate("e => e.style.clipPath") == f"inset(0px {100 - after:g}% 0px 0px)"
    assert page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state") == "notRunning"
    page.wait_for_timeout(500)
    assert sent == []  # no rerun: the browser sent the server nothing while the line moved
    screenshot(page, "compare_slider")


def test_ctrl_enter_runs_generate_and_sends_a_conversation_turn(fresh_app, page):
    store = Store(fresh_app["data_dir"])
    page.goto(fresh_app["url"] + "/Generate")
    wait_idle(page)
    area = page.locator(".st-key-gen_prompt textarea")
    area.fill("A kite over a beach")
    area.press("Control+Enter")
    runs = wait_until(lambda: [r for r in store.runs() if not r.active], what="the run Ctrl+Enter started")
    assert [(r.page, r.prompt) for r in runs] == [("generate", "A kite over a beach")]
    page.wait_for_selector("[data-testid='stImage'] img", timeout=60_000)

    page.goto(fresh_app["url"] + "/Conversation")
    wait_idle(page)
    chat = page.locator("[data-testid='stChatInputTextArea']")
    chat.fill("A red kite")
    chat.press("Control+Enter")
    wait_until(lambda: any(r.page == "conversation" and r.prompt == "A red kite" for r in store.runs()),
               what="the turn Ctrl+Enter sent")
    assert len(store.runs()) == 2


@pytest.mark.parametrize("size", [(1440, 900), (1280, 720)])
def test_present_fills_the_window_without_the_sidebar(fresh_app, page, size):
    seed(fresh_app["data_dir"])
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    page.goto(fresh_app["url"] + "/Present")
    wait_idle(page)
    frame = page.frame_locator("iframe").first
    frame.locator("#count").wait_for()
    assert frame.locator("#count").inner_text() == "1 / 3"
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert not page.get_by_text("Estimate of this request").is_visible()
    seconds = page.locator(".st-key-present_seconds")
    assert "Seconds per slide" in seconds.inner_text()
    stage = page.locator(".st-key-present_stage iframe").bounding_box()
    assert stage["x"] < 40 and stage["width"] > width - 80  # the whole width ...
    assert stage["y"] + stage["height"] <= height and stage["height"] > height - 130  # ... and the height left
    screenshot(page, f"present_full_{width}x{height}")
