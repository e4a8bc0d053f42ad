"""Generate's form reruns on its own when a person types or clicks: what it says still reaches the page."""

import re

import pytest

from imagelab.store import Store

from .conftest import record_sending, sending_seen, type_into, wait_idle, wait_until

pytestmark = pytest.mark.e2e


def _alerts(page) -> str:
    return " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())


def test_typing_updates_the_estimate_and_a_refusal_is_said_and_cleared(app_server, page):
    page.goto(app_server["url"] + "/Generate")
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").click()
    page.get_by_text("Write a prompt: it is empty.").wait_for(timeout=30_000)
    side = page.locator('[data-testid="stSidebar"]')
    assert "text in 0 " in side.inner_text()
    area = page.locator(".st-key-gen_prompt textarea")
    area.fill("A red kite over a green hill " * 20)
    area.blur()  # commits the text; Ctrl+Enter would press the primary button
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.body.innerText.includes('Write a prompt: it is empty.')",
                           timeout=30_000)
    wait_idle(page)
    assert "text in 0 " not in side.inner_text()  # the sidebar's estimate counts the typed prompt
    assert "empty" not in _alerts(page)


def _server_messages(page, note) -> list[str]:
    """What ``note(message)`` makes of each message the server sends over the WebSocket (a Streamlit
    ``ForwardMsg``; ``None``: nothing), in order."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    seen: list[str] = []

    def frame(payload) -> None:
        if not isinstance(payload, bytes):
            return
        msg = ForwardMsg()
        msg.ParseFromString(payload)
        noted = note(msg)
        if noted is not None:
            seen.append(noted)

    page.on("websocket", lambda ws: ws.on("framereceived", frame))
    return seen


def _finished_runs(page) -> list[str]:
    """How each script run the server finishes says it ended: "full" for the whole page, "part" for a
    fragment's own run."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    ends = {ForwardMsg.FINISHED_SUCCESSFULLY: "full", ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "part"}
    return _server_messages(page, lambda msg: ends.get(msg.script_finished, "other")
                            if msg.WhichOneof("type") == "script_finished" else None)


def test_a_run_sent_from_the_form_ends_in_place_without_a_redraw_of_the_page(app_server, page):
    """The form shows the run it sent and, once it has ended, its finished card with the actions, the sidebar's
    figures and no Cancel, all from the form's own run: the page is not redrawn in full (which cost the browser
    more than the rest of the run). Typing afterwards keeps all of it."""
    finished = _finished_runs(page)
    estimates = _server_messages(page, lambda msg: "estimate" if msg.WhichOneof("type") == "delta"
                                 and msg.delta.WhichOneof("type") == "add_block"
                                 and re.search(r"sidebar_estimate\w*$", msg.delta.add_block.id) else None)
    page.goto(app_server["url"] + "/Generate")
    wait_idle(page)
    type_into(page, "gen_prompt", "A paper boat on a puddle after rain")
    side = page.locator('[data-testid="stSidebar"]')
    before, estimates_before = len(finished), len(estimates)
    page.locator(".st-key-btn_gen_run button").click()
    card = page.locator('[class*="st-key-run_"]').filter(has_text="A paper boat on a puddle").first
    card.locator(".stDownloadButton").wait_for(timeout=60_000)  # the finished card, with its actions
    wait_idle(page)
    assert "PNG" in card.locator(".stDownloadButton").inner_text()
    assert card.locator('[data-testid="stImage"] img').evaluate("img => img.naturalWidth") > 100
    assert page.locator(".st-key-btn_gen_cancel_sent").count() == 0  # nothing left to cancel
    side.get_by_text("1 run(s)", exact=False).wait_for(timeout=10_000)  # the sidebar's session figures moved
    assert "No run has finished in this session yet." not in side.inner_text()
    assert finished[before:] and set(finished[before:]) == {"part"}, finished[before:]
    # drawn cheaply: the estimate not at all (the form draws it; a click reruns only the button's part, and as the
    # run ends only the money beneath it can move), the usage panels in one Markdown element (six cost ~50 ms)
    assert len(estimates) == estimates_before
    assert side.locator('.st-key-usage_fresh [data-testid="stMarkdown"]').count() == 1
    # typing in the form afterwards reruns only the form: the card and the sidebar's figures stay
    type_into(page, "gen_prompt", "A paper boat on a puddle after rain, seen from above")
    assert card.locator(".stDownloadButton").count() == 1
    assert "1 run(s)" in side.inner_text()
    assert set(finished[before:]) == {"part"}, finished[before:]


def _card_blocks(page) -> list[str]:
    """The keys of the run cards (``run_…`` containers) the server sends, in order."""

    def card(msg) -> str | None:
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "add_block":
            return None
        found = re.search(r"run_\d+\w*$", msg.delta.add_block.id)
        return found.group(0) if found else None

    return _server_messages(page, card)


def test_the_card_of_a_run_going_is_drawn_once_and_changed_in_place(app_server, page):
    """While the run the form sent goes (queued, sending, previews, saved), its card is sent to the browser once
    and only its changed parts follow: a card sent anew at each change was rebuilt by the browser, picture and
    all. Once the run has ended, its finished card replaces it."""
    blocks = _card_blocks(page)
    page.goto(app_server["url"] + "/Generate")
    wait_idle(page)
    page.locator(".st-key-gen_opt_partials input").fill("2")
    page.locator(".st-key-gen_opt_partials input").press("Enter")
    wait_idle(page)
    type_into(page, "gen_prompt", "A kite caught in a cherry tree")
    before = len(blocks)
    page.locator(".st-key-btn_gen_run button").click()
    card = page.locator('[class*="st-key-run_"]').filter(has_text="A kite caught in a cherry tree").first
    card.locator(".stDownloadButton").wait_for(timeout=60_000)
    wait_idle(page)
    sent = blocks[before:]
    going = [b for b in sent if not re.fullmatch(r"run_\d+", b)]
    assert len(going) == 1 and going[0].endswith("_sent"), sent
    assert len(sent) == 2 and re.fullmatch(r"run_\d+", sent[-1]), sent  # then the finished card


def test_a_click_shows_a_card_with_the_prompt_at_once_until_the_run_s_own_card_arrives(app_server, page):
    """The browser draws a card the moment Generate is pressed, with the prompt being sent, before the server has
    answered; the run's own card takes its place. A click the server refuses leaves no such card."""
    page.goto(app_server["url"] + "/Generate")
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").click()  # nothing typed: refused beside the button
    page.get_by_text("Write a prompt: it is empty.").wait_for(timeout=30_000)
    assert page.locator(".il-sending").inner_text() == ""
    type_into(page, "gen_prompt", "A heron standing in a misty river")
    record_sending(page)
    page.locator(".st-key-btn_gen_run button").click()
    card = page.locator('[class*="st-key-run_"]').filter(has_text="A heron standing in a misty river").first
    card.locator(".stDownloadButton").wait_for(timeout=60_000)
    wait_idle(page)
    assert sending_seen(page)[:1] == ["Sending… A heron standing in a misty river"], sending_seen(page)
    assert page.locator(".il-sending").inner_text() == ""  # gone once the run's own card was there
    assert not page.locator(".il-sending").is_visible()


def _form_widgets_sent(page) -> list[str]:
    """The keys of the form's own widgets (prompt, model, options) each time the server sends one."""

    def widget(msg) -> str | None:
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            return None
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        found = re.search(r"(gen_prompt|gen_model|gen_opt_\w+)$", getattr(getattr(element, kind), "id", "") or "")
        return found.group(1) if found else None

    return _server_messages(page, widget)


def test_a_click_reruns_the_button_s_part_not_the_form_and_sends_what_was_typed_last(app_server, page):
    """A click on Generate reruns only the button's own part: the prompt, the model and the options are not sent
    to the browser again (the browser drew about 60 elements anew for each click). What it sends is what the form
    holds at the click: text typed and clicked away from at once is sent, not the prompt before it."""
    widgets = _form_widgets_sent(page)
    page.goto(app_server["url"] + "/Generate")
    wait_idle(page)
    type_into(page, "gen_prompt", "A lighthouse keeper's cat asleep on a windowsill")
    assert "gen_prompt" in widgets and "gen_opt_size" in widgets  # typing reruns the form, with its options
    before = len(widgets)
    page.locator(".st-key-btn_gen_run button").click()
    card = page.locator('[class*="st-key-run_"]').filter(has_text="A lighthouse keeper's cat").first
    card.locator(".stDownloadButton").wait_for(timeout=60_000)
    wait_idle(page)
    assert widgets[before:] == []
    # typed and clicked at once: the text commits as the button is pressed, and the click waits for the form
    page.locator(".st-key-gen_prompt textarea").fill("A fox crossing a frozen lake at dawn")
    page.locator(".st-key-btn_gen_run button").click()
    store = Store(app_server["data_dir"])
    wait_until(lambda: any(image.prompt.startswith("A fox") for image in store.recent_images(limit=50)))
    page.get_by_text("A fox crossing a frozen lake at dawn").first.wait_for(timeout=30_000)
    wait_idle(page)
    prompts = [image.prompt for image in store.recent_images(limit=50)]
    assert prompts.count("A fox crossing a frozen lake at dawn") == 1
    assert prompts.count("A lighthouse keeper's cat asleep on a windowsill") == 1
