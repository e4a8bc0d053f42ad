"""Sending a spec from a page, and showing a page's runs: live while they run, saved once done.

A click *submits* the spec to the run engine and returns at once: the request is sent by the
engine's workers whatever the person does next (types, clicks, changes page, closes the tab).
The page's results column shows the runs from the store, newest first; the ones still running
are drawn by a fragment that reruns only while one is active, so an idle page costs nothing.

Each of those reruns waits in the engine until something has changed (a preview, a saved picture,
the end of the run) and draws it at once: a picture shows as soon as it is saved, not at the next
tick. The wait gives way the moment the person does anything else on the page.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext, get_script_run_ctx

from imagelab.client import ImageLabError
from imagelab.costs import Estimate, estimate, format_dollars, money_of, money_text, total_money
from imagelab.drift import KeepExact
from imagelab.jobs import STATUS_WORDS, EventCall, JobState
from imagelab.kinds import Job, PostStep, Spec
from imagelab.store import ImageRecord, RunRecord, StorageError
from imagelab.sweeps import sweep_grid
from imagelab.text import shorten

from . import connection, keep_exact, people, results, sidebar, spending, state, untrusted

# How often the browser asks a page's live part to redraw while a job runs. Each redraw first waits
# in the engine for news (up to LONG_POLL_SECONDS), so this only keeps a redraw always queued.
POLL_SECONDS = 0.1
LONG_POLL_SECONDS = 1.0
_GIVE_WAY_SECONDS = 0.03  # how soon a wait notices that the person did something
RUNS_PER_PAGE = 8
# A finished job's pictures stay in the polling part this long before the page is redrawn in full.
_SHOWN_BEFORE_REDRAW = 0.3
_VERBS = {"generate": "Generating", "reference_edit": "Making", "mask_edit": "Editing", "sweep": "Generating",
          "conversation": "Answering", "extend": "Extending"}


def submit(spec: Spec, problems: list[Any], kind: str, *, page: str, est: Estimate | None, live: Any,
           parents: list[str] | None = None, group: str | None = None, label: str | None = None,
           on_queued: Callable[[int], None] | None = None,
           on_finish: Callable[[JobState], None] | None = None,
           postprocess: KeepExact | None = None, call: EventCall | None = None) -> int | None:
    """The primary button's action: refuse with sentences, or hand the spec to the run engine as a job of
    ``kind`` (``imagelab.kinds``; ``call`` sends it another way, in this process).

    Returns the run id at once; the run goes on whatever happens to this page. ``postprocess``
    (keep-exact) runs in the engine's worker on every saved result.
    """
    if problems:
        with live.container():
            for p in problems:
                untrusted.say(p.message, icon=":material/error:")
        return None
    if not sidebar.ready():
        live.error("Finish setting up the connection in the sidebar first.", icon=":material/link_off:")
        return None
    try:
        refused = spending.refusal(spec, (est or estimate(spec)).dollars)
    except StorageError as exc:
        with live.container():
            untrusted.say(f"Nothing was sent. {exc.sentence}", icon=":material/folder_off:")
        return None
    if refused:
        with live.container():
            untrusted.say(refused, icon=":material/savings:")
        return None
    conn = connection.current_connection()
    person = people.current()
    job = Job.of(kind, spec, conn, page=page, parents=tuple(parents or ()), group=group, label=label,
                 owner=person.subject if person is not None else None,
                 post=PostStep.keep_exact(postprocess) if postprocess is not None else None, estimate=est,
                 moderate=spending.moderation_on())
    request = job.request(conn.api_key, budget=spending.guard(), on_queued=on_queued, on_finish=on_finish,
                          call=call, owner=person)
    try:
        run_id = connection.get_engine().submit(request)
    except StorageError as exc:  # nothing was sent: a picture that cannot be saved must not be paid for
        with live.container():
            untrusted.say(f"Nothing was sent. {exc.sentence}", icon=":material/folder_off:")
        return None
    spending.note_session_runs([run_id])
    st.session_state.setdefault(state.item(state.LIVE_WATCH, page), []).append(run_id)
    return run_id


def cancel(run_id: int) -> None:
    connection.get_engine().cancel(run_id)


def await_news(name: str, *, limit: float | None = None) -> None:
    """At the top of a live part (a fragment that reruns while jobs run): in its own rerun, wait until
    the engine has news since this part was last drawn, for at most ``limit`` or LONG_POLL_SECONDS.

    A full page run never waits here. The wait ends early when the person asks for anything else:
    a full rerun or a stop ends this run through Streamlit's own check; a rerun of another part of
    the page is let through by ending the wait.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    engine = connection.get_engine()
    seen_key = state.item(state.LIVE_SEEN, name)
    seen = st.session_state.get(seen_key)
    if ctx is not None and ctx.fragment_ids_this_run and seen is not None:
        _wait_for_change(ctx, seen, LONG_POLL_SECONDS if limit is None else min(limit, LONG_POLL_SECONDS))
    st.session_state[seen_key] = engine.version


def _wait_for_change(ctx: ScriptRunContext, version: int, seconds: float) -> str | None:
    """Wait up to ``seconds`` for the engine to move past ``version``; who is waiting if the wait gave
    way to the person (see ``who_waits``), else ``None``. A full rerun or a stop ends the run here."""
    engine = connection.get_engine()
    deadline = time.monotonic() + seconds
    while engine.version == version and time.monotonic() < deadline:
        ctx.yield_check()
        waiting = who_waits(ctx)
        if waiting is not None:
            return waiting
        engine.wait_for_change(version, _GIVE_WAY_SECONDS)
    return None


def who_waits(ctx: ScriptRunContext) -> str | None:
    """``"here"`` when the person asked for a rerun of the part running now (typing in it, a click in
    it), ``"elsewhere"`` for anything else (another part, the whole page, a stop), ``None`` when only
    this part's own timer (or nobody) waits."""
    requests = ctx.script_requests
    if requests is None:
        return None
    try:
        waiting = requests._state.name
        queued = requests._rerun_data.fragment_id_queue
        timer = requests._rerun_data.is_auto_rerun
    except AttributeError:  # Streamlit changed its insides: never hold anyone up
        return "elsewhere"
    if waiting == "CONTINUE":
        return None
    running = set(ctx.fragment_ids_this_run or ())
    if waiting != "RERUN" or not queued or any(f not in running for f in queued):
        return "elsewhere"
    # a rerun of this very part that its timer did not send: the person typed or clicked in it
    return None if timer else "here"


# --- showing runs ---------------------------------------------------------------------------------

def scroll_into_view(run_id: int) -> None:
    """Bring a run this session started into view, once: the first time its card is drawn."""
    if run_id not in st.session_state.get(state.SESSION_RUN_IDS, []):
        return
    scrolled = st.session_state.setdefault(state.SCROLLED_RUNS, set())
    if run_id in scrolled:
        return
    scrolled.add(run_id)
    # Nothing moves while the card's first lines are in view (a card taller than the window scrolled to its middle
    # took the page's title and the card's cost line away); the card may take a moment to be drawn.
    st.html(f"""<script>(() => {{ let tries = 0; const go = () => {{
      const card = document.querySelector('.st-key-run_{run_id}');
      if (!card) {{ if (++tries < 50) setTimeout(go, 100); return; }}
      const box = card.getBoundingClientRect();
      if (box.top < 0 || box.top > window.innerHeight - 160) card.scrollIntoView({{block: 'center'}});
      }}; go(); }})();</script>""", unsafe_allow_javascript=True)


def show_job(job: JobState, *, key: str) -> None:
    """A run still going: its previews as they stream in, the images already saved, a Cancel button."""
    scroll_into_view(job.run_id)
    with st.container(border=True, key=f"run_{job.run_id}"):
        verb = _VERBS.get(job.page, "Running")
        head, button = st.columns([3, 1], vertical_alignment="center")
        head.markdown(f"**{verb} {job.requested} image(s) with** {untrusted.theirs(job.model)} · "
                      f"{STATUS_WORDS[job.status]} · {job.elapsed:.0f} s")
        if job.active:
            button.button("Cancel", key=f"btn_{key}_cancel_{job.run_id}", on_click=cancel, args=(job.run_id,),
                          icon=":material/stop_circle:", help="Stop this run; images already saved are kept.")
        _job_pictures(job)


def run_error(run: RunRecord) -> ImageLabError:
    """A finished run's error as the history keeps it: the sentence, and what the server said beneath it."""
    return ImageLabError(run.error or "", api_message=run.api_message, status=run.api_status, code=run.api_code,
                         request_id=run.request_id)


def show_record(run: RunRecord, images: list[ImageRecord], *, key: str, columns: int = 2) -> None:
    """A finished run from the store: its prompt, images, errors, usage and cost."""
    scroll_into_view(run.id)
    with st.container(border=True, key=f"run_{run.id}"):
        made = len({rec.index for rec in images})
        line = [untrusted.theirs(run.model), f"{made} of {run.requested or made} image(s)"]
        if run.finished_at:
            line.append(f"{run.finished_at - run.started_at:.1f} s")
        tokens = (run.usage or {}).get("total_tokens")
        if run.actual_dollars is not None:
            money = money_text(money_of(run))
            line.append(f"{tokens:,} tokens · {money}" if tokens else money)
        if run.est_dollars is not None:
            approx = "≈ " if (run.estimate or {}).get("approximate") else ""
            line.append(f"estimated {approx}{format_dollars(run.est_dollars)}")
        if run.status != "ok":
            line.append(STATUS_WORDS.get(run.status, run.status))
        request_id = untrusted.theirs(run.request_id) if run.request_id else None
        st.markdown(" · ".join(line), help=f"request id {request_id}" if request_id else None)
        untrusted.show_text(shorten(run.prompt, 300), quiet=True)
        if run.error:  # the sentence, and beneath it what the server said and the id to quote to the provider
            icon = ":material/block:" if run.status == "cancelled" else ":material/error:"
            results.show_error(run_error(run), kind="warning" if images else "error", icon=icon)
        shown = keep_exact.pairs(images)
        if shown:
            cols = st.columns(min(columns, len(shown)))
            for i, (rec, raw) in enumerate(shown):
                with cols[i % len(cols)]:
                    keep_exact.show_result(rec, raw, key=f"{key}.{run.id}")


def watch_here(page: str, slot: Any) -> None:
    """The end of a form's own rerun (a fragment): show the runs it sent in ``slot``, a place at the top of
    the results column, as they change, and redraw the whole page once they have ended.

    The click's own run shows the picture the moment it is saved, with no full redraw of the page
    first. Nothing happens in a full run of the page, or while the results' live part is polling (it
    shows the runs itself). The person is never held up: a full rerun ends this run at once, a rerun of
    the form (typing, Cancel, another click) ends the watch and the form's next run takes it up again,
    and a rerun of any other part makes the whole page redraw, where the live part takes over.
    """
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not ctx.fragment_ids_this_run:
        slot.empty()  # a full run: the place is kept for the form's own reruns to fill
        return
    ids = _sent_here(page)
    if not ids:
        return
    engine = connection.get_engine()
    ended_at = None
    for drawn in itertools.count():
        version = engine.version
        jobs = [job for job in (engine.job(run_id) for run_id in ids) if job is not None]
        with slot.container():
            for job in reversed(jobs):
                _job_body(job, key=f"run_{job.run_id}_watched_{drawn}")
        if not any(job.active for job in jobs):
            ended_at = ended_at or time.monotonic()
            if time.monotonic() - ended_at >= _SHOWN_BEFORE_REDRAW:
                st.rerun()  # the pictures are in view: now the page in full, with their actions
        waiting = _wait_for_change(ctx, version, _SHOWN_BEFORE_REDRAW if ended_at else LONG_POLL_SECONDS)
        if waiting == "here":
            return  # the form's next run watches again
        if waiting == "elsewhere":
            st.rerun()


def watched_cancel(page: str, place: Any, *, key: str) -> None:
    """Beside a form's button, while the runs it sent are shown by its own reruns (``watch_here``): a
    Cancel for them, since that place has no room for buttons. Cancelling keeps what was saved."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not ctx.fragment_ids_this_run:
        return
    sent = _sent_here(page)
    if not sent:  # nothing to cancel, and no engine needed (it cannot start while the history folder is unusable)
        return
    engine = connection.get_engine()
    running = [run_id for run_id in sent if (job := engine.job(run_id)) is not None and job.active]
    if running:
        with place.container():
            st.button("Cancel", key=f"btn_{key}_cancel_sent", icon=":material/stop_circle:", on_click=_cancel_all,
                      args=(running,), help="Stop the run(s) just sent; images already saved are kept.")


def _sent_here(page: str) -> list[int]:
    """The runs ``page``'s form sent since its last full run, which the form itself shows; none while the
    results' live part is polling (it shows every running job)."""
    if st.session_state.get(state.item(state.LIVE_POLLING, page)):
        return []
    return list(st.session_state.get(state.item(state.LIVE_WATCH, page)) or [])


def _cancel_all(run_ids: list[int]) -> None:
    for run_id in run_ids:
        cancel(run_id)


def _job_body(job: JobState, *, key: str) -> None:
    """A run as it goes, without widgets (a form's rerun may draw only these outside itself)."""
    with st.container(border=True, key=key):
        verb = _VERBS.get(job.page, "Running")
        st.markdown(f"**{verb} {job.requested} image(s) with** {untrusted.theirs(job.model)} · "
                    f"{STATUS_WORDS[job.status]} · {job.elapsed:.0f} s")
        _job_pictures(job)


def _job_pictures(job: JobState) -> None:
    """A running job's prompt, then each image as saved, its latest preview or a wait; its errors."""
    untrusted.show_text(shorten(job.prompt, 200), quiet=True)
    alt = results.picture_alt(job.prompt)
    saved = {rec.index: rec for rec in list(job.images)}
    previews = dict(job.previews)
    cols = st.columns(min(job.requested, 2))
    for i in range(job.requested):
        with cols[i % len(cols)]:
            if i in saved:
                data = results.preview(saved[i].hash, saved[i].format)
                if data is not None:
                    st.image(data, caption="Saved", width="stretch", alt=alt)
            elif i in previews:
                st.image(previews[i][1], caption=f"Preview {previews[i][0] + 1}", width="stretch", alt=alt)
            else:
                st.caption(f"Image {i + 1}: waiting…")
    for err in list(job.errors):
        results.show_error(err)


def _draw_active(page: str, key: str, polling: bool, since: float) -> None:
    engine = connection.get_engine()
    if polling:
        # Nothing left running: only wait out the moment the last pictures stay here before the full redraw.
        ended = [j.finished_at or 0 for j in people.own_jobs(engine.finished_since(since, page=page))]
        left = None if people.own_jobs(engine.active(page=page)) else max(
            0.0, _SHOWN_BEFORE_REDRAW - (time.time() - max(ended, default=0)))
        await_news(f"runs_{page}", limit=left)
    jobs = people.own_jobs(engine.active(page=page))
    # Runs that finished since the page was last drawn in full: their pictures show at once, here.
    done = people.own_jobs(engine.finished_since(since, page=page)) if polling else []
    for job in reversed(done + jobs):
        show_job(job, key=key)
    # what the finished runs below leave out: a run's row may say it has ended while it is drawn here
    st.session_state[state.item(state.LIVE_DRAWN, page)] = {job.run_id for job in done + jobs}
    # A job started elsewhere, or every job has ended and its pictures have been on the page a moment:
    # redraw the whole page (which stops the polling when nothing is left running).
    settled = all(time.time() - (j.finished_at or 0) > _SHOWN_BEFORE_REDRAW for j in done)
    if (jobs and not polling) or (polling and not jobs and settled):
        st.rerun()


def show_runs(page: str, *, key: str, shown_key: str, empty_text: str, icon: str, columns: int = 2) -> None:
    """A page's results column: its running jobs live, then its finished runs, newest first."""
    try:
        _show_runs(page, key=key, shown_key=shown_key, empty_text=empty_text, icon=icon, columns=columns)
    except StorageError as exc:
        untrusted.say(exc.sentence, icon=":material/folder_off:")


def _show_runs(page: str, *, key: str, shown_key: str, empty_text: str, icon: str, columns: int) -> None:
    sidebar.mark_page_seen(page)  # the runs are in view here: the sidebar need not link to them
    engine = connection.get_engine()
    store = connection.get_store()
    polling = bool(people.own_jobs(engine.active(page=page)))
    # From here the live part shows every running job; the form's own watch stands down.
    st.session_state[state.item(state.LIVE_POLLING, page)] = polling
    st.session_state[state.item(state.LIVE_WATCH, page)] = []
    st.fragment(connection.says_history_faults(_draw_active), run_every=POLL_SECONDS if polling else None)(
        page, key, polling, time.time())
    drawn_live = st.session_state.get(state.item(state.LIVE_DRAWN, page)) or set()
    shown = st.session_state.get(shown_key, RUNS_PER_PAGE)
    active = people.own_jobs(engine.active(page=page))
    runs = [r for r in store.runs(shown + len(drawn_live) + len(active), page=page, owner=people.subject())
            if r.id not in drawn_live and not (r.active and engine.job(r.id) is not None)][:shown]
    for run in runs:
        show_record(run, store.images_of_run(run.id), key=key, columns=columns)
    total = store.count_runs(page=page, owner=people.subject())
    hidden = total - len(runs) - len(active)
    if hidden > 0:
        st.caption(f"{hidden} older run(s) are hidden here; all of them are in the Gallery.")
        if st.button(f"Show {min(hidden, RUNS_PER_PAGE)} more", key=f"btn_{key}_more", icon=":material/expand_more:"):
            st.session_state[shown_key] = shown + RUNS_PER_PAGE
            st.rerun()
    if not runs and not polling:
        # hidden by RESULTS_CSS once a run's card is drawn above it (a form's own rerun leaves it in place)
        with st.container(key=f"runs_empty_{page}"):
            st.info(empty_text, icon=icon)


MASK_REQUEST = ("Make a black and white mask of {subject} in this picture: {subject} pure white, everything else "
                "pure black, same framing, no grey, no other detail.")


def ask_for_mask(image: Any, subject: str, model: str, *, live: Any) -> int | None:
    """Ask the model to draw ``subject`` in white on black; returns the run id of that drawing.

    The drawing is a paid request, so it runs on the engine and is saved like any other result;
    ``mask_from_drawing`` turns it into a mask once it has arrived.
    """
    from imagelab.specs import EditSpec

    spec = EditSpec(prompt=MASK_REQUEST.format(subject=subject.strip()), model=model, images=(image,),
                    quality="low", output_format="png")
    return submit(spec, spec.problems(), "edit", page="mask_edit", est=estimate(spec), live=live,
                  parents=[image.hash])


def mask_from_drawing(run_id: int, image: Any) -> tuple[str | None, bytes | None, str | None]:
    """(image hash, mask PNG, problem sentence) for a finished mask drawing; (None, None, None) while it runs."""
    from imagelab.masks import MaskError, mask_from_model_drawing

    engine = connection.get_engine()
    job = engine.job(run_id)
    if job is not None and job.active:
        return None, None, None
    store = connection.get_store()
    images = store.images_of_run(run_id)
    if not images:
        run = store.run(run_id)
        return image.hash, None, run.error or "The model drew no mask; try another subject."
    drawing = store.read_bytes(images[0].hash, images[0].format)
    try:
        return image.hash, mask_from_model_drawing(drawing, (image.width, image.height)), None
    except MaskError as exc:
        return image.hash, None, exc.sentence


def show_drawing_progress(run_id: int) -> None:
    """While the model draws a mask: a line that updates itself, and a page rerun once it has arrived."""
    st.fragment(connection.says_history_faults(wait_for_drawing), run_every=POLL_SECONDS * 5)(run_id)


def wait_for_drawing(run_id: int) -> None:
    """Shown while the model draws a mask; reruns the page once the drawing has arrived."""
    await_news(f"drawing_{run_id}")
    job = connection.get_engine().job(run_id)
    if job is None or not job.active:
        st.rerun()
    st.caption(f":material/hourglass_top: The model is drawing the mask… {job.elapsed:.0f} s")


def _draw_turn(run_id: int) -> None:
    await_news(f"turn_{run_id}")
    job = connection.get_engine().job(run_id)
    if job is None or not job.active:
        st.rerun()
    previews = dict(job.previews)
    if job.images:
        data = results.preview(job.images[0].hash, job.images[0].format)
        if data is not None:
            st.image(data, caption="Saved", width="stretch")
    elif previews:
        number, data = previews[max(previews)]
        st.image(data, caption=f"Preview {number + 1}", width="stretch")
    head, button = st.columns([5, 1], vertical_alignment="center")
    head.caption(f":material/hourglass_top: {STATUS_WORDS[job.status].capitalize()} with {job.model} · "
                 f"{job.elapsed:.0f} s")
    button.button("Cancel", key=f"btn_turn_cancel_{run_id}", on_click=cancel, args=(run_id,),
                  icon=":material/stop_circle:", help="Stop this turn.", width="stretch")


def show_turn_progress(run_id: int) -> None:
    """A conversation turn still running: its previews as they arrive; the page redraws when it ends."""
    st.fragment(connection.says_history_faults(_draw_turn), run_every=POLL_SECONDS)(run_id)


def _draw_batch_progress(group: str) -> bool:
    """A sweep sent through the Batch API: each batch's status, n of N done, and Cancel. Whether one is active."""
    from imagelab.batches import BATCH_WORDS

    rows = connection.get_store().batches(group_id=group)
    for row in rows:
        words = BATCH_WORDS.get(row.status, row.status)
        done = row.completed + row.failed
        cost = f" · {format_dollars(row.dollars)} at the batch price" if row.dollars is not None else ""
        st.markdown(f"**Batch** ({row.endpoint.rsplit('/', 1)[-1]}) · {words} · {done} of {row.total} done"
                    f"{f' · {row.failed} failed' if row.failed else ''}{cost}")
        if row.active:
            st.progress(done / max(row.total, 1))
            if row.cancel_requested:
                st.caption("Cancelling… what the batch already made is kept.")
            else:
                st.button("Cancel the batch", key=f"btn_batch_cancel_{row.id}", icon=":material/stop_circle:",
                          on_click=_cancel_group, args=(group,),
                          help="Lines already done are kept and saved to their cells.")
        if row.error and row.active:
            untrusted.say(row.error, kind="warning", icon=":material/sync_problem:")
    return any(r.active for r in rows)


def _draw_sweep(group: str, polling: bool) -> None:
    if polling:
        await_news(f"sweep_{group}")
    engine = connection.get_engine()
    store = connection.get_store()
    batch_active = _draw_batch_progress(group)
    runs = sorted(store.runs(500, group_id=group), key=lambda r: r.id)
    done = [r for r in runs if not r.active]
    ok = sum(1 for r in done if r.status in ("ok", "partial"))
    progress = f" · {len(done)} of {len(runs)} finished" if len(done) < len(runs) else ""
    st.markdown(f"**Sweep** · {ok} of {len(runs)} request(s) made pictures{progress} · "
                f"{money_text(total_money(done))}")
    if len(done) < len(runs) and not batch_active:
        st.progress(len(done) / max(len(runs), 1))
        st.button("Cancel the rest", key=f"btn_sweep_cancel_{group}", icon=":material/stop_circle:",
                  on_click=_cancel_group, args=(group,), help="Runs already finished, and their images, are kept.")
    show_sweep_grid(group, runs)
    if (bool(engine.active(group=group)) or batch_active) != polling:
        st.rerun()


def show_sweep_grid(group: str, runs: list[RunRecord]) -> None:
    """A sweep's runs as a grid by axis values: each row headed by its value, each column by its own; the
    column heads stay in view while the grid scrolls, and Compact shows only the pictures, smaller."""
    by_id = {r.id: r for r in runs}
    grid = sweep_grid([(r.id, r.label) for r in runs])
    across = [c for c in grid.columns if c]
    compact = st.segmented_control("Grid", ["Comfortable", "Compact"], default="Comfortable",
                                   key=state.SWEEP_DENSITY, label_visibility="collapsed",
                                   help="Compact: the pictures alone, smaller, to see the whole sweep at once; "
                                        "each picture's actions are in Comfortable and in the Gallery") == "Compact"
    # One axis: a row's images sit side by side, at least two places wide so no picture fills the column.
    per_row = 6 if compact else max(2, min(4, max((r.requested or 1 for r in runs), default=1)))
    # The row's value heads the row, so the pictures get the column's whole width.
    with st.container(key=f"sweep_grid_{'compact_' if compact else ''}{group}"):
        if across:
            with st.container(key=f"sweep_axes_{group}", gap="xsmall"):  # sticky (RESULTS_CSS)
                st.caption(f"{untrusted.theirs(grid.row_axis)} down ↓ · "
                           f"{untrusted.theirs(grid.column_axis)} across →")
                for col, value in zip(st.columns(len(grid.columns)), grid.columns, strict=True):
                    col.markdown(untrusted.theirs(f"{grid.column_axis}={value}"))
        for r, row_value in enumerate(grid.rows):
            name = f"{grid.row_axis}=" if grid.row_axis and " · " not in grid.row_axis else ""
            if row_value:
                st.markdown(untrusted.theirs(f"{name}{row_value}"))
            cols = st.columns(len(grid.columns) if across else per_row)
            for c, run_id in enumerate(grid.cells[r]):
                rec = by_id.get(run_id) if run_id is not None else None
                if rec is None:
                    continue
                if across:
                    with cols[c]:
                        _sweep_cell(rec, [st.container(border=True, key=f"sweep_cell_{rec.id}")],
                                    key=f"sweep{group}", compact=compact)
                else:
                    _sweep_cell(rec, cols, key=f"sweep{group}", compact=compact)


def _sweep_cell(rec: RunRecord, places: list[Any], *, key: str, compact: bool = False) -> None:
    """One request of a sweep: its pictures with the usual actions (one a place, wrapping round), or its
    progress; its status, error and usage under the first. ``compact``: the pictures alone, as thumbnails."""
    job = connection.get_engine().job(rec.id)
    if job is not None and job.active:
        with places[0]:
            if job.previews:
                number, data = job.previews[max(job.previews)]
                st.image(data, caption=f"Preview {number + 1}", width="stretch")
            status = STATUS_WORDS.get(job.status, job.status)
            st.caption(" · ".join(x for x in (untrusted.theirs(rec.label or ""), status) if x))
        return
    images = connection.get_store().images_of_run(rec.id)
    for i, image in enumerate(images):
        with places[i % len(places)]:
            if compact:
                results.show_thumbnail(image.hash, image.format, alt=results.picture_alt(rec.prompt))
            else:
                results.show_image(image, key=key)
    with places[0]:
        if rec.status != "ok" or not images:
            status = "in the batch" if rec.active and rec.params.get("batch") else STATUS_WORDS.get(rec.status,
                                                                                                      rec.status)
            st.caption(" · ".join(x for x in (untrusted.theirs(rec.label or ""), status) if x))
        if rec.error:
            results.show_error(run_error(rec))
        if rec.actual_dollars is not None and not compact:
            tokens = (rec.usage or {}).get("total_tokens", 0)
            st.caption(f"{tokens:,} tokens · {money_text(money_of(rec))}")


def _cancel_group(group: str) -> None:
    engine = connection.get_engine()
    for job in engine.active(group=group):
        engine.cancel(job.run_id)
    engine.cancel_batch(group)


def _draw_fanout(group: str, polling: bool) -> None:
    """One prompt sent to several models: the results side by side, each with its figures and "Keep this one"."""
    if polling:
        await_news(f"fanout_{group}")
    engine = connection.get_engine()
    store = connection.get_store()
    runs = sorted(store.runs(6, group_id=group), key=lambda r: r.id)
    per_row = 3 if len(runs) != 4 else 2  # wide enough for a picture and its figures
    for i, rec in enumerate(runs):
        if i % per_row == 0:
            cols = st.columns(per_row)
        with cols[i % per_row], st.container(border=True, key=f"fanout_{rec.id}"):
            st.markdown(untrusted.theirs(rec.label or rec.model))
            job = engine.job(rec.id)
            if rec.active:
                st.caption(f"{STATUS_WORDS.get(rec.status, rec.status)} · {job.elapsed if job else 0:.0f} s")
                if job is not None and job.previews:
                    number, data = job.previews[max(job.previews)]
                    st.image(data, caption=f"Preview {number + 1}", width="stretch")
                continue
            images = store.images_of_run(rec.id)
            for image in images:
                copy = results.preview(image.hash, image.format)
                if copy is not None:
                    st.image(copy, width="stretch")
            figures = [f"{rec.finished_at - rec.started_at:.1f} s" if rec.finished_at else "",
                       f"{(rec.usage or {}).get('total_tokens', 0):,} tokens",
                       money_text(money_of(rec))]
            st.caption(" · ".join(f for f in figures if f))
            if rec.error:
                results.show_error(run_error(rec))
            if images:
                if all(i.starred for i in images):
                    st.caption(":material/star: Kept (starred)")
                else:
                    st.button("Keep", key=f"btn_fanout_keep_{rec.id}", icon=":material/star:",
                              on_click=_keep, args=([i.id for i in images],), width="stretch",
                              help="Keep this one: star it in the Gallery")
    if bool(engine.active(group=group)) != polling:
        st.rerun()


def _keep(image_ids: list[int]) -> None:
    store = connection.get_store()
    for image_id in image_ids:
        people.set_star(store, image_id, True)


def show_fanout(group: str) -> None:
    """The latest "Compare models" send, side by side, live while any of it runs."""
    polling = bool(connection.get_engine().active(group=group))
    st.fragment(connection.says_history_faults(_draw_fanout), run_every=POLL_SECONDS * 3 if polling else None)(
        group, polling)


def show_sweep(group: str) -> None:
    """A sweep's runs as a grid by axis values, live while any of them runs (or its batch is not yet collected)."""
    polling = bool(connection.get_engine().active(group=group)) or any(
        r.active for r in connection.get_store().batches(group_id=group))
    st.fragment(connection.says_history_faults(_draw_sweep), run_every=POLL_SECONDS * 3 if polling else None)(
        group, polling)
