"""Generate's "Compare models": the same prompt and options sent to 2–6 models or quality levels at once.

Each target gets the request adapted to what it takes (``imagelab.runs.fanout``), and every change is
shown before sending. The runs share a group; the results sit side by side (``runs.show_fanout``).
"""

from __future__ import annotations

import uuid
from typing import Any

import streamlit as st

from imagelab.costs import estimate, format_dollars
from imagelab.runs.fanout import MAX_TARGETS, MIN_TARGETS, FanoutTarget, plan, target_choices

from . import runs, state


def form(spec: Any) -> tuple[bool, list[FanoutTarget]]:
    """The expander: targets, what changes for each, the summed estimate; (clicked, the adapted targets).

    Drawn only while open: closed, it costs the page nothing (its picker's script included)."""
    box = st.expander("Compare models", icon=":material/view_column:", key=state.GEN_FANOUT_OPEN, on_change="rerun")
    if not box.open:
        return False, []
    with box:
        targets = st.multiselect(f"Send this prompt to {MIN_TARGETS}–{MAX_TARGETS} models or quality levels",
                                 target_choices(), key=state.GEN_FANOUT_TARGETS, max_selections=MAX_TARGETS,
                                 placeholder="gpt-image-1.5, gpt-image-2 · low, …")
        adapted = plan(spec, targets)
        for t in adapted:
            if t.changes:
                st.caption(f"{t.target}: {'; '.join(t.changes)} (it does not take the option as set)")
        total = sum(estimate(t.spec).dollars for t in adapted)
        if adapted:
            st.caption(f"{len(adapted)} request(s), estimated {format_dollars(total)} in all.")
        clicked = st.button(f"Send to {len(adapted) or 'each'}", key=state.GEN_FANOUT_BUTTON,
                            icon=":material/call_split:", disabled=len(adapted) < MIN_TARGETS, width="stretch")
    return clicked, adapted


def send(targets: list[FanoutTarget], *, live: Any) -> None:
    group = "fanout-" + uuid.uuid4().hex[:10]
    sent = 0
    for t in targets:
        if runs.submit(t.spec, t.spec.problems(), "generate", page="generate", est=estimate(t.spec), live=live,
                       group=group, label=t.target) is not None:
            sent += 1
    if sent:
        st.session_state[state.GEN_FANOUT_GROUP] = group


def show() -> None:
    group = st.session_state.get(state.GEN_FANOUT_GROUP)
    if group:
        st.markdown("**Compared side by side**")
        runs.show_fanout(group)
