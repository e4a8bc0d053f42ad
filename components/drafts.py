"""What a person typed and chose on each page, kept in the history so a reload finds it again.

Streamlit forgets a session when the browser reloads. The values of the pages' form widgets
(prompts, templates, options) are written as one JSON draft per browser tab (named in the address,
``?w=…``) to the history's settings, at most twice a second and off the script's thread, and a
reloaded tab's new session starts from it; a new tab starts with a form of its own. The connection's
widgets are never written: the API key stays in the session. Only plain values (text, numbers,
switches, lists of them) are kept; a value a widget cannot take back is left out.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from typing import Any

import streamlit as st

from imagelab.store import StorageError, Store

from . import people, state
from .connection import get_store

__all__ = ["save_draft", "load_draft", "DRAFT_KEYS"]

log = logging.getLogger(__name__)

# What a person types and chooses in the pages' forms, by key (a name ending in "_" takes every key it starts):
# never "conn_" (the key), "common_" (derived from these), nor what is open, picked or running (a dialog, a
# selection, a run id), which a new session must not find again.
DRAFT_KEYS = (
    state.GEN_PROMPT, state.GEN_MODEL, f"{state.GEN_OPTS}_", state.WORDS_MODEL,
    state.REF_PROMPT, state.REF_MODEL, f"{state.REF_OPTS}_", state.REF_FIDELITY,
    state.MASK_PROMPT, state.MASK_MODEL, f"{state.MASK_OPTS}_", state.MASK_FIDELITY, state.MASK_MODE, state.MASK_TOOL,
    state.MASK_BRUSH, state.MASK_SUBJECT,
    state.EXT_PROMPT, state.EXT_MODEL, state.EXT_SHAPE, state.EXT_WIDTH, state.EXT_HEIGHT, state.EXT_PLACE,
    state.EXT_QUALITY, state.EXT_FORMAT, state.EXT_N,
    state.CONV_MODEL, f"{state.CONV_OPTS}_", state.CONV_FIDELITY, state.CONV_WINDOW,
    state.SWEEP_TEMPLATE, state.SWEEP_MODEL, f"{state.SWEEP_OPTS}_", f"{state.SWEEP_AXIS}_", f"{state.SWEEP_VALUES}_",
    state.SWEEP_THRESHOLD, state.SWEEP_AS_BATCH,
    state.GALLERY_TEXT, state.GALLERY_PAGES, state.GALLERY_MODELS, state.GALLERY_STARRED, state.GALLERY_DENSITY,
)


def _drafted(key: str) -> bool:
    return any(key == k or (k.endswith("_") and key.startswith(k)) for k in DRAFT_KEYS)
_SETTING = "draft"
_QUERY = "w"
_TAB_NAME = re.compile(r"[0-9a-f]{16}")
_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, _PLAIN) for v in value)
    return isinstance(value, _PLAIN)


def draft_of(values: dict[str, Any]) -> dict[str, Any]:
    """The part of the kept widget values that goes into a draft."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items() if _drafted(k) and _plain(v)}


class _DraftWriter:
    """Writes the newest draft of a history at most every ``pause`` seconds, on a thread of its own."""

    def __init__(self, store: Store, pause: float = 0.5) -> None:
        self.store = store
        self.pause = pause
        self._pending: dict[str, str] = {}   # the newest draft of each tab, not yet written
        self._written: dict[str, str] = {}
        self._wake = threading.Condition()
        threading.Thread(target=self._loop, name="imagelab-drafts", daemon=True).start()

    def save(self, name: str, text: str) -> None:
        with self._wake:
            if self._written.get(name) != text:
                self._pending[name] = text
                self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
                name, text = self._pending.popitem()
            try:
                self.store.set_setting(name, text)
                self._written[name] = text
            except StorageError as exc:  # the page says what is wrong with the history; the draft waits
                log.warning("the draft could not be kept: %s", exc.sentence)
            threading.Event().wait(self.pause)


@st.cache_resource
def _writer(root: str) -> _DraftWriter:
    return _DraftWriter(get_store())


def _tab() -> str:
    """This browser tab's name for its draft: kept in the address (``?w=…``), so a reload of the tab finds its
    draft again while another tab or browser starts with a form of its own."""
    name = st.session_state.get(state.DRAFT_TAB) or st.query_params.get(_QUERY)
    if not name or not _TAB_NAME.fullmatch(str(name)):
        name = secrets.token_hex(8)
    st.session_state[state.DRAFT_TAB] = name
    if st.query_params.get(_QUERY) != name:  # a page link leaves the address without it: put it back
        st.query_params[_QUERY] = name
    return str(name)


def _name() -> str:
    """The draft's name in the settings: this tab's, and with login this person's too (a tab's address handed
    to someone else finds nothing of the first person's)."""
    person = people.current()
    return f"{_SETTING}:{person.subject}:{_tab()}" if person is not None else f"{_SETTING}:{_tab()}"


def save_draft(values: dict[str, Any]) -> None:
    """Keep the pages' form values for this tab's next session (written shortly after, off this thread)."""
    try:
        store = get_store()
    except StorageError:  # the page says what is wrong with the history; the session still holds the values
        return
    _writer(str(store.root)).save(_name(), json.dumps(draft_of(values), sort_keys=True))


def load_draft() -> dict[str, Any]:
    """The form values this tab's last session left; empty when there are none or the history cannot be read."""
    try:
        text = get_store().setting(_name())
        loaded = json.loads(text) if text else {}
    except (StorageError, ValueError):
        return {}
    return draft_of(loaded) if isinstance(loaded, dict) else {}


def start_from_draft() -> None:
    """On a session's first run: put the last draft's values in place, before any widget is drawn."""
    if state.KEPT_VALUES in st.session_state:
        return
    draft = load_draft()
    st.session_state[state.KEPT_VALUES] = dict(draft)
    for key, value in draft.items():
        st.session_state.setdefault(key, value)
