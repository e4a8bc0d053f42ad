"""Spending limits and the check before spending: the sidebar's settings, its spent / limit lines,
and the refusal a page shows before anything is sent. The limits live in the store (``budgets``)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from imagelab.costs import format_dollars
from imagelab.runs import budgets
from imagelab.store import StorageError

from . import connection, people, state

_LABELS = {"session": "This session", "day": "Today", "month": "This month"}
_WHOSE = {"your": "yours", "the team's": "the team's"}


def moderation_on() -> bool:
    try:
        return connection.get_store().setting(budgets.MODERATION_SETTING) == "on"
    except StorageError:
        return False


def _save_limit(scope: str) -> None:
    if scope != "session" and not people.admin():  # a team's limit: asked again here, whatever the page drew
        return
    connection.get_store().set_limit(scope, st.session_state.get(state.item(state.BUDGET, scope)) or None)


def _save_moderation() -> None:
    connection.get_store().set_setting(budgets.MODERATION_SETTING,
                                       "on" if st.session_state.get(state.BUDGET_MODERATION) else "off")


def settings() -> None:
    """The sidebar expander: a limit per session, day and month (0 = none), and the moderation check."""
    store = connection.get_store()
    limits = store.limits()
    # with login the day and month limits are the team's: only an admin sets them (on the server, at the change)
    scopes = budgets.SCOPES if people.admin() else ("session",)
    with st.expander("Spending limits and checks", icon=":material/savings:"):
        for scope in scopes:
            key = state.item(state.BUDGET, scope)
            if key not in st.session_state:
                st.session_state[key] = float(limits.get(scope, 0.0))
            st.number_input(f"{budgets.SCOPE_WORDS[scope].capitalize()} limit ($, 0 = none)", 0.0, 100_000.0,
                            step=0.5, key=key, on_change=_save_limit, args=(scope,),
                            help="The whole team's" if scope != "session" and people.current() else None)
        if state.BUDGET_MODERATION not in st.session_state:
            st.session_state[state.BUDGET_MODERATION] = moderation_on()
        st.toggle("Check prompts with the moderation endpoint first", key=state.BUDGET_MODERATION,
                  on_change=_save_moderation,
                  help="Sends the prompt and input images to omni-moderation-latest (free) before an image request; "
                       "a flagged request is not sent, so a block is never paid for.")
        st.caption("Limits hold for every page and for sweeps; runs on the offline backend never count.")


def show(cost: float | None) -> None:
    """Spent / limit for each limit set, with this request's estimate beside it."""
    try:
        store = connection.get_store()
        ids = st.session_state.get(state.SESSION_RUN_IDS, [])
        spends = budgets.spending(store, ids, now=time.time(), owner=people.subject())
    except StorageError:
        return
    if not spends:
        return
    st.markdown("**Spending limits**")
    billed = budgets.counts(connection.current_connection().label)
    for s in spends:
        whose = f" ({_WHOSE[s.whose]})" if people.current() and s.scope != "session" else ""
        line = f"{_LABELS[s.scope]}{whose}: {format_dollars(s.spent)} of {format_dollars(s.limit)}"
        if cost and billed:
            over = s.spent + cost > s.limit + 1e-9
            line += f" · this request {format_dollars(cost)}" + (" :red[— over the limit]" if over else "")
        st.caption(line)
    if not billed:
        st.caption("Offline runs do not count against these limits.")


def refusal(spec: Any, cost: float) -> str | None:
    """The sentence that refuses a request crossing a limit, or None when it may go."""
    conn = connection.current_connection()
    found = budgets.check(connection.get_store(), cost, backend=conn.label,
                          session_ids=st.session_state.get(state.SESSION_RUN_IDS, []), spec=spec, now=time.time(),
                          owner=people.subject())
    return found.sentence if found else None


def note_session_runs(run_ids: list[int]) -> None:
    """Count these runs as this session's (the guard may have counted some already, as it let them start)."""
    ids = st.session_state.setdefault(state.SESSION_RUN_IDS, [])
    ids.extend(i for i in run_ids if i not in ids)


def guard() -> budgets.Guard:
    """The check the run engine makes when a queued job of this session is about to be sent."""
    ids = st.session_state.setdefault(state.SESSION_RUN_IDS, [])
    return budgets.Guard(connection.get_store(), ids, connection.current_connection().label, time.time,
                         owner=people.subject())
