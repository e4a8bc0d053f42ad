"""The sidebar every page draws: connection, live estimate, last run, session total."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import streamlit as st

from imagelab.costs import Estimate, estimated_tokens, format_dollars, money_of, money_text, total_money
from imagelab.runs.engine import RunEngine
from imagelab.runs.status import STATUS_WORDS
from imagelab.runs.tray import TrayEntry, tray_entries
from imagelab.specs import Problem
from imagelab.store import StorageError
from imagelab.text import shorten

from . import connection, first_view, people, results, runs, shortcuts, spending, state
from .connection import CUSTOM, OFFLINE, OPENAI
from .options import keep_widget_state
from .pages import PAGES, by_key
from .untrusted import UNTRUSTED_CSS, theirs

# The pages are tools, not articles: little space above and beside the work, a title that does not
# push the form down, and a sidebar whose first lines (the estimate) sit at the top of the window.
PAGE_CSS = """<style>
[data-testid='stMainBlockContainer'] {padding: 3.25rem 2rem 3rem; max-width: none;}
[data-testid='stMainBlockContainer'] h1 {font-size: 1.9rem; padding: 0 0 0.1rem;}
[data-testid='stSidebarHeader'] {height: 2.25rem; padding-top: 0.5rem; padding-bottom: 0; margin-bottom: 0;}
[data-testid='stSidebarUserContent'] {padding-top: 0;}
[data-testid='stSidebarUserContent'] hr {margin: 0.5rem 0;}
[data-testid='stSidebar'] [data-testid='stPageLink'] a {padding-top: 0; padding-bottom: 0;}
.st-key-sidebar_estimate h2 {
  font-size: 1.9rem; font-weight: 400; line-height: 1.25; padding: 0 0 0.35rem;}
.st-key-first_view_box, .st-key-keyboard_help, .st-key-chat_shortcut {display: none;}
/* the usage panels a form drew afresh as its runs ended stand in for the page's older ones */
[data-testid='stSidebarUserContent']:has(.st-key-usage_fresh) .st-key-usage_panels {display: none;}
/* the arrow beside the text is gap enough: a narrow box then shows "transparent" whole */
/* a chosen value longer than its box ends in an ellipsis, not mid-word */
[data-testid='stSelectbox'] input {padding-right: 0; text-overflow: ellipsis;}
/* chosen values wrap onto a second line rather than scroll out of sight */
[data-testid='stMultiSelectTagsContainer'] {flex-wrap: wrap; overflow: visible; height: auto; min-width: 0;
  flex: 1 1 0;}
[data-testid='stMultiSelect'] [role='group']:has(> [data-testid='stMultiSelectTagsContainer']) {
  height: auto; max-height: none;}
</style>"""


def headline(label: str, value: str, *, help: str | None = None) -> None:
    """A label and its figure in large type: the look of ``st.metric`` without its script, which brings date
    and number libraries (about 110 KB) to every cold view for one figure. (A heading, not HTML: Markdown
    with HTML in it brings an HTML parser of about the same size.)"""
    st.markdown(label, help=help)
    st.header(value.replace("$", r"\$"), anchor=False)  # a figure of ours: its $ is no maths


@dataclass
class Sidebar:
    estimate_slot: Any
    spending_slot: Any  # beneath the estimate: the money spent against each limit set
    tray_slot: Any
    usage_slot: Any
    fresh_usage_slot: Any = None  # above the usage panels: a form's own run draws them afresh here

    def show_estimate(self, est: Estimate | None, problems: list[Problem] | None = None, what: str = "", *,
                      with_spending: bool = True) -> None:
        """Fill the estimate panel with what the page would send now, and the spending beneath it unless
        ``with_spending=False`` (a part of the form draws that itself, ``show_spending``)."""
        if est is None:  # a page that sends nothing has no headline figure
            return
        with self.estimate_slot.container(key="sidebar_estimate"):
            approx = "≈ " if est.approximate else ""
            if connection.offline_chosen():  # nothing is paid here: the figure is only what OpenAI would charge
                headline("Estimated cost", "$0 here",
                         help="The offline backend charges nothing. The figure beneath is what the same request "
                              "would cost on OpenAI, from the catalog's prices per 1M tokens.")
                st.caption(f"would cost ≈ {format_dollars(est.dollars)} on OpenAI")
            else:
                headline("Estimated cost", f"{approx}{format_dollars(est.dollars)}",
                         help="The estimate of this request, from the catalog's prices per 1M tokens; the API's "
                              "usage after a run is the truth.")
            st.caption(f"{approx}{est.total_tokens:,} tokens: text in {est.text_tokens:,} · image in "
                       f"{est.image_input_tokens:,} · image out {est.output_tokens:,}")
            if what:
                st.caption(what)
            if est.approximate and est.notes:
                st.caption("Approximate: " + "; ".join(est.notes) + ".")
            if problems:
                st.caption(f":orange[{len(problems)} setting(s) to fix before sending.]")
            if with_spending:
                spending.show(est.dollars)

    def show_spending(self, est: Estimate) -> None:
        """The spending in its own place beneath the estimate, for a part of a form that draws it apart from the
        estimate (``show_estimate(with_spending=False)``): before a request, and afresh once the runs it sent ended."""
        with self.spending_slot.container():
            spending.show(est.dollars)

    def hold_estimate(self) -> None:
        """Keep the estimate's place for a fragment's own reruns to fill: Streamlit lets a fragment write
        outside itself only where it wrote in the page's last full run."""
        self.estimate_slot.empty()

    def hold_spending(self) -> None:
        """Keep the spending's own place for a fragment's own reruns to fill (``show_spending``)."""
        self.spending_slot.empty()

    def finish(self) -> None:
        """Fill the job tray and the usage panels (call at the end of the page, after any submit); nothing when
        only the estimate was drawn."""
        if self.tray_slot is None:
            return
        try:
            with self.tray_slot.container():
                _tray()
        except StorageError:  # the page itself says what is wrong with the history folder
            pass
        try:
            with self.usage_slot.container(key="usage_panels"):
                _usage_panels()
        except StorageError:  # the page itself says what is wrong with the history folder
            self.usage_slot.caption("Usage is not shown while the history folder cannot be used.")
        shortcuts.help_icons_out_of_tab_order()

    def hold_usage(self) -> None:
        """Keep the place where a form (a fragment) draws the usage panels afresh once the runs it sent have
        ended (``show_fresh_usage``): Streamlit lets a fragment's own run write outside it only where it wrote
        in the page's last full run, and clears that place at each of its runs, so only an empty place is
        kept, and a keystroke draws nothing there."""
        if self.fresh_usage_slot is not None:
            self.fresh_usage_slot.empty()

    def show_fresh_usage(self) -> None:
        """The usage panels drawn afresh by a form's own run (in the place ``hold_usage`` kept), the page's
        older ones hidden beneath them until the page is drawn in full again (PAGE_CSS)."""
        if self.fresh_usage_slot is None:
            return
        with contextlib.suppress(StorageError), self.fresh_usage_slot.container(key="usage_fresh"):
            _usage_panels()


def _usage_panels() -> None:
    """The last run's figures and the session's, in one Markdown element (captions as small grey text): one
    element for the browser to draw each time a run ends, not six."""
    ids = st.session_state.get(state.SESSION_RUN_IDS, [])
    runs = connection.get_store().runs(len(ids), ids=ids) if ids else []
    done = [r for r in runs if not r.active]
    parts = ["**Last run**"]
    if not done:
        parts.append(":gray[:small[No run has finished in this session yet.]]")
    else:
        last = done[0]
        approx = "≈ " if (last.estimate or {}).get("approximate") else ""
        est_tokens = estimated_tokens(last.estimate)
        rows = ["| | tokens | cost |", "| --- | ---: | ---: |",
                f"| estimated | {approx}{est_tokens:,} | {approx}{format_dollars(last.est_dollars or 0)} |"]
        usage = last.usage or {}
        money = money_of(last)
        if not money.priced:
            rows.append("| actual | — | — |")
        elif last.billed:
            rows.append(f"| spent | {usage.get('total_tokens', 0):,} | {format_dollars(money.spent)} |")
        else:  # the offline backend: nothing was paid; its usage only prices what OpenAI would charge
            rows.append(f"| spent | {usage.get('total_tokens', 0):,} | $0.00 |")
            rows.append(f"| would cost on OpenAI | | ≈ {format_dollars(money.would_cost)} |")
        parts.append("\n".join(rows))
        detail = f"{last.model} · {STATUS_WORDS.get(last.status, last.status)}"
        if last.finished_at:
            detail += f" · {last.finished_at - last.started_at:.1f} s"
        if not usage:
            detail += " · the API reported no usage"
        parts.append(f":gray[:small[{detail}]]")
    tokens = sum((r.usage or {}).get("total_tokens", 0) for r in done)
    parts.append("**This session**")
    parts.append(f":gray[:small[{len(done)} run(s) · {tokens:,} tokens · {money_text(total_money(done))}]]")
    st.markdown("\n\n".join(parts))


def _cancel_batch(group: str) -> None:
    connection.get_engine().cancel_batch(group)


def _draw_batches() -> bool:
    """Batch API jobs not yet collected, with their progress and Cancel; whether there were any."""
    from imagelab.runs.batches import BATCH_WORDS

    rows = people.own_batches(connection.get_store().batches(active=True))
    for row in rows:
        line, stop = st.columns([4, 1], vertical_alignment="center")
        line.caption(f"Batch · {BATCH_WORDS.get(row.status, row.status)} · {row.completed + row.failed} of "
                     f"{row.total} done")
        if not row.cancel_requested:
            stop.button("", key=f"btn_tray_batch_cancel_{row.id}", icon=":material/stop_circle:",
                        on_click=_cancel_batch, args=(row.group_id,),
                        help="Cancel this batch (what it already made is kept)")
    return bool(rows)


def _cancel_runs(engine: RunEngine, run_ids: tuple[int, ...]) -> None:
    """The tray's Cancel of an entry: every run of it still queued or running."""
    for run_id in run_ids:
        engine.cancel(run_id)


def _entry_name(entry: TrayEntry) -> str:
    page = by_key(entry.page)
    name = page.name if page else entry.page
    return f"{name} of {len(entry.run_ids)}" if entry.grouped else name


def _draw_tray() -> None:
    """Running and queued jobs of every page, with Cancel, a sweep or fan-out as one entry; this session's runs
    that finished elsewhere, folded away."""
    engine = connection.get_engine()
    _draw_batches()
    jobs = people.own_jobs(engine.active())
    if jobs:
        running = sum(1 for j in jobs if j.status == "running")
        st.markdown(f"**Runs** · {running} running · {len(jobs) - running} queued")
        for entry in tray_entries(jobs):
            line, stop = st.columns([3, 2], vertical_alignment="center")
            what = f"{entry.running} running · {entry.queued} queued" if entry.grouped else STATUS_WORDS[entry.status]
            line.caption(f"{_entry_name(entry)} · {theirs(shorten(entry.prompt, 40))} · {what} · "
                         f"{entry.elapsed:.0f} s")
            stop.button("Cancel", key=f"btn_tray_cancel_{entry.run_ids[0]}", icon=":material/stop_circle:",
                        type="tertiary", on_click=_cancel_runs, args=(engine, entry.active_ids),
                        help="Cancel " + ("every run of this group still going" if entry.grouped else "this run")
                             + " (images already saved are kept)")
    ids = st.session_state.get(state.SESSION_RUN_IDS, [])
    seen = st.session_state.setdefault(state.TRAY_SEEN, set())
    finished = [job for job in (engine.job(i) for i in ids)
                if job is not None and not job.active and job.run_id not in seen and by_key(job.page) is not None]
    # a group still partly running is listed above; its finished runs wait for the group to end
    going = {j.group for j in jobs if j.group}
    entries = tray_entries(j for j in finished if j.group not in going)
    if entries:
        with st.expander(f"Finished elsewhere · {len(entries)}", icon=":material/done_all:"):
            for entry in entries:
                page = by_key(entry.page)
                assert page is not None
                words = STATUS_WORDS.get(entry.status, entry.status)
                # short enough for the sidebar's width: a link label does not wrap
                st.page_link(page.path, label=f"{_entry_name(entry)} · {entry.saved}/{entry.requested} {words}",
                             help=f"{entry.saved} of {entry.requested} image(s) {words}: open {page.name} to "
                                  "see them")


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
    # no wait for news: two parts that wait would each give way to the other's timer, and neither would wait
    runs.live_part("tray", _draw_tray, _tray_active, every=1.0, news=False)


def _tray_active() -> bool:
    return bool(people.own_jobs(connection.get_engine().active())) or bool(
        people.own_batches(connection.get_store().batches(active=True)))


def _connection_panel(note: bool) -> None:
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
    if conn is None or not note:
        return
    if conn.offline:
        st.caption(":material/science: **Offline backend** · synthetic pictures, made on this computer",
                   help="Pictures are synthesised locally and are not from an OpenAI model. Add an API key to use "
                        "OpenAI.")
    else:
        st.caption(f":material/cloud_done: {theirs(conn.label)}")


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


def _nav_label(key: str, name: str) -> str:
    """A page's entry in the list; Boards' says how many reactions came back through share links."""
    if key != "boards":
        return name
    try:
        heard = connection.get_store().count_reactions()
    except StorageError:
        return name
    return f"{name} · {heard} reaction(s)" if heard else name


def draw_sidebar(*, connection_note: bool = True, estimate_only: bool = False) -> Sidebar:
    """Draw the shared sidebar; the page fills its estimate and calls ``finish()`` at the end.

    ``connection_note=False`` leaves out the line saying where requests go, for a page (Home) that
    says it at length itself, so it is not shown twice. ``estimate_only=True``: only the estimate's place (a
    page's brief first view, ``components/first_view.py``: the rest follows with the rest of the page).
    """
    person = people.require_person()  # with login, nothing below is drawn for someone not logged in
    keep_widget_state(*state.KEPT_PREFIXES)
    first_view.note_view()
    st.html(PAGE_CSS + results.RESULTS_CSS + f"<style>{UNTRUSTED_CSS}</style>")
    connection.warn_if_exposed()
    with st.sidebar:
        # The estimate of what the page would send is the headline: first, above the fold at any height.
        estimate_slot = st.empty()
        spending_slot = st.empty()
        if estimate_only:
            return Sidebar(estimate_slot, spending_slot, None, None)
        st.markdown("**:material/palette: ImageLab**")
        if person is not None:
            people.person_panel(person)
        for page in PAGES:
            if page.key != "team" or (person is not None and people.admin()):
                st.page_link(page.path, label=_nav_label(page.key, page.name), icon=page.icon)
        # below the page list, so that what runs never moves it
        tray_slot = st.empty()
        st.divider()
        _connection_panel(connection_note)
        with contextlib.suppress(StorageError):  # the page itself says what is wrong with the history folder
            spending.settings()
        st.divider()
        fresh_usage_slot = st.empty()
        usage_slot = st.empty()
    return Sidebar(estimate_slot, spending_slot, tray_slot, usage_slot, fresh_usage_slot)
