"""Running a spec from a page: live previews while it streams, then the saved result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import streamlit as st

from imagelab.client import Failed, PartialImage, make_client
from imagelab.costs import Estimate
from imagelab.runner import RunResult, Saved, execute

from . import connection, results, sidebar

_STATE = {"ok": "complete", "partial": "error", "failed": "error"}


def run_request(spec: Any, call: Callable[[Any, Any], Iterator[Any]], *, page: str, est: Estimate, live: Any,
                parents: list[str] | None = None, verb: str = "Generating") -> RunResult | None:
    """Send ``spec`` with ``call(client, spec)``; show partial images in ``live`` as they arrive.

    Every image is saved before it is shown; the finished run is recorded for the sidebar.
    """
    conn = connection.current_connection()
    client = connection.client_for(conn)
    store = connection.get_store()
    result: RunResult | None = None
    with live.container():
        with st.status(f"{verb} {spec.n} image(s) with {spec.model}…", expanded=True) as status:
            cols = st.columns(min(spec.n, 2))
            slots = [cols[i % len(cols)].empty() for i in range(spec.n)]
            for ev in execute(lambda: call(client, spec), spec, store, page=page, backend=conn.label,
                              parents=parents, est=est):
                if isinstance(ev, PartialImage) and ev.image_index < len(slots):
                    slots[ev.image_index].image(ev.data, caption=f"Preview {ev.partial_index + 1}", width="stretch")
                elif isinstance(ev, Saved) and ev.record.index < len(slots):
                    slots[ev.record.index].image(results.preview(ev.record.hash, ev.record.format),
                                                 caption="Saved", width="stretch")
                elif isinstance(ev, Failed):
                    st.caption(ev.error.sentence)
                elif isinstance(ev, RunResult):
                    result = ev
            if result is not None:
                status.update(label=f"Run {result.status}: {len(result.images)} of {spec.n} image(s) saved",
                              state=_STATE[result.status], expanded=False)
    if result is not None:
        sidebar.record_run(result)
    live.empty()
    return result


def check_and_run(spec: Any, problems: list[Any], call: Callable[[Any, Any], Iterator[Any]], *, page: str,
                  est: Estimate, live: Any, results_key: str, parents: list[str] | None = None,
                  verb: str = "Generating") -> RunResult | None:
    """The Generate/Edit button's action: refuse with sentences, or run and keep the result."""
    if problems:
        with live.container():
            for p in problems:
                st.error(p.message, icon=":material/error:")
        return None
    if not sidebar.ready():
        live.error("Finish setting up the connection in the sidebar first.", icon=":material/link_off:")
        return None
    result = run_request(spec, call, page=page, est=est, live=live, parents=parents, verb=verb)
    if result is not None:
        st.session_state.setdefault(results_key, []).insert(0, result)
    return result


MASK_REQUEST = ("Make a black and white mask of {subject} in this picture: {subject} pure white, everything else "
                "pure black, same framing, no grey, no other detail.")


def ask_for_mask(image: Any, subject: str, model: str, *, live: Any) -> tuple[str, bytes] | None:
    """Ask the model to draw ``subject`` in white on black and turn that into a mask of ``image``'s size.

    The drawing is a paid request, so it is saved in the history like any other result.
    """
    from imagelab.client import edit
    from imagelab.costs import estimate
    from imagelab.masks import MaskError, mask_from_model_drawing
    from imagelab.specs import EditSpec

    spec = EditSpec(prompt=MASK_REQUEST.format(subject=subject.strip()), model=model, images=(image,),
                    quality="low", output_format="png")
    problems = spec.problems()
    if problems:
        live.error(problems[0].message)
        return None
    result = run_request(spec, edit, page="mask_edit", est=estimate(spec), live=live, parents=[image.hash],
                         verb="Drawing a mask:")
    if result is None or not result.images:
        with live.container():
            for err in (result.errors if result else []):
                results.show_error(err)
        return None
    drawing = connection.get_store().read_bytes(result.images[0].hash, result.images[0].format)
    try:
        return image.hash, mask_from_model_drawing(drawing, (image.width, image.height))
    except MaskError as exc:
        live.error(exc.sentence)
        return None
