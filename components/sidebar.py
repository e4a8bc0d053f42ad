"""The sidebar every page draws: connection, live estimate, last run, session total."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import streamlit as st

from imagelab.costs import Estimate, format_dollars
from imagelab.jobs import STATUS_WORDS, RunEngine
from imagelab.specs import Problem
from imagelab.store import StorageError
from imagelab.text import literal, shorten

from . import connection, spending, state
from .connection import CUSTOM, OFFLINE, OPENAI
from .options import keep_widget_state
from .pages import PAGES, by_key

# Less empty space above each page's title; the pages are tools, not articles.
PAGE_CSS = "<style>.block-container, [data-testid='stMainBlockContainer'] {padding-top: 2.5rem;}</style>"


@dataclass
class Sidebar:
    estimate_slot: Any
    tray_slot: Any
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
            spending.show(est.dollars)

    def finish(self) -> None:
        """Fill the job tray and the usage panels (call at the end of the page, after any submit)."""
        try:
            with self.tray_slot.container():
                _tray()
            with self.usage_slot.container():
                _usage_panels()
        except StorageError:  # the page itself says what is wrong with the history folder
            self.usage_slot.caption("Usage is not shown while the history folder cannot be used.")


def _usage_panels() -> None:
    ids = st.session_state.get(state.SESSION_RUN_IDS, [])
    runs = connection.get_store().runs(len(ids), ids=ids) if ids else []
    done = [r for r in runs if not r.active]
    st.markdown("**Last run**")
    if not done:
        st.caption("No run has finished in this session yet.")
    else:
        last = done[0]
        approx = "≈ " if (last.estimate or {}).get("approximate") else ""
        est_tokens = (last.estimate or {}).get("total_tokens", 0)
        rows = ["| | tokens | cost |", "| --- | ---: | ---: |",
                f"| estimated | {approx}{est_tokens:,} | {approx}{format_dollars(last.est_dollars or 0)} |"]
        usage = last.usage or {}
        if last.actual_dollars is not None:
            rows.append(f"| actual | {usage.get('total_tokens', 0):,} | {format_dollars(last.actual_dollars)} |")
        else:
            rows.append("| actual | — | — |")
        st.markdown("\n".join(rows))
        detail = f"{last.model} · {STATUS_WORDS.get(last.status, last.status)}"
        if last.finished_at:
            detail += f" · {last.finished_at - last.started_at:.1f} s"
        if not usage:
            detail += " · the API reported no usage"
        st.caption(detail)
    tokens = sum((r.usage or {}).get("total_tokens", 0) for r in done)
    dollars = sum(r.actual_dollars or 0 for r in done)
    st.markdown("**This session**")
    st.caption(f"{len(done)} run(s) · {tokens:,} tokens · {format_dollars(dollars)}")


def _cancel_run(engine: RunEngine, run_id: int) -> None:
    """The tray's Cancel button (a click callback returns nothing; ``cancel`` says whether it stopped a run)."""
    engine.cancel(run_id)


def _cancel_batch(group: str) -> None:
    connection.get_engine().cancel_batch(group)


def _draw_batches() -> bool:
    """Batch API jobs not yet collected, with their progress and Cancel; whether there were any."""
    from imagelab.batches import BATCH_WORDS

    rows = connection.get_store().batches(active=True)
    for row in rows:
        line, stop = st.columns([4, 1], vertical_alignment="center")
        line.caption(f"Batch · {BATCH_WORDS.get(row.status, row.status)} · {row.completed + row.failed} of "
                     f"{row.total} done")
        if not row.cancel_requested:
            stop.button("", key=f"btn_tray_batch_cancel_{row.id}", icon=":material/stop_circle:",
                        on_click=_cancel_batch, args=(row.group_id,),
                        help="Cancel this batch (what it already made is kept)")
    return bool(rows)


def _draw_tray(polling: bool) -> None:
    """Running and queued jobs of every page, with Cancel; this session's runs that finished elsewhere."""
    engine = connection.get_engine()
    batches = _draw_batches()
    jobs = engine.active()
    if jobs:
        running = sum(1 for j in jobs if j.status == "running")
        st.markdown(f"**Runs** · {running} running · {len(jobs) - running} queued")
        for live in jobs:
            page = by_key(live.page)
            line, stop = st.columns([4, 1], vertical_alignment="center")
            line.caption(f"{page.name if page else live.page} · {literal(shorten(live.prompt, 40))} · "
                         f"{STATUS_WORDS[live.status]} · {live.elapsed:.0f} s")
            stop.button("", key=f"btn_tray_cancel_{live.run_id}", icon=":material/stop_circle:",
                        on_click=_cancel_run, args=(connection.get_engine(), live.run_id),
                        help="Cancel this run (images already saved are kept)")
    ids = st.session_state.get(state.SESSION_RUN_IDS, [])
    seen = st.session_state.setdefault(state.TRAY_SEEN, set())
    for job in [engine.job(i) for i in ids]:
        if job is None or job.active or job.run_id in seen:
            continue
        page = by_key(job.page)
        if page is None:
            continue
        st.page_link(page.path, label=f"{page.name}: {len(job.images)} of {job.requested} image(s) "
                                      f"{STATUS_WORDS[job.status]}", icon=":material/done_all:")
    if bool(jobs or batches) != polling:
        st.rerun()


def mark_page_seen(page_key: str) -> None:
    """A page that shows its own runs: its finished runs need no link in the tray."""
    engine = connection.get_engine()
    seen = st.session_state.setdefault(state.TRAY_SEEN, set())
    for run_id in st.session_state.get(state.SESSION_RUN_IDS, []):
        job = engine.job(run_id)
        if job is not None and job.page == page_key and not job.active:
            seen.add(run_id)


def _tray() -> None:
    engine = connection.get_engine()
    if engine.pending and ready():  # turns a previous process was following go on from where they were
        engine.resume_pending(connection.current_connection())
    polling = bool(engine.active()) or bool(connection.get_store().batches(active=True))
    st.fragment(_draw_tray, run_every=1.0 if polling else None)(polling)


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
        for page in PAGES:
            st.page_link(page.path, label=page.name, icon=page.icon)
        st.divider()
        _connection_panel()
        with contextlib.suppress(StorageError):  # the page itself says what is wrong with the history folder
            spending.settings()
        st.divider()
        estimate_slot = st.empty()
        tray_slot = st.empty()
        st.divider()
        usage_slot = st.empty()
    return Sidebar(estimate_slot, tray_slot, usage_slot)
