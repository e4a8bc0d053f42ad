"""``BatchRepository``: the ``batches``, ``budget_limits`` and ``settings`` tables.

A Batch API job is one row per batch (its cells are runs of a group, ``run_ids``): the batch's
id at the API once created, its status and counts as last polled, its usage and cost once collected
(``finished_at`` set). Spending limits are one row per scope (session, day, month); settings are
name → text.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from .database import new_id
from .records import loads
from .repository import Repository

__all__ = ["BatchRecord", "BatchRepository"]


@dataclass(frozen=True)
class BatchRecord:
    """A Batch API job: the batch at the API (``batch_id`` once created), its progress, and its cells' runs."""

    id: int
    group_id: str
    endpoint: str
    backend: str | None
    batch_id: str | None
    status: str            # preparing, then the API's: validating, in_progress, finalizing, completed, …
    total: int
    completed: int
    failed: int
    run_ids: list[int]
    usage: dict[str, Any] | None
    dollars: float | None
    error: str | None
    cancel_requested: bool
    created_at: float
    finished_at: float | None

    @property
    def active(self) -> bool:
        return self.finished_at is None


def _batch_record(row: sqlite3.Row) -> BatchRecord:
    return BatchRecord(row["id"], row["group_id"], row["endpoint"], row["backend"], row["batch_id"], row["status"],
                       row["total"], row["completed"], row["failed"], json.loads(row["run_ids"]), loads(row["usage"]),
                       row["dollars"], row["error"], bool(row["cancel_requested"]), row["created_at"],
                       row["finished_at"])


class BatchRepository(Repository):
    def add_batch(self, group_id: str, endpoint: str, backend: str | None, run_ids: list[int]) -> int:
        with self._db() as db:
            cur = db.execute("INSERT INTO batches(group_id, endpoint, backend, status, total, run_ids, created_at)"
                             " VALUES (?,?,?,?,?,?,?)", (group_id, endpoint, backend, "preparing", len(run_ids),
                                                         json.dumps(run_ids), time.time()))
            return new_id(cur)

    _BATCH_FIELDS = frozenset({"batch_id", "status", "total", "completed", "failed", "usage", "dollars", "error",
                               "cancel_requested", "finished_at"})

    def update_batch(self, row_id: int, **fields: Any) -> None:
        unknown = set(fields) - self._BATCH_FIELDS
        if unknown:
            raise ValueError(f"not a batch field: {sorted(unknown)}")
        if "usage" in fields:
            fields["usage"] = json.dumps(fields["usage"]) if fields["usage"] else None
        names = list(fields)
        with self._db() as db:
            db.execute(f"UPDATE batches SET {', '.join(f'{n}=?' for n in names)} WHERE id=?",
                       [*(fields[n] for n in names), row_id])

    def batch(self, row_id: int) -> BatchRecord:
        with self._db() as db:
            row = db.execute("SELECT * FROM batches WHERE id=?", (row_id,)).fetchone()
        if row is None:
            raise KeyError(row_id)
        return _batch_record(row)

    def batches(self, *, group_id: str | None = None, active: bool = False) -> list[BatchRecord]:
        """Batch jobs, oldest first: one group's, or those not yet collected."""
        where, args = [], []
        if group_id is not None:
            where.append("group_id=?")
            args.append(group_id)
        if active:
            where.append("finished_at IS NULL")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM batches{clause} ORDER BY id", args).fetchall()
        return [_batch_record(r) for r in rows]

    # --- settings and spending limits ---------------------------------------------------------

    def limits(self) -> dict[str, float]:
        """The spending limits set, by scope (session, day, month), in dollars."""
        with self._db() as db:
            return {r["scope"]: float(r["dollars"]) for r in db.execute("SELECT * FROM budget_limits")}

    def set_limit(self, scope: str, dollars: float | None) -> None:
        """Set a spending limit; None (or 0) removes it."""
        with self._db() as db:
            if not dollars:
                db.execute("DELETE FROM budget_limits WHERE scope=?", (scope,))
            else:
                db.execute("INSERT INTO budget_limits(scope, dollars) VALUES (?,?) ON CONFLICT(scope)"
                           " DO UPDATE SET dollars=excluded.dollars", (scope, float(dollars)))

    def setting(self, name: str, default: str | None = None) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, name: str, value: str) -> None:
        with self._db() as db:
            db.execute("INSERT INTO settings(name, value) VALUES (?,?) ON CONFLICT(name)"
                       " DO UPDATE SET value=excluded.value", (name, value))
