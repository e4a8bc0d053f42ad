"""A live part of a page (a fragment rerunning while jobs run) waits in the engine for news, and gives
way to anything else the person asks for: these are the requests it must and must not give way to,
queued on Streamlit's own request object the way the browser's messages queue them."""

from types import SimpleNamespace

from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

from components.runs.live import who_waits


def _live_part_running(*queued: RerunData) -> SimpleNamespace:
    requests = ScriptRequests()
    requests.request_rerun(RerunData(fragment_id="live", is_auto_rerun=True))
    requests.on_scriptrunner_ready()  # the run of the live part has started
    for data in queued:
        requests.request_rerun(data)
    return SimpleNamespace(script_requests=requests, fragment_ids_this_run=["live"])


def test_nothing_queued_lets_the_part_wait() -> None:
    assert who_waits(_live_part_running()) is None


def test_the_parts_own_timer_does_not_end_the_wait() -> None:
    assert who_waits(_live_part_running(RerunData(fragment_id="live", is_auto_rerun=True))) is None


def test_a_click_inside_the_part_itself_ends_the_wait() -> None:
    assert who_waits(_live_part_running(RerunData(fragment_id="live"))) == "here"


def test_typing_in_another_part_ends_the_wait() -> None:
    assert who_waits(_live_part_running(RerunData(fragment_id="form"))) == "elsewhere"


def _button_part_running(*queued: RerunData) -> SimpleNamespace:
    """The button's own part of a form (a fragment nested in the form's) running on its own, watching a run."""
    from streamlit.runtime.fragment import MemoryFragmentStorage

    ctx = _live_part_running(*queued)
    storage = MemoryFragmentStorage()
    storage.register("form", lambda: None, parent_fragment_id=None)
    storage.register("live", lambda: None, parent_fragment_id="form")
    return SimpleNamespace(**vars(ctx), fragment_storage=storage)


def test_typing_in_the_form_around_the_part_ends_the_wait_as_its_own() -> None:
    """The form's rerun draws the button's part again, which takes up the watch: no redraw of the page."""
    assert who_waits(_button_part_running(RerunData(fragment_id="form"))) == "here"
    assert who_waits(_button_part_running(RerunData(fragment_id="other"))) == "elsewhere"
    assert who_waits(_button_part_running(RerunData(fragment_id="live", is_auto_rerun=True))) is None


def test_a_full_rerun_behind_the_parts_own_timer_ends_the_wait() -> None:
    ctx = _live_part_running(RerunData(fragment_id="live", is_auto_rerun=True), RerunData(query_string="x"))
    assert who_waits(ctx) == "elsewhere"


def test_a_stop_ends_the_wait() -> None:
    ctx = _live_part_running()
    ctx.script_requests.request_stop()
    assert who_waits(ctx) == "elsewhere"


def test_streamlit_still_keeps_its_queue_where_live_parts_read_it() -> None:
    """Streamlit has no public way to see what waits behind a running script; ``_queued_rerun`` reads its
    insides. An upgrade that moves them fails here (the live parts would otherwise give way to nothing)."""
    from components.runs.live import _queued_rerun

    assert _queued_rerun(_live_part_running()) is None
    assert _queued_rerun(_live_part_running(RerunData(fragment_id="live", is_auto_rerun=True))) == (["live"], True)
    assert _queued_rerun(_live_part_running(RerunData(fragment_id="form"))) == (["form"], False)


def _timer_of_a_part_over_an_ended_run(monkeypatch, seen_active: bool) -> float | None:
    """The timer (seconds between ticks, or None) a live part asks Streamlit for when its run has ended by
    the time it is drawn."""
    import streamlit as st

    from components.runs.live import live_part

    asked: list[float | None] = []

    def fragment(part, *, run_every=None):
        asked.append(run_every)
        return lambda: None

    monkeypatch.setattr(st, "fragment", fragment)
    live_part("turn", lambda: None, lambda: False, seen_active=seen_active)
    return asked[0]


def test_a_part_the_page_saw_going_ticks_even_if_its_run_has_just_ended(monkeypatch) -> None:
    """A conversation turn drawn as going whose run ended a moment later must still tick (its tick redraws the
    page with the turn ended; without it the turn stayed drawn as going); a part never seen going does not."""
    assert _timer_of_a_part_over_an_ended_run(monkeypatch, seen_active=True) is not None
    assert _timer_of_a_part_over_an_ended_run(monkeypatch, seen_active=False) is None
