"""How a page shows its runs: a card while a run goes and once it is saved, newest first in the page's results
column (live while one runs, through ``live.live_part``), and the one way a running job's picture is drawn
(``show_progress_picture``: the saved copy, else the latest preview)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from components import connection, keep_exact, people, results, sidebar, state, untrusted
from components.runs.live import POLL_SECONDS, SHOWN_BEFORE_REDRAW, fragment_rerun, live_part, watch_sent
from components.runs.submit import cancel, cancel_all
from imagelab.client import RequestFailed
from imagelab.costs import format_dollars, money_of, money_text
from imagelab.runs.engine import JobState
from imagelab.runs.status import STATUS_WORDS
from imagelab.store import ImageRecord, RunRecord, StorageError
from imagelab.text import shorten

# The newest runs beside a form (the first two fill a laptop's screen); older ones are a click away, and all are in
# the Gallery. Eight cost a cold view four more pictures and the browser ~55 ms more at the end of every run.
RUNS_PER_PAGE = 4

_VERBS = {"generate": "Generating", "reference_edit": "Making", "mask_edit": "Editing", "sweep": "Generating",
          "conversation": "Answering", "extend": "Extending"}


def show_progress_picture(job: JobState, index: int | None = None, *, saved_too: bool = True,
                          alt: str | None = None) -> bool:
    """A running job's picture ``index`` (``None``: its first saved one, else its newest preview): the saved
    copy (unless ``saved_too`` is off), else the latest preview. Whether there was one to draw."""
    saved = {rec.index: rec for rec in list(job.images)} if saved_too else {}
    previews = dict(job.previews)
    if index is None:
        index = min(saved) if saved else (max(previews) if previews else None)
    if index is None:
        return False
    if index in saved:
        data = results.preview(saved[index].hash, saved[index].format)
        if data is not None:
            st.image(data, caption="Saved", width="stretch", alt=alt)
            return True
    if index in previews:
        number, picture = previews[index]
        st.image(picture, caption=f"Preview {number + 1}", width="stretch", alt=alt)
        return True
    return False


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
        head, button = st.columns([3, 1], vertical_alignment="center")
        head.markdown(_job_line(job))
        if job.active:
            button.button("Cancel", key=f"btn_{key}_cancel_{job.run_id}", on_click=cancel, args=(job.run_id,),
                          icon=":material/stop_circle:", help="Stop this run; images already saved are kept.")
        _job_pictures(job)


def _job_line(job: JobState) -> str:
    verb = _VERBS.get(job.page, "Running")
    return (f"**{verb} {job.requested} image(s) with** {untrusted.theirs(job.model)} · {STATUS_WORDS[job.status]} · "
            f"{job.elapsed:.0f} s")


def _job_pictures(job: JobState) -> None:
    """A running job's prompt, then each image as saved, its latest preview or a wait; its errors."""
    untrusted.show_text(shorten(job.prompt, 200), quiet=True)
    alt = results.picture_alt(job.prompt)
    cols = st.columns(min(job.requested, 2))
    for i in range(job.requested):
        with cols[i % len(cols)]:
            _job_picture(job, i, alt)
    _job_errors(list(job.errors))


def _job_picture(job: JobState, index: int, alt: str) -> None:
    """A running job's image ``index``: as saved, its latest preview, or a wait."""
    if not show_progress_picture(job, index, alt=alt) and index not in {rec.index for rec in job.images}:
        st.caption(f"Image {index + 1}: waiting…")


def _job_errors(errors: list[Any]) -> None:
    for err in errors:
        results.show_error(err)


def run_error(run: RunRecord) -> RequestFailed:
    """A finished run's error as the history keeps it: the sentence, and what the server said beneath it."""
    return RequestFailed(run.error or "", api_message=run.api_message, status=run.api_status, code=run.api_code,
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
        if len(shown) == 1:  # one picture fills the card as a grid of one would, without the grid's two blocks
            keep_exact.show_result(*shown[0], key=f"{key}.{run.id}")
        elif shown:
            cols = st.columns(min(columns, len(shown)))
            for i, (rec, raw) in enumerate(shown):
                with cols[i % len(cols)]:
                    keep_exact.show_result(rec, raw, key=f"{key}.{run.id}")


# --- a page's results column ----------------------------------------------------------------------------

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
    since = time.time()

    def finished() -> list[JobState]:
        return people.own_jobs(engine.finished_since(since, page=page))

    def running() -> list[JobState]:
        return people.own_jobs(engine.active(page=page))

    def active() -> bool:
        # runs going, or just ended: their pictures stay in the live part a moment before the full redraw
        return bool(running()) or any(time.time() - (j.finished_at or 0) <= SHOWN_BEFORE_REDRAW for j in finished())

    def wait() -> float | None:
        # nothing left running: only wait out the moment the last pictures stay here before the full redraw
        if running():
            return None
        return max(0.0, SHOWN_BEFORE_REDRAW - (time.time() - max((j.finished_at or 0 for j in finished()), default=0)))

    def draw() -> None:
        jobs = running()
        done = finished()  # runs that ended since the page was drawn in full (none in a full run)
        for job in reversed(done + jobs):
            show_job(job, key=key)
        # what the finished runs below leave out: a run's row may say it has ended while it is drawn here
        st.session_state[state.item(state.LIVE_DRAWN, page)] = {job.run_id for job in done + jobs}

    polling = bool(running())
    # From here the live part shows every running job; the form's own watch stands down.
    st.session_state[state.item(state.LIVE_POLLING, page)] = polling
    st.session_state[state.item(state.LIVE_WATCH, page)] = []
    live_part(f"runs_{page}", draw, active, wait=wait)
    drawn_live = st.session_state.get(state.item(state.LIVE_DRAWN, page)) or set()
    shown = st.session_state.get(shown_key, RUNS_PER_PAGE)
    jobs = running()
    runs = [r for r in store.runs(shown + len(drawn_live) + len(jobs), page=page, owner=people.subject())
            if r.id not in drawn_live and not (r.active and engine.job(r.id) is not None)][:shown]
    for run in runs:
        show_record(run, store.images_of_run(run.id), key=key, columns=columns)
    total = store.count_runs(page=page, owner=people.subject())
    hidden = total - len(runs) - len(jobs)
    if hidden > 0:
        st.caption(f"{hidden} older run(s) are hidden here; all of them are in the Gallery.")
        if st.button(f"Show {min(hidden, RUNS_PER_PAGE)} more", key=f"btn_{key}_more", icon=":material/expand_more:"):
            st.session_state[shown_key] = shown + RUNS_PER_PAGE
            st.rerun()
    if not runs and not polling:
        # hidden by RESULTS_CSS once a run's card is drawn above it (a form's own rerun leaves it in place)
        with st.container(key=f"runs_empty_{page}"):
            st.info(empty_text, icon=icon)


def _sent_here(page: str) -> list[int]:
    """The runs ``page``'s form sent since its last full run, which the form itself shows; none while the
    results' live part is polling (it shows every running job)."""
    if st.session_state.get(state.item(state.LIVE_POLLING, page)):
        return []
    return list(st.session_state.get(state.item(state.LIVE_WATCH, page)) or [])


# The browser's own card for a click on the page's primary button, drawn the moment the button is pressed (a
# click, or Ctrl+Enter) with the prompt being sent, and taken away as the server starts on the click (KEEP: when a
# card of a new run arrives from the server, or the server has answered without one, a refusal said beside the
# button): the server's card comes after the form (or the page) has been drawn again, a few hundred milliseconds
# after the click.
_SENDING = """<div class="il-sending" role="status"></div><script>(() => {
  const installed = window.__ilSending = window.__ilSending || {};  // once per button, whatever page drew it
  if (installed['BUTTON']) return;
  installed['BUTTON'] = true;
  const cards = () => new Set([...document.querySelectorAll('[class*="st-key-run_"]')]
    .map(card => (card.className.match(/st-key-run_\\d+/) || [''])[0]));
  const show = () => {
    const box = document.querySelector('.il-sending');
    const button = document.querySelector('.st-key-BUTTON button');
    const prompt = ((document.querySelector('.st-key-PROMPT textarea') || {}).value || '').trim();
    if (!box || !button || button.disabled || !prompt) return;
    const before = cards();
    // made of elements, not a string of tags: the page's sanitiser drops a script that holds one
    const card = document.createElement('div'), head = document.createElement('p'),
          said = document.createElement('strong'), words = document.createElement('p');
    card.className = 'il-sending-card';
    said.textContent = 'Sending…';
    words.textContent = prompt.length > 200 ? prompt.slice(0, 199) + '…' : prompt;
    head.append(said);
    card.append(head, words);
    box.replaceChildren(card);
    box.dataset.at = Date.now();
    let running = false;
    const watch = new MutationObserver(() => {
      const state = (document.querySelector('[data-testid="stApp"]') || document.body).getAttribute(
        'data-test-script-state');
      running = running || state === 'running';
      if ([...cards()].some(card => !before.has(card)) || (running && (state === 'notRunning' || !KEEP))) done();
    });
    const done = () => { watch.disconnect(); box.replaceChildren(); };
    watch.observe(document.body, {subtree: true, childList: true, attributes: true,
                                  attributeFilter: ['data-test-script-state', 'class']});
    setTimeout(done, 20000);
  };
  document.addEventListener('click', event => {
    if (event.target.closest && event.target.closest('.st-key-BUTTON button')) show();
  }, true);
  document.addEventListener('keydown', event => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) show();
  }, true);
})();</script>"""


def sending_html(button_key: str, prompt_key: str, *, until_card: bool = False) -> str:
    """The place and script of the card drawn at a click on ``button_key`` (see ``sending_place``)."""
    return (_SENDING.replace("BUTTON", button_key).replace("PROMPT", prompt_key)
            .replace("KEEP", "true" if until_card else "false"))


def sending_place(button_key: str, prompt_key: str, *, until_card: bool = False) -> None:
    """At the top of a results column: the card the browser draws itself the moment the button ``button_key`` is
    pressed, with the prompt of ``prompt_key`` (see ``_SENDING``); nothing while no click waits for the server.

    It goes as the server starts on the click, before the page moves its new card into view (else the page moved
    it, then lost the sending card's height above it); ``until_card``: only once the run's card has come, for a
    form that draws it in its own place without moving the page (Generate's)."""
    st.html(sending_html(button_key, prompt_key, until_card=until_card), unsafe_allow_javascript=True)


class _SentCard:
    """A run a form's rerun follows, drawn once and then changed in place: its status line, each picture's
    spot, its errors. A redraw of the whole card at each change rebuilt it in the browser, picture and all."""

    def __init__(self, job: JobState) -> None:
        with st.container(border=True, key=f"run_{job.run_id}_sent"):
            self._line = st.empty()
            untrusted.show_text(shorten(job.prompt, 200), quiet=True)
            cols = st.columns(min(job.requested, 2))
            self._spots = [cols[i % len(cols)].empty() for i in range(job.requested)]
            self._errors = st.empty()
        self._alt = results.picture_alt(job.prompt)
        self._drawn: dict[Any, Any] = {}  # what each place shows now

    def _put(self, place: Any, what: Any, draw: Callable[[], object]) -> None:
        if self._drawn.get(place) != what:
            draw()
            self._drawn[place] = what

    def update(self, job: JobState) -> None:
        line = _job_line(job)
        self._put("line", line, lambda: self._line.markdown(line))
        saved = {rec.index: rec.hash for rec in list(job.images)}
        previews = {i: number for i, (number, _) in dict(job.previews).items()}
        for i, spot in enumerate(self._spots):
            what = ("saved", saved[i]) if i in saved else ("preview", previews[i]) if i in previews else "waiting"

            def draw(i: int = i, spot: Any = spot) -> None:
                with spot.container():
                    _job_picture(job, i, self._alt)

            self._put(i, what, draw)
        errors = list(job.errors)

        def draw_errors() -> None:
            with self._errors.container():
                _job_errors(errors)

        self._put("errors", len(errors), draw_errors)


class SentCards:
    """Where a form's own reruns show the runs it sent (``slot``, at the top of the results column): each
    card drawn once in a run of the form, then changed in place as its run goes (``show``)."""

    def __init__(self, slot: Any) -> None:
        self.slot = slot
        self._cards: dict[int, _SentCard] = {}

    def show(self, jobs: list[JobState]) -> None:
        """``jobs``, newest first."""
        if list(self._cards) != [job.run_id for job in jobs]:
            with self.slot.container():
                self._cards = {job.run_id: _SentCard(job) for job in jobs}
        for job in jobs:
            self._cards[job.run_id].update(job)


def show_sent(page: str, cards: SentCards) -> None:
    """Right after a form's click sent runs: their cards at once, so the person sees the click was taken
    before the rest of the form is drawn; ``watch_here``, at the form's end, follows them from there."""
    if not fragment_rerun():
        return
    engine = connection.get_engine()
    jobs = [job for job in (engine.job(run_id) for run_id in _sent_here(page)) if job is not None]
    cards.show(list(reversed(jobs)))


def watch_here(page: str, cards: SentCards, *, key: str, columns: int = 2, cancel_place: Any = None,
               after: Callable[[], None] | None = None) -> None:
    """The end of a form's own rerun: show the runs it sent in ``cards``, a place at the top of the results
    column, as they change, and once they have ended their finished cards with their actions
    (``live.watch_sent``); then empty ``cancel_place`` (the form's Cancel, ``watched_cancel``) and call
    ``after``: what else the end of a run changes that the form draws (the sidebar's figures)."""

    def ended(run_ids: list[int]) -> None:
        sidebar.mark_page_seen(page)  # seen here: the tray need not link to them from another page
        store = connection.get_store()
        for record in store.runs(len(run_ids), ids=run_ids):
            show_record(record, store.images_of_run(record.id), key=key, columns=columns)
        if cancel_place is not None:
            cancel_place.empty()
        if after is not None:
            after()

    watch_sent(_sent_here(page) if fragment_rerun() else [], cards.slot, cards.show, ended)


def watched_cancel(page: str, place: Any, *, key: str) -> None:
    """Beside a form's button, while the runs it sent are shown by its own reruns (``watch_here``): a
    Cancel for them, since that place has no room for buttons. Cancelling keeps what was saved."""
    sent = _sent_here(page) if fragment_rerun() else []
    if not sent:  # nothing to cancel, and no engine needed (it cannot start while the history folder is unusable)
        return
    engine = connection.get_engine()
    going = [run_id for run_id in sent if (job := engine.job(run_id)) is not None and job.active]
    if going:
        with place.container():
            st.button("Cancel", key=f"btn_{key}_cancel_sent", icon=":material/stop_circle:", on_click=cancel_all,
                      args=(going,), help="Stop the run(s) just sent; images already saved are kept.")


# --- one run followed on its own ------------------------------------------------------------------------

def _job_going(run_id: int) -> bool:
    job = connection.get_engine().job(run_id)
    return job is not None and job.active


def show_turn_progress(run_id: int) -> None:
    """A conversation turn still running: its previews as they arrive; the page redraws when it ends (drawn
    because the page saw it going: a turn that ends in between is still redrawn ended)."""
    live_part(f"turn_{run_id}", lambda: _draw_turn(run_id), lambda: _job_going(run_id), seen_active=True)


def _draw_turn(run_id: int) -> None:
    job = connection.get_engine().job(run_id)
    if job is None:
        return
    show_progress_picture(job)
    head, button = st.columns([5, 1], vertical_alignment="center")
    head.caption(f":material/hourglass_top: {STATUS_WORDS[job.status].capitalize()} with {job.model} · "
                 f"{job.elapsed:.0f} s")
    if job.active:
        button.button("Cancel", key=f"btn_turn_cancel_{run_id}", on_click=cancel, args=(run_id,),
                      icon=":material/stop_circle:", help="Stop this turn.", width="stretch")


def show_drawing_progress(run_id: int) -> None:
    """While the model draws a mask: a line that updates itself, and a page rerun once it has arrived."""
    live_part(f"drawing_{run_id}", lambda: _draw_drawing(run_id), lambda: _job_going(run_id),
              every=POLL_SECONDS * 5)


def _draw_drawing(run_id: int) -> None:
    job = connection.get_engine().job(run_id)
    if job is not None:
        st.caption(f":material/hourglass_top: The model is drawing the mask… {job.elapsed:.0f} s")
