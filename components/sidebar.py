"""The sidebar every page draws: connection, live estimate, last run, session total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from imagelab.costs import ZERO_COST, Cost, Estimate, format_dollars
from imagelab.specs import Problem

from . import connection, state
from .connection import CUSTOM, OFFLINE, OPENAI


@dataclass
class Sidebar:
    estimate_slot: Any
    usage_slot: Any

    def show_estimate(self, est: Estimate | None, problems: list[Problem] | None = None, what: str = "") -> None:
        """Fill the estimate panel with what the page would send now."""
        with self.estimate_slot.container():
            st.markdown("**Estimate of this request**")
            if est is None:
                st.caption("Nothing to send yet.")
                return
            if what:
                st.caption(what)
            approx = "≈ " if est.approximate else ""
            c1, c2 = st.columns(2)
            c1.metric("Tokens", f"{approx}{est.total_tokens:,}", help=(
                f"Text in {est.text_tokens:,} · image in {est.image_input_tokens:,} · image out {est.output_tokens:,}"))
            c2.metric("Cost", f"{approx}{format_dollars(est.dollars)}")
            if est.approximate and est.notes:
                st.caption("Approximate: " + "; ".join(est.notes) + ".")
            if problems:
                st.caption(f"{len(problems)} setting(s) to fix before sending.")

    def finish(self) -> None:
        """Fill the last-run and session panels (call at the end of the page, after any run)."""
        with self.usage_slot.container():
            last = st.session_state.get(state.LAST_RUN)
            st.markdown("**Last run**")
            if last is None:
                st.caption("No run yet in this session.")
            else:
                actual: Cost | None = last.cost
                est: Estimate = last.estimate
                c1, c2 = st.columns(2)
                c1.metric("Estimated", format_dollars(est.dollars), help=f"{est.total_tokens:,} tokens")
                if actual is not None:
                    c2.metric("Actual", format_dollars(actual.dollars), help=(
                        f"Text in {actual.text_tokens:,} · image in {actual.image_input_tokens:,} · "
                        f"image out {actual.output_tokens:,}"))
                    st.caption(f"{actual.total_tokens:,} tokens used against {est.total_tokens:,} estimated · "
                               f"{last.model} · {last.seconds:.1f} s")
                else:
                    c2.metric("Actual", "—")
                    st.caption("The API reported no usage for this run.")
            total: Cost = st.session_state.get(state.SESSION_COST, ZERO_COST)
            runs = st.session_state.get(state.SESSION_RUNS, 0)
            st.markdown("**This session**")
            st.caption(f"{runs} run(s) · {total.total_tokens:,} tokens · {format_dollars(total.dollars)}")


def record_run(result: Any) -> None:
    """Remember a finished run for the sidebar's last-run and session panels."""
    st.session_state[state.LAST_RUN] = result
    st.session_state[state.SESSION_RUNS] = st.session_state.get(state.SESSION_RUNS, 0) + 1
    if result.cost is not None:
        st.session_state[state.SESSION_COST] = st.session_state.get(state.SESSION_COST, ZERO_COST) + result.cost


def _connection_panel() -> None:
    options = [OFFLINE, OPENAI, CUSTOM]
    if state.BACKEND_CHOICE not in st.session_state:
        st.session_state[state.BACKEND_CHOICE] = connection.default_backend()
    st.selectbox("Backend", options, key=state.BACKEND_CHOICE,
                 help="Where requests go. The offline backend makes synthetic pictures on this computer, for free.")
    choice = st.session_state[state.BACKEND_CHOICE]
    if choice in (OPENAI, CUSTOM):
        st.text_input("API key", type="password", key=state.API_KEY,
                      placeholder="set" if connection.configured_key() else "sk-…",
                      help="Kept only in this browser session. OPENAI_API_KEY or st.secrets work too.")
    if choice == CUSTOM:
        st.text_input("Base URL", key=state.BASE_URL, placeholder="https://…/v1",
                      help="Any OpenAI-compatible server. OPENAI_BASE_URL works too.")
    conn = _resolved(choice)
    if conn is None:
        return
    if conn.offline:
        st.info("**Offline backend** — pictures are synthesised locally and are not from an OpenAI model. "
                "Add an API key to use OpenAI.", icon=":material/science:")
    else:
        st.success(f"**{conn.label}**", icon=":material/cloud_done:")


def _resolved(choice: str):
    if choice == OPENAI and not connection.configured_key():
        st.warning("Enter an API key to use OpenAI, or switch to the offline backend.", icon=":material/key:")
        return None
    if choice == CUSTOM and not connection.configured_base_url():
        st.warning("Enter the base URL of an OpenAI-compatible server.", icon=":material/link:")
        return None
    return connection.current_connection()


def ready() -> bool:
    """Whether the chosen backend has what it needs to send a request."""
    choice = st.session_state.get(state.BACKEND_CHOICE) or connection.default_backend()
    if choice == OPENAI:
        return bool(connection.configured_key())
    if choice == CUSTOM:
        return bool(connection.configured_base_url())
    return True


def draw_sidebar() -> Sidebar:
    """Draw the shared sidebar; the page fills its estimate and calls ``finish()`` at the end."""
    with st.sidebar:
        st.markdown("### ImageLab")
        _connection_panel()
        st.divider()
        estimate_slot = st.empty()
        st.divider()
        usage_slot = st.empty()
    return Sidebar(estimate_slot, usage_slot)
