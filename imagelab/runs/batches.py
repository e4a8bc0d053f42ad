"""Sweeps through the Batch API: half the price, nothing held open while the API works.

``RunEngine.submit_batch`` records one run per cell (``queued``, priced at the batch rate) and a
batch row per endpoint, then ``follow`` — on a thread of the engine — writes the cells as JSONL
lines, uploads them, creates the batch, records its id (so a restarted app picks it up again),
polls its progress into the store, sends the cancel when asked, and when the batch has ended saves
each line's images with its cell's run, with the line's usage and cost at the batch price. A line's
error lands in its cell; cells the batch never reached are ``cancelled`` or ``failed`` and say why.

Batch statuses as a person reads them are in ``BATCH_WORDS``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from imagelab.client import Connection, SDKClient, make_client, translate_error
from imagelab.client.batch import (
    TERMINAL,
    BatchProgress,
    batch_progress,
    batch_results,
    cancel_batch,
    request_line,
    start_batch,
)
from imagelab.costs import actual, batch_price
from imagelab.store import BatchRecord, StorageError, Store

from .status import run_status

__all__ = ["BATCH_WORDS", "follow", "follow_step", "COMPLETION_WINDOW_WORDS"]

log = logging.getLogger(__name__)

BATCH_WORDS = {"preparing": "uploading the requests", "validating": "validating", "in_progress": "in progress",
               "finalizing": "finalising", "completed": "completed", "failed": "failed", "expired": "expired",
               "cancelling": "cancelling", "cancelled": "cancelled"}
COMPLETION_WINDOW_WORDS = "within 24 hours"
# Consecutive failed polls after which the follower stops for now (the batch is picked up at the next start).
_MAX_POLL_FAILURES = 5

_UNREACHED = {
    "cancelled": ("cancelled", "The batch was cancelled before this cell was made."),
    "expired": ("failed", "The batch expired (its 24-hour window ran out) before this cell was made."),
    "failed": ("failed", "The batch failed before this cell was made: {errors}"),
    "completed": ("failed", "The batch finished without an answer for this cell."),
}


def _custom_id(run_id: int) -> str:
    return f"run-{run_id}"


def _finish_cells(store: Store, row: BatchRecord, status: str, sentence: str) -> None:
    for run in store.runs(len(row.run_ids), ids=row.run_ids):
        if run.active:
            store.finish_run(run.id, status, error=sentence)


def _collect(store: Store, client: SDKClient, row: BatchRecord, progress: BatchProgress) -> None:
    """Save every line's images and usage with its cell; say why for cells without an answer."""
    runs = {r.id: r for r in store.runs(len(row.run_ids), ids=row.run_ids)}
    formats = {_custom_id(rid): (str(r.params.get("output_format") or "png"), r.model) for rid, r in runs.items()}
    results = {r.custom_id: r for r in batch_results(client, progress, formats)}
    total = 0.0
    for rid in row.run_ids:
        run = runs.get(rid)
        if run is None or not run.active:  # collected before a restart
            total += (run.actual_dollars or 0) if run else 0
            continue
        result = results.get(_custom_id(rid))
        if result is None:
            status, sentence = _UNREACHED.get(progress.status, _UNREACHED["failed"])
            store.finish_run(rid, status, error=sentence.format(errors="; ".join(progress.errors) or "no reason given"))
            continue
        parents = [img["hash"] for img in run.params.get("images") or [] if isinstance(img, dict) and "hash" in img]
        errors = [result.error.sentence] if result.error else []
        saved = 0
        for image in result.images:
            try:
                store.add_image(rid, image.image_index, image.data, image.output_format, image.width, image.height,
                                image.revised_prompt, parents)
                saved += 1
            except StorageError as exc:
                errors.append(f"This image could not be saved. {exc.sentence}")
        dollars = batch_price(actual(result.usage, run.model).dollars)[0] if result.usage else None
        total += dollars or 0
        requested = run.requested or 1
        if saved and saved < requested and not errors:
            errors.append(f"{saved} of {requested} images came back from the batch.")
        store.finish_run(rid, run_status(requested, saved), usage=result.usage, actual_dollars=dollars,
                         request_id=result.request_id, error="; ".join(errors) or None)
    store.update_batch(row.id, status=progress.status, total=progress.total, completed=progress.completed,
                       failed=progress.failed, usage=progress.usage, dollars=total, finished_at=time.time())


def follow(store: Store, row_id: int, connection: Connection, *, specs: dict[int, Any] | None,
           stop: threading.Event, poll: float, changed: Callable[[], None]) -> None:
    """Send (when ``specs`` are given and the batch is not created yet), follow and collect one batch.

    Returns early when ``stop`` is set: the batch goes on at the API and is followed again next start.
    """
    row = store.batch(row_id)
    with make_client(connection) as client:
        if row.batch_id is None and not _send(store, client, row, connection, specs, changed):
            return
        _follow_sent(store, client, store.batch(row_id), connection, stop, poll, changed)


def _send(store: Store, client: SDKClient, row: BatchRecord, connection: Connection, specs: dict[int, Any] | None,
          changed: Callable[[], None]) -> bool:
    """Create the batch at the API and record its id; False when nothing was sent (every cell says why)."""
    try:
        if row.cancel_requested:
            _finish_cells(store, row, "cancelled", "Cancelled before the batch was sent; nothing was paid.")
            store.update_batch(row.id, status="cancelled", finished_at=time.time())
            return False
        if specs is None:
            _finish_cells(store, row, "interrupted", "ImageLab stopped before this batch was sent; "
                                                     "nothing was sent for this cell.")
            store.update_batch(row.id, status="failed", error="never sent", finished_at=time.time())
            return False
        lines = [request_line(_custom_id(rid), specs[rid]) for rid in row.run_ids]
        progress = start_batch(client, lines, row.endpoint)
        store.update_batch(row.id, batch_id=progress.batch_id, status=progress.status)
        changed()
        return True
    except Exception as exc:  # noqa: BLE001 - nothing was sent: every cell says why
        err = translate_error(exc, base_url=connection.base_url, secrets=(connection.api_key,))
        _finish_cells(store, row, "failed", f"The batch could not be sent: {err.sentence}")
        store.update_batch(row.id, status="failed", error=err.sentence, finished_at=time.time())
        changed()
        return False


def _follow_sent(store: Store, client: SDKClient, row: BatchRecord, connection: Connection,
                 stop: threading.Event, poll: float, changed: Callable[[], None]) -> None:
    failures = 0
    while True:
        left = _look(store, client, store.batch(row.id), connection, failures, changed)
        if left is None:
            return
        failures = left
        if stop.wait(poll):
            return


def _look(store: Store, client: SDKClient, row: BatchRecord, connection: Connection, failures: int,
          changed: Callable[[], None]) -> int | None:
    """Ask a sent batch's progress once (sending the cancel when asked) and collect it once it has ended.
    Returns None when nothing is left to follow, else how many looks in a row have failed."""
    batch_id = str(row.batch_id)
    try:
        if row.cancel_requested and row.status not in ("cancelling", "cancelled"):
            progress = cancel_batch(client, batch_id)
        else:
            progress = batch_progress(client, batch_id)
        store.update_batch(row.id, status=progress.status, total=progress.total, completed=progress.completed,
                           failed=progress.failed)
        changed()
        if progress.status in TERMINAL:
            _collect(store, client, row, progress)
            changed()
            return None
        return 0
    except Exception as exc:  # noqa: BLE001 - a failed poll is tried again; the batch goes on at the API
        err = translate_error(exc, base_url=connection.base_url, secrets=(connection.api_key,))
        if err.status != 404:
            log.warning("following batch %s: %s", batch_id, err.sentence)
            if failures + 1 >= _MAX_POLL_FAILURES:
                store.update_batch(row.id, error=err.sentence)
                changed()
                return None
            return failures + 1
        sentence = ("The backend no longer knows this batch (the offline backend forgets its batches when "
                    f"ImageLab restarts). {err.sentence}")
        _finish_cells(store, row, "failed", sentence)
        store.update_batch(row.id, status="failed", error=sentence, finished_at=time.time())
        changed()
        return None


def follow_step(store: Store, row_id: int, connection: Connection, *, specs: dict[int, Any] | None,
                failures: int = 0, changed: Callable[[], None] = lambda: None) -> int | None:
    """One step of following a batch, for a queue worker that comes back later: send it (when not yet sent),
    else look at it once and collect it once it has ended. Returns None when nothing is left to follow, else how
    many looks in a row have failed (the next step's ``failures``)."""
    row = store.batch(row_id)
    if not row.active:
        return None
    with make_client(connection) as client:
        if row.batch_id is None:
            return 0 if _send(store, client, row, connection, specs, changed) else None
        return _look(store, client, row, connection, failures, changed)
