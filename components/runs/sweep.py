"""A sweep's runs on the Sweep page: a grid by axis values, live while any of them runs (or its batch has
not yet been collected)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from components import connection, results, state, untrusted
from components.runs.cards import run_error, show_progress_picture
from components.runs.live import POLL_SECONDS, live_part
from imagelab.costs import format_dollars, money_of, money_text, total_money
from imagelab.runs.status import STATUS_WORDS
from imagelab.runs.sweeps import sweep_grid
from imagelab.store import RunRecord


def show_sweep(group: str) -> None:
    """A sweep's runs as a grid by axis values, live while any of them runs (or its batch is not yet collected)."""
    live_part(f"sweep_{group}", lambda: _draw_sweep(group), lambda: _sweep_active(group), every=POLL_SECONDS * 3)


def _sweep_active(group: str) -> bool:
    return bool(connection.get_engine().active(group=group)) or any(
        r.active for r in connection.get_store().batches(group_id=group))


def _draw_sweep(group: str) -> None:
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
                  on_click=cancel_group, args=(group,), help="Runs already finished, and their images, are kept.")
    show_sweep_grid(group, runs)


def _draw_batch_progress(group: str) -> bool:
    """A sweep sent through the Batch API: each batch's status, n of N done, and Cancel. Whether one is active."""
    from imagelab.runs.batches import BATCH_WORDS

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
                          on_click=cancel_group, args=(group,),
                          help="Lines already done are kept and saved to their cells.")
        if row.error and row.active:
            untrusted.say(row.error, kind="warning", icon=":material/sync_problem:")
    return any(r.active for r in rows)


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
            show_progress_picture(job, saved_too=False)
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


def cancel_group(group: str) -> None:
    engine = connection.get_engine()
    for job in engine.active(group=group):
        engine.cancel(job.run_id)
    engine.cancel_batch(group)
