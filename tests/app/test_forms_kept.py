"""What a draft keeps for the next session: what was typed and chosen, never what was open, picked or running,
and never the connection's key."""

from components import state
from components.drafts import draft_of


def test_a_draft_keeps_form_values_and_nothing_open_picked_or_secret():
    values = {state.GEN_PROMPT: "a fox", f"{state.GEN_OPTS}_quality": "low", state.SWEEP_TEMPLATE: "A {thing}",
              f"{state.SWEEP_AXIS}_size": ("1024x1024",), state.GALLERY_TEXT: "fox",
              state.GALLERY_DETAIL: 5, f"{state.GALLERY_SELECT}_3": True, state.GALLERY_FIRST: 24,
              state.CONV_ID: 2, state.SWEEP_GROUP: "abc", state.GEN_FANOUT_GROUP: "def", state.API_KEY: "sk-secret-1",
              state.MASK_DRAWN: ("hash", b"png", None)}
    assert draft_of(values) == {state.GEN_PROMPT: "a fox", f"{state.GEN_OPTS}_quality": "low",
                                state.SWEEP_TEMPLATE: "A {thing}", f"{state.SWEEP_AXIS}_size": ["1024x1024"],
                                state.GALLERY_TEXT: "fox"}
