"""The Conversation page's open conversation, head turn and picker, over a plain dict as the session."""

from typing import Any

from components.conversation_state import NEW, OpenConversation
from components.state import CONV_HEAD, CONV_ID, CONV_PICKER, CONV_REF_CALL


def test_a_new_session_reopens_the_latest_conversation_in_the_picker_on_its_first_run():
    session: dict[str, Any] = {}
    talking = OpenConversation(session)
    talking.arrive(handed_over=False, latest=lambda: 7)
    talking.before_picker([NEW, 7, 3])
    assert session[CONV_PICKER] == 7
    talking.picked(session[CONV_PICKER], last_turn=lambda conv: {7: 41}[conv])
    assert (talking.conv_id, talking.head_id) == (7, 41)


def test_a_session_that_has_a_conversation_open_is_not_moved_to_the_latest():
    session: dict[str, Any] = {CONV_ID: 3, CONV_HEAD: 30}
    asked = []
    OpenConversation(session).arrive(handed_over=False, latest=lambda: asked.append(1) or 7)
    assert asked == [] and session[CONV_ID] == 3


def test_a_picture_handed_over_starts_a_new_conversation():
    session: dict[str, Any] = {CONV_ID: 3, CONV_HEAD: 30, CONV_PICKER: 3}
    talking = OpenConversation(session)
    talking.arrive(handed_over=True, latest=lambda: 3)
    talking.before_picker([NEW, 3])
    talking.picked(session[CONV_PICKER], last_turn=lambda conv: 30)
    assert (talking.conv_id, talking.head_id, session[CONV_PICKER]) == (None, None, NEW)


def test_picking_another_conversation_opens_it_at_its_last_turn_building_on_nothing():
    session: dict[str, Any] = {CONV_ID: 3, CONV_HEAD: 30, CONV_REF_CALL: "ig_1"}
    talking = OpenConversation(session)
    talking.picked(5, last_turn=lambda conv: {5: 52}[conv])
    assert (talking.conv_id, talking.head_id, talking.ref_call) == (5, 52, None)
    talking.build_on("ig_2")
    talking.picked(5, last_turn=lambda conv: 99)  # the same one again changes nothing
    assert (talking.head_id, talking.ref_call) == (52, "ig_2")


def test_a_picker_left_on_a_deleted_conversation_falls_back_to_the_open_one():
    session: dict[str, Any] = {CONV_ID: 3, CONV_PICKER: 9}
    OpenConversation(session).before_picker([NEW, 3])
    assert session[CONV_PICKER] == 3
    session = {CONV_ID: None, CONV_PICKER: 9}
    OpenConversation(session).before_picker([NEW, 3])
    assert session[CONV_PICKER] == NEW


def test_the_first_message_opens_its_new_conversation_in_the_picker_on_the_next_run():
    session: dict[str, Any] = {CONV_ID: None, CONV_HEAD: None, CONV_PICKER: NEW}
    talking = OpenConversation(session)
    talking.started(12)
    talking.sent(120)
    assert (talking.conv_id, talking.head_id) == (12, 120)
    talking.before_picker([NEW, 12])  # the next run, before the picker is drawn
    talking.picked(session[CONV_PICKER], last_turn=lambda conv: 999)
    assert (session[CONV_PICKER], talking.conv_id, talking.head_id) == (12, 12, 120)


def test_a_run_stopped_before_the_picker_was_drawn_still_opens_the_new_conversation_on_the_next():
    session: dict[str, Any] = {CONV_ID: None, CONV_HEAD: None, CONV_PICKER: NEW}
    talking = OpenConversation(session)
    talking.started(12)
    talking.sent(120)
    talking.before_picker([NEW, 12])  # the next run sets the picker, and is stopped before it is drawn
    session[CONV_PICKER] = NEW  # the run after it: the browser's picker still says "New conversation"
    talking.before_picker([NEW, 12])
    talking.picked(session[CONV_PICKER], last_turn=lambda conv: 999)
    assert (session[CONV_PICKER], talking.conv_id, talking.head_id) == (12, 12, 120)
    session[CONV_PICKER] = NEW  # once drawn with it, a person's own choice of "New conversation" holds
    talking.before_picker([NEW, 12])
    talking.picked(session[CONV_PICKER], last_turn=lambda conv: 999)
    assert (session[CONV_PICKER], talking.conv_id) == (NEW, None)


def test_continuing_from_an_earlier_turn_and_sending_moves_the_head_and_forgets_the_image_built_on():
    session: dict[str, Any] = {CONV_ID: 3, CONV_HEAD: 30}
    talking = OpenConversation(session)
    talking.continue_from(21)
    talking.build_on("ig_21")
    assert (talking.head_id, talking.ref_call) == (21, "ig_21")
    talking.sent(31)
    assert (talking.head_id, talking.ref_call) == (31, None)
