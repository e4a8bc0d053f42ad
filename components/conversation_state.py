"""Where the Conversation page stands between runs: which conversation is open, which turn the next one continues
from, which earlier image it builds on, and what the conversation picker shows. Five session keys, one owner."""

from __future__ import annotations

from collections.abc import Callable, Collection, MutableMapping
from typing import Any

from .state import CONV_HEAD, CONV_ID, CONV_PICK_NEXT, CONV_PICKER, CONV_REF_CALL

__all__ = ["NEW", "OpenConversation"]

NEW = 0  # the picker's "New conversation"


class OpenConversation:
    """The open conversation, kept in ``session`` (``st.session_state``, or a dict in tests).

    The picker is a widget: its value may be set only before it is drawn, so a choice made after it ran (a new
    conversation saved by the first message) waits in ``CONV_PICK_NEXT`` for the next run.
    """

    def __init__(self, session: MutableMapping[Any, Any]) -> None:
        self._session = session

    @property
    def conv_id(self) -> int | None:
        """The open conversation; None for a new one, not saved until its first message."""
        conv_id: int | None = self._session.get(CONV_ID)
        return conv_id

    @property
    def head_id(self) -> int | None:
        """The turn the next turn continues from; None at the start of a conversation."""
        head: int | None = self._session.get(CONV_HEAD)
        return head

    @property
    def ref_call(self) -> str | None:
        """An earlier turn's image_generation_call id the next turn builds on."""
        call: str | None = self._session.get(CONV_REF_CALL)
        return call

    def arrive(self, *, handed_over: bool, latest: Callable[[], int | None]) -> None:
        """At the top of every run: a new session reopens the conversation the person was last in (``latest``);
        a picture handed over from another page starts a new conversation with it attached."""
        if CONV_ID not in self._session and not handed_over:
            self._session[CONV_ID] = None
            found = latest()
            if found is not None:
                self._session[CONV_PICK_NEXT] = found
        if handed_over:
            self._session[CONV_ID] = None
            self._session[CONV_HEAD] = None
            self._session[CONV_PICKER] = NEW

    def before_picker(self, listed: Collection[int]) -> None:
        """Before the picker is drawn: apply a choice that waited for this run, and never leave the picker on a
        conversation that is no longer ``listed`` (deleted, or past the list's end)."""
        # kept until the picker has been drawn with it (``picked``): a run stopped before that, by a rerun the page
        # asked for meanwhile, would otherwise leave the picker on the browser's last choice and lose this one
        waiting = self._session.get(CONV_PICK_NEXT)
        if waiting is not None:
            self._session[CONV_PICKER] = waiting
        if self._session.get(CONV_PICKER) not in listed:
            self._session[CONV_PICKER] = self.conv_id or NEW

    def picked(self, picked: int | None, last_turn: Callable[[int], int | None]) -> None:
        """After the picker: another conversation opens at its last turn (``last_turn``), building on nothing."""
        self._session.pop(CONV_PICK_NEXT, None)  # the picker was drawn with it
        if (picked or None) == self.conv_id:
            return
        self._session[CONV_ID] = picked or None
        self._session[CONV_HEAD] = last_turn(picked) if picked else None
        self._session[CONV_REF_CALL] = None

    def continue_from(self, turn_id: int | None) -> None:
        """The next turn continues from ``turn_id``: a new branch when later turns exist."""
        self._session[CONV_HEAD] = turn_id

    def build_on(self, call_id: str) -> None:
        self._session[CONV_REF_CALL] = call_id

    def started(self, conv_id: int) -> None:
        """The first message saved a new conversation: it is open now, and the picker shows it from the next run."""
        self._session[CONV_ID] = conv_id
        self._session[CONV_PICK_NEXT] = conv_id

    def sent(self, turn_id: int | None) -> None:
        """A turn was sent: the next one continues from it, and builds on no earlier image unless asked again."""
        self._session[CONV_HEAD] = turn_id
        self._session[CONV_REF_CALL] = None
