"""``BatchRepository``: the ``batches``, ``budget_limits`` and ``settings`` tables.

A Batch API job is one row per batch (its cells are runs of a group, ``run_ids``): the batch's
id at the API once created, its status and counts as last polled, its usage and cost once collected
(``finished_at`` set). Spending limits are one row per scope (session, day, month); settings are
name → text.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, select

from .database import upsert
from .records import loads
from .repository import Repository
from .schema import batches, budget_limits, person_limits, settings

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


def _batch_record(row: RowMapping) -> BatchRecord:
    return BatchRecord(row["id"], row["group_id"], row["endpoint"], row["backend"], row["batch_id"], row["status"],
                       row["total"], row["completed"], row["failed"], json.loads(row["run_ids"]), loads(row["usage"]),
                       row["dollars"], row["error"], bool(row["cancel_requested"]), row["created_at"],
                       row["finished_at"])


class BatchRepository(Repository):
    def add_batch(self, group_id: str, endpoint: str, backend: str | None, run_ids: list[int]) -> int:
        with self._write() as db:
            return int(db.execute(batches.insert().values(
                group_id=group_id, endpoint=endpoint, backend=backend, status="preparing", total=len(run_ids),
                run_ids=json.dumps(run_ids), created_at=time.time()).returning(batches.c.id)).scalar_one())

    _BATCH_FIELDS = frozenset({"batch_id", "status", "total", "completed", "failed", "usage", "dollars", "error",
                               "cancel_requested", "finished_at"})

    def update_batch(self, row_id: int, **fields: Any) -> None:
        unknown = set(fields) - self._BATCH_FIELDS
        if unknown:
            raise ValueError(f"not a batch field: {sorted(unknown)}")
        if "usage" in fields:
            fields["usage"] = json.dumps(fields["usage"]) if fields["usage"] else None
        if "cancel_requested" in fields:
            fields["cancel_requested"] = int(fields["cancel_requested"])
        with self._write() as db:
            db.execute(batches.update().where(batches.c.id == row_id).values(fields))

    def batch(self, row_id: int) -> BatchRecord:
        with self._read() as db:
            row = db.execute(select(batches).where(batches.c.id == row_id)).mappings().first()
        if row is None:
            raise KeyError(row_id)
        return _batch_record(row)

    def batches(self, *, group_id: str | None = None, active: bool = False) -> list[BatchRecord]:
        """Batch jobs, oldest first: one group's, or those not yet collected."""
        where: list[ColumnElement[bool]] = []
        if group_id is not None:
            where.append(batches.c.group_id == group_id)
        if active:
            where.append(batches.c.finished_at.is_(None))
        with self._read() as db:
            return [_batch_record(r) for r in db.execute(select(batches).where(*where).order_by(batches.c.id))
                    .mappings()]

    # --- settings and spending limits ---------------------------------------------------------

    def limits(self) -> dict[str, float]:
        """The spending limits set, by scope (session, day, month), in dollars."""
        with self._read() as db:
            return {scope: float(dollars) for scope, dollars in db.execute(select(budget_limits))}

    def set_limit(self, scope: str, dollars: float | None) -> None:
        """Set a spending limit; None (or 0) removes it."""
        with self._write() as db:
            if not dollars:
                db.execute(budget_limits.delete().where(budget_limits.c.scope == scope))
            else:
                upsert(db, budget_limits, {"scope": scope, "dollars": float(dollars)}, key="scope")

    def person_limits(self, owner: str | None = None) -> dict[tuple[str, str], float]:
        """People's own spending limits, by (subject, scope); ``owner``: only that person's."""
        query = select(person_limits)
        if owner is not None:
            query = query.where(person_limits.c.owner == owner)
        with self._read() as db:
            return {(str(o), str(s)): float(d) for o, s, d in db.execute(query)}

    def set_person_limit(self, owner: str, scope: str, dollars: float | None) -> None:
        """Set a person's own limit for a scope (day, month); None (or 0) removes it."""
        with self._write() as db:
            db.execute(person_limits.delete().where(person_limits.c.owner == owner, person_limits.c.scope == scope))
            if dollars:
                db.execute(person_limits.insert().values(owner=owner, scope=scope, dollars=float(dollars)))

    def setting(self, name: str, default: str | None = None) -> str | None:
        with self._read() as db:
            value = db.execute(select(settings.c.value).where(settings.c.name == name)).scalar()
        return str(value) if value is not None else default

    def set_setting(self, name: str, value: str) -> None:
        with self._write() as db:
            upsert(db, settings, {"name": name, "value": value}, key="name")
