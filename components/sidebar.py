"""The sidebar every page draws: connection, live estimate, last run, session total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from imagelab.costs import ZERO_COST, Cost, Estimate, format_dollars
from imagelab.specs import Problem

from . import connection, state
from .options import keep_widget_state
from .connection import CUSTOM, OFFLINE, OPENAI


# Streamlit's own page list would call the landing page "app"; this one names every page.
PAGES = [
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Generate.py", "Generate", ":material/auto_awesome:"),
    ("pages/2_Reference_edit.py", "Reference edit", ":material/collections:"),
    ("pages/3_Mask_edit.py", "Mask edit", ":material/brush:"),
    ("pages/4_Conversation.py", "Conversation", ":material/forum:"),
    ("pages/5_Sweep.py", "Sweep", ":material/grid_view:"),
    ("pages/6_Gallery.py", "Gallery", ":material/photo_library:"),
    ("pages/7_Compare.py", "Compare", ":material/compare:"),
    ("pages/8_Present.py", "Present", ":material/slideshow:"),
]


# Less empty space above each page's title; the pages are tools, not articles.
PAGE_CSS = "<style>.block-container, [data-testid='stMainBlockContainer'] {padding-top: 2.5rem;}</style>"


@dataclass
class Sidebar:
    estimate_slot: Any
    usage_slot: Any

    def show_estimate(self, est: Estimate | None, problems: list[Problem] | None = None, what: str = "") -> None:
        """Fill the estimate panel with what the page would send now."""
        with self.estimate_slot.container():
            st.markdown("**Estimate of this request**")
            if est is None:
                st.caption("Nothing to send from this page.")
                return
            approx = "≈ " if est.approximate else ""
            st.metric("Estimated cost", f"{approx}{format_dollars(est.dollars)}",
                      help="Prices per 1M tokens come from the catalog; the API's usage after a run is the truth.")
            st.caption(f"{approx}{est.total_tokens:,} tokens: text in {est.text_tokens:,} · image in "
                       f"{est.image_input_tokens:,} · image out {est.output_tokens:,}")
            if what:
                st.caption(what)
            if est.approximate and est.notes:
                st.caption("Approximate: " + "; ".join(est.notes) + ".")
            if problems:
                st.caption(f":orange[{len(problems)} setting(s) to fix before sending.]")

    def finish(self) -> None:
        """Fill the last-run and session panels (call at the end of the page, after any run)."""
        with self.usage_slot.container():
            last = st.session_state.get(state.LAST_RUN)
            st.markdown("**Last run**")
            if last is None:
                st.caption("No run yet in this session.")
            else:
                est: Estimate = last.estimate
                actual: Cost | None = last.cost
                approx = "≈ " if est.approximate else ""
                rows = ["| | tokens | cost |", "| --- | ---: | ---: |",
                        f"| estimated | {approx}{est.total_tokens:,} | {approx}{format_dollars(est.dollars)} |"]
                if actual is not None:
                    rows.append(f"| actual | {actual.total_tokens:,} | {format_dollars(actual.dollars)} |")
                else:
                    rows.append("| actual | — | — |")
                st.markdown("\n".join(rows))
                detail = f"{last.model} · {len(last.images)} image(s) · {last.seconds:.1f} s"
                if actual is not None:
                    detail += (f" · text in {actual.text_tokens:,} · image in {actual.image_input_tokens:,}"
                               f" · image out {actual.output_tokens:,}")
                else:
                    detail += " · the API reported no usage"
                st.caption(detail)
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
    if choice in (OPENAI, CUSTOM):
        st.number_input("Timeout (seconds)", 300, 3600, 600, step=60, key=state.TIMEOUT,
                        help="Generation can take over two minutes; a shorter wait would lose paid pictures.")
    conn = _resolved(choice)
    if conn is None:
        return
    if conn.offline:
        st.info("**Offline backend** — pictures are synthesised locally and are not from an OpenAI model. "
                "Add an API key to use OpenAI.", icon=":material/science:")
    else:
        st.success(f"**{conn.label}**", icon=":material/cloud_done:")


def _resolved(choice: str):
    missing = connection.missing_setting(choice)
    if missing:
        st.warning(missing, icon=":material/key:" if choice == OPENAI else ":material/link:")
        return None
    return connection.current_connection()


def ready() -> bool:
    """Whether the chosen backend has what it needs to send a request."""
    return connection.missing_setting(st.session_state.get(state.BACKEND_CHOICE) or connection.default_backend()) \
        is None


def draw_sidebar() -> Sidebar:
    """Draw the shared sidebar; the page fills its estimate and calls ``finish()`` at the end."""
    keep_widget_state(*state.KEPT_PREFIXES)
    st.html(PAGE_CSS)
    with st.sidebar:
        st.markdown("### :material/palette: ImageLab")
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()
        _connection_panel()
        st.divider()
        estimate_slot = st.empty()
        st.divider()
        usage_slot = st.empty()
    return Sidebar(estimate_slot, usage_slot)
