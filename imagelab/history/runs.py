"""``RunRepository``: the ``runs`` table — one row per request, its status, usage, cost and resume point."""

from __future__ import annotations

import json
import time
from typing import Any

from .database import new_id
from .records import RUN_STATUSES, RunRecord, run_record
from .repository import Repository

__all__ = ["RunRepository"]


def _billed(backend: str | None) -> bool:
    """Whether a run on this backend is paid for: all but the built-in offline backend's (``Offline…``)."""
    return not str(backend or "").startswith("Offline")


class RunRepository(Repository):
    def start_run(self, page: str, model: str, prompt: str, params: dict[str, Any],
                  estimate: dict[str, Any] | None = None, backend: str | None = None, *, status: str = "running",
                  requested: int | None = None, group_id: str | None = None, label: str | None = None,
                  billed: bool | None = None) -> int:
        """A new run row (``queued`` when the engine will send it later); returns its id.

        ``billed`` is False for a run sent to the offline backend: its usage is kept, but nothing was paid.
        Left out, it is judged from ``backend`` (the offline backend's label), as older rows were."""
        billed = _billed(backend) if billed is None else billed
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO runs(page, model, prompt, params, status, estimate, est_dollars, backend, started_at,"
                " requested, group_id, label, billed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (page, model, prompt, json.dumps(params), status, json.dumps(estimate) if estimate else None,
                 (estimate or {}).get("dollars"), backend, time.time(), requested, group_id, label, int(billed)))
            return new_id(cur)

    def start_runs(self, rows: list[dict[str, Any]]) -> list[int]:
        """Many ``start_run``s in one transaction (a sweep's cells); each dict holds ``start_run``'s arguments."""
        now = time.time()
        ids = []
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            for r in rows:
                est = r.get("estimate")
                cur = db.execute(
                    "INSERT INTO runs(page, model, prompt, params, status, estimate, est_dollars, backend, started_at,"
                    " requested, group_id, label, billed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (r["page"], r["model"], r["prompt"], json.dumps(r["params"]), r.get("status", "queued"),
                     json.dumps(est) if est else None, (est or {}).get("dollars"), r.get("backend"), now,
                     r.get("requested"), r.get("group_id"), r.get("label"),
                     int(r.get("billed", _billed(r.get("backend"))))))
                ids.append(new_id(cur))
            db.execute("COMMIT")
        return ids

    def mark_running_many(self, run_ids: list[int]) -> None:
        with self._db() as db:
            marks = ",".join("?" * len(run_ids))
            db.execute(f"UPDATE runs SET status='running' WHERE status='queued' AND id IN ({marks})", run_ids)

    def spending_runs(self, since: float, ids: list[int] | None = None) -> list[RunRecord]:
        """Runs started since ``since`` (or the given ids) that have, or may have, cost something."""
        where = "started_at >= ?" if ids is None else f"id IN ({','.join('?' * len(ids))})"
        args: list[Any] = [since] if ids is None else list(ids)
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM runs WHERE {where} AND (actual_dollars IS NOT NULL"
                              " OR status IN ('queued', 'running'))", args).fetchall()
        return [run_record(r) for r in rows]

    def mark_running(self, run_id: int) -> None:
        with self._db() as db:
            db.execute("UPDATE runs SET status='running' WHERE id=? AND status='queued'", (run_id,))

    def set_resume_point(self, run_id: int, response_id: str, sequence: int | None) -> None:
        """Remember where a background response's event stream was, so it can be resumed after a restart."""
        with self._db() as db:
            db.execute("UPDATE runs SET response_id=?, sequence=? WHERE id=?", (response_id, sequence, run_id))

    def set_reply(self, run_id: int, text: str) -> None:
        """Keep the words a text-only run brought back, before the run is shown as finished."""
        with self._db() as db:
            db.execute("UPDATE runs SET reply=? WHERE id=?", (text, run_id))

    def unfinished_runs(self) -> list[RunRecord]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM runs WHERE status IN ('queued','running') ORDER BY id").fetchall()
        return [run_record(r) for r in rows]

    def finish_run(self, run_id: int, status: str, *, usage: dict[str, Any] | None = None,
                   actual_dollars: float | None = None, request_id: str | None = None, error: str | None = None,
                   keep_usage: bool = False) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self._db() as db:
            if keep_usage:
                db.execute("UPDATE runs SET status=?, error=?, finished_at=? WHERE id=?",
                           (status, error, time.time(), run_id))
                return
            db.execute("UPDATE runs SET status=?, usage=?, actual_dollars=?, request_id=?, error=?, finished_at=?"
                       " WHERE id=?",
                       (status, json.dumps(usage) if usage else None, actual_dollars, request_id, error,
                        time.time(), run_id))

    def run(self, run_id: int) -> RunRecord:
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        return run_record(row)

    def runs(self, limit: int = 50, *, page: str | None = None, group_id: str | None = None,
             ids: list[int] | None = None) -> list[RunRecord]:
        """Runs newest first, optionally only one page's, one group's (a sweep) or the given ids."""
        where: list[str] = []
        args: list[Any] = []
        if page is not None:
            where.append("page=?")
            args.append(page)
        if group_id is not None:
            where.append("group_id=?")
            args.append(group_id)
        if ids is not None:
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args += ids
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._db() as db:
            rows = db.execute(f"SELECT * FROM runs{clause} ORDER BY id DESC LIMIT ?", [*args, limit]).fetchall()
        return [run_record(r) for r in rows]

    def count_runs(self, *, page: str | None = None) -> int:
        with self._db() as db:
            if page is None:
                return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
            return int(db.execute("SELECT COUNT(*) FROM runs WHERE page=?", (page,)).fetchone()[0])

    def used_models_and_pages(self) -> tuple[list[str], list[str]]:
        with self._db() as db:
            models = [r[0] for r in db.execute("SELECT DISTINCT model FROM runs ORDER BY model")]
            pages = [r[0] for r in db.execute("SELECT DISTINCT page FROM runs ORDER BY page")]
        return models, pages

    def spend_by_day_and_model(self) -> list[dict[str, Any]]:
        """Spend per day and model (local time), newest day first: ``dollars`` is what was paid (billed
        runs only); ``would_cost`` what the offline backend's runs would have cost on OpenAI."""
        with self._db() as db:
            rows = db.execute(
                "SELECT date(started_at, 'unixepoch', 'localtime') AS day, model, COUNT(*) AS runs,"
                " COALESCE(SUM(CASE WHEN billed THEN actual_dollars END), 0) AS dollars,"
                " COALESCE(SUM(CASE WHEN billed THEN 0 ELSE actual_dollars END), 0) AS would_cost,"
                " COALESCE(SUM(est_dollars), 0) AS estimated"
                " FROM runs WHERE status NOT IN ('queued', 'running')"
                " GROUP BY day, model ORDER BY day DESC, dollars DESC").fetchall()
        return [dict(r) for r in rows]

    def spent_dollars(self, *, since: float | None = None, until: float | None = None,
                      page: str | None = None) -> float:
        """Money actually paid: the priced usage of billed runs started in [since, until), never an
        offline run's."""
        where: list[str] = ["billed = 1"]
        args: list[Any] = []
        for clause, value in (("started_at >= ?", since), ("started_at < ?", until), ("page = ?", page)):
            if value is not None:
                where.append(clause)
                args.append(value)
        with self._db() as db:
            total = db.execute(f"SELECT COALESCE(SUM(actual_dollars), 0) FROM runs WHERE {' AND '.join(where)}",
                               args).fetchone()[0]
        return float(total)
