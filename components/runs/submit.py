"""Sending a spec from a page: a click *submits* it to the run engine and returns at once; the engine's workers
send it whatever the person does next (types, clicks, changes page, closes the tab). Also the model-drawn mask:
a paid request like any other, turned into a mask once it has arrived."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components import connection, people, sidebar, spending, state, untrusted
from imagelab.costs import Estimate, estimate
from imagelab.drift import KeepExact
from imagelab.runs.engine import EventCall, JobState
from imagelab.runs.kinds import Job, PostStep, Spec
from imagelab.store import StorageError


def submit(spec: Spec, problems: list[Any], kind: str, *, page: str, est: Estimate | None, live: Any,
           parents: list[str] | None = None, group: str | None = None, label: str | None = None,
           on_queued: Callable[[int], None] | None = None,
           on_finish: Callable[[JobState], None] | None = None,
           postprocess: KeepExact | None = None, call: EventCall | None = None) -> int | None:
    """The primary button's action: refuse with sentences, or hand the spec to the run engine as a job of
    ``kind`` (``imagelab.runs.kinds``; ``call`` sends it another way, in this process).

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


def cancel_all(run_ids: list[int]) -> None:
    for run_id in run_ids:
        cancel(run_id)


def ask_for_mask(image: Any, subject: str, model: str, *, live: Any) -> int | None:
    """Ask the model to draw ``subject`` in white on black; returns the run id of that drawing.

    The drawing is a paid request, so it runs on the engine and is saved like any other result;
    ``mask_from_drawing`` turns it into a mask once it has arrived.
    """
    from imagelab.masks import mask_request
    from imagelab.specs import EditSpec

    spec = EditSpec(prompt=mask_request(subject), model=model, images=(image,), quality="low", output_format="png")
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
