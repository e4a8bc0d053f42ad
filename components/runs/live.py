"""The one way a part of a page stays live while runs go on: ``live_part(name, draw, is_active)``.

A live part is a fragment. While ``is_active()`` held at the page's last full run, it reruns on a timer, and
each of those reruns first waits in the run engine for news (a preview, a saved picture, the end of a run),
so a picture is drawn the moment it is saved, not at the next tick; an idle part costs nothing. When
``is_active()`` flips, the whole page is redrawn (which starts or stops the timer). A live part's ``draw``
only draws.

The wait gives way at once to anything the person asks for. Whether anyone is waiting is not public in
Streamlit: ``_queued_rerun`` and ``_encloses`` are the only places that read Streamlit's insides, and
tests/app/test_live_parts.py pins them against the installed Streamlit, so the next one that changes them fails
there, not in a person's page.

The form's own watch (``watch_sent``): a click in a form (itself a fragment) sends a run, and the form's rerun
shows it in a place at the top of the results column as it goes and once it has ended, with its actions,
without a redraw of the page; tests/bench/bench_browser.py measures why: its "click → the run's card in view" and
"click → page idle again". On Generate the button is a part of its own nested in the form, so that a click reruns
only that part: a wait there gives way to a rerun of the form around it as to its own (``_encloses``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext, get_script_run_ctx

from components import connection, people, state

# How often the browser asks a live part to redraw while it is active. Each redraw first waits in the
# engine for news (up to LONG_POLL_SECONDS), so this only keeps a redraw always queued.
POLL_SECONDS = 0.1
LONG_POLL_SECONDS = 1.0
_GIVE_WAY_SECONDS = 0.03  # how soon a wait notices that the person did something
# A finished run's pictures stay in the live part this long before the page is redrawn in full.
SHOWN_BEFORE_REDRAW = 0.3
# How long a run's pictures are shown alone as it ends before its card's actions are drawn: in one message
# with them, the browser showed the picture later (the bench's "click → picture shown").
PICTURES_FIRST = 0.1
# How many finished runs the form keeps drawing in its own place before the page is redrawn in full.
KEPT_BY_THE_FORM = 4


def fragment_rerun() -> bool:
    """Whether this script run is a fragment's own rerun (a part of the page), not a full run of the page."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx is not None and bool(ctx.fragment_ids_this_run)


def live_part(name: str, draw: Callable[[], None], is_active: Callable[[], bool], *, every: float = POLL_SECONDS,
              wait: Callable[[], float | None] | None = None, news: bool = True, seen_active: bool = False) -> None:
    """Draw ``draw`` as a live part named ``name`` (unique on the page): polled every ``every`` seconds while
    ``is_active()``, waiting for news before each redraw (at most ``wait()`` seconds, when given; not at all
    with ``news=False``), and the whole page redrawn when ``is_active()`` flips. ``seen_active``: the page
    drew this part because it saw the run going; a run that ended since that look still gets its part's first
    tick, which redraws the page with it ended (else the page stayed drawn as if it were still going)."""
    active = seen_active or is_active()

    def part() -> None:
        if active and news:
            await_news(name, limit=wait() if wait is not None else None)
        draw()
        if is_active() != active:
            st.rerun()

    part.__qualname__ = part.__name__ = f"live_{name}"  # Streamlit tells fragments apart by name and place
    st.fragment(connection.says_history_faults(part), run_every=every if active else None)()


def await_news(name: str, *, limit: float | None = None) -> None:
    """In a live part's own rerun, wait until the engine has news since ``name`` was last drawn, for at most
    ``limit`` or LONG_POLL_SECONDS. A full page run never waits here."""
    ctx = get_script_run_ctx(suppress_warning=True)
    engine = connection.get_engine()
    who = people.subject()
    seen_key = state.item(state.LIVE_SEEN, name)
    seen = st.session_state.get(seen_key)
    if ctx is not None and ctx.fragment_ids_this_run and seen is not None:
        _wait_for_change(ctx, who, seen, LONG_POLL_SECONDS if limit is None else min(limit, LONG_POLL_SECONDS))
    st.session_state[seen_key] = engine.version_for(who)


def _wait_for_change(ctx: ScriptRunContext, who: str | None, version: int, seconds: float) -> str | None:
    """Wait up to ``seconds`` for news of ``who``'s runs (``RunEngine.version_for``: not everyone's) past
    ``version``; who is waiting if the wait gave way to the person (see ``who_waits``), else ``None``. A full
    rerun or a stop ends the run here."""
    engine = connection.get_engine()
    deadline = time.monotonic() + seconds
    while engine.version_for(who) == version and time.monotonic() < deadline:
        ctx.yield_check()
        waiting = who_waits(ctx)
        if waiting is not None:
            return waiting
        engine.wait_for_change(version, _GIVE_WAY_SECONDS, who)
    return None


def who_waits(ctx: Any) -> str | None:
    """``"here"`` when the person asked for a rerun of the part running now (typing in it, a click in
    it), ``"elsewhere"`` for anything else (another part, the whole page, a stop), ``None`` when only
    this part's own timer (or nobody) waits."""
    queued = _queued_rerun(ctx)
    if queued is None:
        return None
    running = set(ctx.fragment_ids_this_run or ())
    fragments, timer = queued
    if fragments is None or not fragments or any(f not in running and not _encloses(ctx, f, running)
                                                 for f in fragments):
        return "elsewhere"
    # a rerun of this very part that its timer did not send: the person typed or clicked in it
    return None if timer else "here"


def _encloses(ctx: Any, fragment: str, running: set[str]) -> bool:
    """Whether ``fragment`` is a part around one running now (a form around its button's part): its rerun draws
    the running part again. Streamlit keeps this in its fragment storage (``has_ancestor_in``, as of 1.67);
    tests/app/test_live_parts.py pins it."""
    try:
        return any(ctx.fragment_storage.has_ancestor_in(part, {fragment}) for part in running)
    except AttributeError:
        return False


def _queued_rerun(ctx: Any) -> tuple[list[str] | None, bool] | None:
    """What the session has queued behind the running script: ``None`` for nothing; else the fragments a
    queued rerun is for (``None``: a full rerun or a stop) and whether their own timer sent it.

    Streamlit keeps this private (``ScriptRequests._state`` and ``._rerun_data``, as of 1.67); this is the
    only place that reads it. tests/app/test_live_parts.py fails when a Streamlit upgrade changes it; until
    then a change found here never holds anyone up (it reads as a full rerun waiting)."""
    requests = ctx.script_requests
    if requests is None:
        return None
    try:
        waiting = requests._state.name
        queued = list(requests._rerun_data.fragment_id_queue)
        timer = bool(requests._rerun_data.is_auto_rerun)
    except AttributeError:
        return None, False
    if waiting == "CONTINUE":
        return None
    if waiting != "RERUN":
        return None, False
    return queued, timer


def watch_sent(sent: list[int], slot: Any, show: Callable[[list[Any]], None],
               ended: Callable[[list[int]], None]) -> None:
    """The end of a form's own rerun (a fragment) that sent runs: show them (``show(jobs)``, newest first, in
    ``slot``) as they change, and once all have ended ``ended(run_ids)`` (newest first): their finished cards,
    drawn there by the form itself, without a redraw of the page (which cost the browser more than the run did).

    The person is never held up: a full rerun ends this run at once, a rerun of the form (typing, Cancel,
    another click) ends the watch and the form's next run takes it up again, and a rerun of any other part
    redraws the whole page, where the results' live part takes over. Past KEPT_BY_THE_FORM runs the page is
    redrawn in full once they end: each of the form's reruns draws the runs it keeps."""
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not ctx.fragment_ids_this_run:
        slot.empty()  # a full run: the place is kept for the form's own reruns to fill
        return
    if not sent:
        return
    engine = connection.get_engine()
    who = people.subject()
    pictures_shown = False
    for drawn in itertools.count():
        version = engine.version_for(who)
        jobs = [job for job in (engine.job(run_id) for run_id in sent) if job is not None]
        done = not any(job.active for job in jobs)
        # runs seen ending by this watch: their pictures first, alone, and then their cards with the actions
        if done and (not drawn or pictures_shown):
            if len(sent) > KEPT_BY_THE_FORM:
                st.rerun()  # the results column, drawn in full, takes them into its list
            with slot.container():
                ended(list(reversed(sent)))
            return
        show(list(reversed(jobs)))
        pictures_shown = done
        waiting = _wait_for_change(ctx, who, version, PICTURES_FIRST if done else LONG_POLL_SECONDS)
        if waiting == "here":
            return  # the form's next run watches again
        if waiting == "elsewhere":
            st.rerun()
