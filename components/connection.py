"""Where requests go: OpenAI with a key, a custom base URL, or the built-in offline backend."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st

from imagelab.client import Connection
from imagelab.offline import OfflineServer, start_server
from imagelab.runs.engine import RunEngine
from imagelab.runs.queue import make_engine
from imagelab.runs.turns import finish_resumed_turn
from imagelab.serving import NETWORK_WARNING, serves_network
from imagelab.store import StorageError, Store, default_data_dir

from . import state, untrusted

OPENAI = "OpenAI"
OFFLINE = "Offline (synthetic)"
CUSTOM = "Custom base URL"

P = ParamSpec("P")


@st.cache_resource(show_spinner="Starting the offline backend…")
def offline_backend() -> OfflineServer:
    """One offline server per process, on a free loopback port, answering only this process: it wants
    a key made for it at start-up. It holds no user data or user key."""
    return start_server(host="127.0.0.1", port=0, token=secrets.token_urlsafe(32))


@st.cache_resource
def _store(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    """The history store for IMAGELAB_DATA_DIR; thread-safe, shared by all sessions."""
    return _store(str(default_data_dir()))


def require_history() -> Store:
    """The store, or — when the history folder cannot be used — the sentence that says so, and stop.

    For pages that cannot do anything without the history (Gallery, Conversation, …). What the
    person typed is kept in the session, so nothing is lost when the folder comes back.
    """
    try:
        store = get_store()
        store.count_runs()
        return store
    except StorageError as exc:
        untrusted.say(exc.sentence, icon=":material/folder_off:")  # it names a folder
        st.stop()
        raise  # st.stop() does not return


def says_history_faults(draw: Callable[P, None]) -> Callable[P, None]:
    """A part of a page that reruns on its own (a fragment): a history folder that cannot be used is its
    sentence there, since the page's own checks do not run around it."""

    @functools.wraps(draw)
    def drawn(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            draw(*args, **kwargs)
        except StorageError as exc:
            st.error(exc.sentence, icon=":material/folder_off:")

    return drawn


@st.cache_resource
def _engine(path: str) -> RunEngine:
    store = _store(path)
    # a PostgreSQL history queues its runs for any worker (``imagelab.runs.queue``); SQLite keeps the in-process pool
    return make_engine(store, on_resumed=functools.partial(finish_resumed_turn, store), batch_poll=2.0)


def get_engine() -> RunEngine:
    """The process-wide run engine for IMAGELAB_DATA_DIR: every request runs there, outliving the page.

    Creating it marks runs a previous process left unfinished as interrupted.
    """
    return _engine(str(default_data_dir()))


def _secret(name: str) -> str | None:
    try:
        value = st.secrets.get(name)
    except Exception:  # no secrets file is the usual case
        return None
    return str(value) if value else None


def login_configured() -> bool:
    """Whether people log in before they are served (an ``[auth]`` section in the secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file is the usual case
        return False


def warn_if_exposed() -> None:
    """On every page: the warning that this ImageLab serves the network without login, when it does."""
    address = str(st.get_option("server.address") or "")
    if serves_network(address) and not login_configured():
        st.warning(NETWORK_WARNING.format(address=address or "every interface"), icon=":material/lan:")


def configured_key() -> str | None:
    """The key from the session, the environment or st.secrets, in that order."""
    return st.session_state.get(state.API_KEY) or os.environ.get("OPENAI_API_KEY") or _secret("OPENAI_API_KEY")


def team_key_status() -> str:
    """Whether the server has a key for everyone, and where from, as a sentence (never the key)."""
    if os.environ.get("OPENAI_API_KEY"):
        where = "the server's environment (OPENAI_API_KEY)"
    elif _secret("OPENAI_API_KEY"):
        where = "the server's secrets (OPENAI_API_KEY)"
    else:
        return ("No team key is set: people use the offline backend, or a key of their own for their session. "
                "Set OPENAI_API_KEY in the server's environment or secrets.")
    to = _server_base_url()
    return (f"Set, from {where}: it serves everyone" + (f" through {untrusted.theirs(to)}" if to else " at OpenAI")
            + ". It stays on the server; a person's own key is used for their session only.")


def configured_base_url() -> str | None:
    return st.session_state.get(state.BASE_URL) or _server_base_url()


def _server_base_url() -> str | None:
    """The base URL the server itself is set up with (environment or secrets), where the team's key may go."""
    return os.environ.get("OPENAI_BASE_URL") or _secret("OPENAI_BASE_URL")


def default_backend() -> str:
    if configured_key():
        return CUSTOM if configured_base_url() else OPENAI
    return CUSTOM if configured_base_url() else OFFLINE


def offline_chosen() -> bool:
    """Whether this session sends to the built-in offline backend, where nothing is paid."""
    return (st.session_state.get(state.BACKEND_CHOICE) or default_backend()) == OFFLINE


def missing_setting(choice: str) -> str | None:
    """What the chosen backend still needs before it can send, as a sentence; None when ready."""
    if choice == OPENAI and not configured_key():
        return "Enter an API key to use OpenAI, or switch to the offline backend."
    if choice == CUSTOM and not configured_base_url():
        return "Enter the base URL of an OpenAI-compatible server."
    return None


def current_connection() -> Connection:
    """The connection the sidebar has chosen for this session."""
    choice = st.session_state.get(state.BACKEND_CHOICE) or default_backend()
    timeout = float(st.session_state.get(state.TIMEOUT) or 600)
    key = configured_key()
    if choice == OPENAI and key:
        return Connection(None, key, label="OpenAI", timeout=timeout)
    if choice == CUSTOM and configured_base_url():
        url = configured_base_url()
        if login_configured() and url != _server_base_url():
            # the team's key goes only where the server sends it: a person's own server gets their own key
            key = st.session_state.get(state.API_KEY)
        return Connection(url, key or "none", label=f"Custom: {url}", timeout=timeout)
    server = offline_backend()
    return Connection(server.base_url, server.token or "sk-offline", label="Offline backend", offline=True, timeout=60,
                      max_retries=0)
