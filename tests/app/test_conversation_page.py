"""The Conversation page through AppTest: turns chained with previous_response_id, and a branch."""

import pytest
from openai.resources.responses.responses import Responses

from components import state
from imagelab.store import Store
from imagelab.text import code_span

from .conftest import open_page, page_text, settle, shown


@pytest.fixture
def sent(monkeypatch):
    """Record every responses.create call's keyword arguments, then let it through to the backend."""
    calls = []
    original = Responses.create

    def spy(self, *args, **kwargs):
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Responses, "create", spy)
    return calls


def say(at, text):
    at.chat_input(key=state.CONV_INPUT).set_value(text).run()
    assert not at.exception, at.exception
    settle(at)
    assert not at.exception, at.exception
    assert not at.error, shown(at.error)


def test_three_turns_and_a_branch(data_dir, sent):
    at = open_page("pages/4_Conversation.py").run()
    say(at, "A lighthouse on a rocky coast at dusk")
    say(at, "Make the sky deep purple")
    say(at, "Add a small red boat")
    store = Store(data_dir)
    conv = store.conversations()[0]
    turns = store.turns(conv.id)
    assert [t.status for t in turns] == ["ok", "ok", "ok"]
    assert all(t.response_id and t.image_hash for t in turns)
    # each turn continued from the one before
    assert sent[0].get("previous_response_id") is None
    assert sent[1]["previous_response_id"] == turns[0].response_id
    assert sent[2]["previous_response_id"] == turns[1].response_id
    assert [t.parent_id for t in turns] == [None, turns[0].id, turns[1].id]

    # branch: continue from turn 1
    at.button(key=f"btn_conv_from_{turns[0].id}").click().run()
    say(at, "Make it a snowy winter night instead")
    turns = store.turns(conv.id)
    assert len(turns) == 4 and turns[3].parent_id == turns[0].id
    assert sent[3]["previous_response_id"] == turns[0].response_id
    # the transcript shows the branch taken: turn 1 then the new turn, and a branch chooser
    text = page_text(at.main)
    assert "snowy winter night" in text and "small red boat" not in text
    branch = [r for r in at.radio if r.label == "Branch"]
    assert len(branch) == 1 and len(branch[0].options) == 2
    assert any("2 branches continue from this turn" in c.value for c in at.caption)


def test_conversation_reopens_after_a_restart(data_dir, sent):
    at = open_page("pages/4_Conversation.py").run()
    say(at, "A bowl of green apples")
    conv_id = Store(data_dir).conversations()[0].id
    say(at, "Put them on a blue plate")
    fresh = open_page("pages/4_Conversation.py").run()   # a new session, as after a reload or a restart
    assert fresh.selectbox(key=state.CONV_PICKER).value == conv_id  # not an empty "New conversation"
    transcript = page_text(fresh.main)
    assert "A bowl of green apples" in transcript and "Put them on a blue plate" in transcript
    say(fresh, "Now make them red")
    turns = Store(data_dir).turns(conv_id)
    assert sent[-1]["previous_response_id"] == turns[1].response_id and turns[2].parent_id == turns[1].id


def test_expired_previous_response_resends_the_last_image(data_dir, sent):
    at = open_page("pages/4_Conversation.py").run()
    say(at, "A blue teapot")
    store = Store(data_dir)
    conv_id = store.conversations()[0].id
    first = store.turns(conv_id)[0]
    # the API forgot the response: simulate by pointing the turn at an id the backend never made
    store.update_turn(first.id, response_id="resp_gone")
    fresh = open_page("pages/4_Conversation.py").run()
    fresh.selectbox(key=state.CONV_PICKER).select(conv_id).run()
    say(fresh, "Make it yellow")
    second = store.turns(conv_id)[1]
    assert second.status == "ok" and second.note and "sent the last picture again" in second.note
    assert sent[-1].get("previous_response_id") is None
    assert sent[-1]["input"][0]["content"][1]["type"] == "input_image"
    assert any("sent the last picture again" in i.value for i in fresh.info)


def test_image_handed_over_starts_a_conversation(data_dir, sent):
    from imagelab.offline.render import render

    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "a yellow chair", {})
    rec = store.add_image(run, 0, render("a yellow chair", 1024, 1024, quality="low"), "png", 1024, 1024)
    at = open_page("pages/4_Conversation.py")
    at.session_state[state.handoff_key(state.CONV)] = [rec.hash]
    at.run()
    say(at, "Put this chair in a sunny room")
    assert sent[-1]["input"][0]["content"][1]["image_url"].startswith("data:image/png;base64,")
    turn = store.turns(store.conversations()[0].id)[0]
    assert turn.attachments == [rec.hash]


def test_attachments_go_through_the_files_api(data_dir, sent):
    from imagelab.offline.render import render

    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "a vase", {})
    rec = store.add_image(run, 0, render("a vase", 1024, 1024, quality="low"), "png", 1024, 1024)
    at = open_page("pages/4_Conversation.py")
    at.session_state[state.handoff_key(state.CONV)] = [rec.hash]
    at.run()
    at.radio(key=state.CONV_ATTACH_AS).set_value("file").run()
    say(at, "The vase with tulips")
    part = sent[-1]["input"][0]["content"][1]
    assert part["type"] == "input_image" and part["file_id"].startswith("file-")


def test_server_text_in_a_turn_shows_as_text_not_markdown(data_dir):
    """A compatible server's error text, kept in a turn, cannot become a link, a remote image or colour."""
    store = Store(data_dir)
    conv = store.new_conversation("a hostile proxy")
    hostile = "The API refused the request: [click me](http://evil.test) ![x](http://evil.test/t.png) :red[alarm]"
    run = store.start_run("conversation", "gpt-image-2", "a cat", {}, requested=1)
    store.finish_run(run, "failed", error=hostile)
    store.add_turn(conv, parent_id=None, run_id=run, prompt="a cat", attachments=[], status="failed", error=hostile)
    at = open_page("pages/4_Conversation.py").run()
    assert not at.exception
    raw = [e.value for e in at.error]
    assert hostile in shown(at.error)  # a person reads exactly what the server said
    assert raw == [f"*{code_span(hostile)}*"]  # and nothing of it is markup: all of it sits in one code span


def test_continuing_from_an_earlier_turn_says_what_happens_and_goes_back(data_dir, sent):
    at = open_page("pages/4_Conversation.py").run()
    for text in ("A paper boat on a pond", "Make it rain", "Add a frog on a lily pad", "Make the frog orange"):
        say(at, text)
    turns = Store(data_dir).turns(Store(data_dir).conversations()[0].id)
    at.button(key=f"btn_conv_from_{turns[1].id}").click().run()
    said = " ".join(shown(at.info))
    assert "Branching from turn 2: turns 3–4 stay in the history under the earlier branch" in said
    transcript = page_text(at.main)
    assert "Make it rain" in transcript and "frog" not in transcript
    at.button(key="btn_conv_back").click().run()
    transcript = page_text(at.main)
    assert "Make the frog orange" in transcript and "Branching" not in " ".join(shown(at.info))
    say(at, "Make the frog green")  # the full conversation continues from its last turn, no new branch
    turns = Store(data_dir).turns(turns[0].conversation_id)
    assert turns[-1].parent_id == turns[3].id and sent[-1]["previous_response_id"] == turns[3].response_id


def test_a_turn_that_can_wait_is_sent_with_its_window_and_priced_honestly(data_dir, sent):
    at = open_page("pages/4_Conversation.py").run()
    window = at.radio(key=state.CONV_WINDOW)
    assert window.value == "soonest" and list(window.options) == [
        "As soon as possible", "Within 2 hours", "Within 8 hours"]
    assert not at.number_input(key=f"{state.CONV_OPTS}_partials").disabled
    window.set_value("2h").run()
    captions = [c.value for c in at.caption]
    assert ("Sent in the background with a 2h completion window: the 2h window is discounted background execution, "
            "but the discount is not published; the estimate shows the standard price.") in captions
    assert at.number_input(key=f"{state.CONV_OPTS}_partials").disabled  # not streamed, so no partial images
    assert any("Approximate:" in c.value and "the estimate shows the standard price" in c.value
               for c in at.sidebar.caption)
    say(at, "A lighthouse on a rocky coast at dusk")
    assert sent[0]["background"] is True and "stream" not in sent[0]
    assert sent[0]["background_options"] == {"completion_window": "2h"} and sent[0]["service_tier"] == "default"
    turns = Store(data_dir).turns(Store(data_dir).conversations()[0].id)
    assert [t.status for t in turns] == ["ok"] and turns[0].image_hash


def test_a_picture_handed_over_shows_attached_where_the_message_is_written(data_dir, sent):
    from imagelab.offline.render import render

    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "a yellow chair", {})
    rec = store.add_image(run, 0, render("a yellow chair", 1024, 1024, quality="low"), "png", 1024, 1024)
    at = open_page("pages/4_Conversation.py")
    at.session_state[state.handoff_key(state.CONV)] = [rec.hash]
    at.run()
    assert not at.exception
    talk = next(c for c in at.main.columns if c.weight == pytest.approx(8 / 11))  # the wide one, not the settings
    assert "Attached to your next message:** 1 picture(s)" in page_text(talk)
    assert [img.caption for el in talk.get("image") for img in el.proto.imgs] == ["1024×1024"]
    at.button(key="btn_conv_unattach").click().run()
    assert "Attached to your next message" not in page_text(at)
    say(at, "A sunny room")
    assert store.turns(store.conversations()[0].id)[0].attachments == []
