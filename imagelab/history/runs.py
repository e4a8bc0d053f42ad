"""``RunRepository``: the ``runs`` table — one row per request, its status, usage, cost and resume point."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Text, case, cast, delete, func, select

from imagelab.people import Person
from imagelab.text import scrub, shorten

from .database import upsert
from .records import ACTIVE_STATUSES, RUN_STATUSES, RunRecord, run_record
from .repository import Repository
from .schema import people as people_table
from .schema import run_previews, runs

__all__ = ["RunRepository"]

_QUARTER_HOUR = 900
API_MESSAGE_LIMIT = 500  # a server's message is kept to a readable length: a proxy's whole page is no message


def _billed(backend: str | None) -> bool:
    """Whether a run on this backend is paid for: all but the built-in offline backend's (``Offline…``)."""
    return not str(backend or "").startswith("Offline")


def _run_row(r: dict[str, Any], now: float) -> dict[str, Any]:
    """The ``runs`` columns of a new run from ``start_run``'s arguments."""
    est = r.get("estimate")
    return {"page": r["page"], "model": r["model"], "prompt": r["prompt"], "params": json.dumps(r["params"]),
            "status": r.get("status", "queued"), "estimate": json.dumps(est) if est else None,
            "est_dollars": (est or {}).get("dollars"), "backend": r.get("backend"), "started_at": now,
            "requested": r.get("requested"), "group_id": r.get("group_id"), "label": r.get("label"),
            "billed": int(r["billed"] if r.get("billed") is not None else _billed(r.get("backend"))),
            **owner_columns(r.get("owner"))}


def owner_columns(owner: Person | None) -> dict[str, str | None]:
    """The ``owner`` and ``owner_email`` columns of a record ``owner`` makes (both empty without login)."""
    return {"owner": owner.subject if owner else None, "owner_email": owner.email if owner else None}


class RunRepository(Repository):
    def start_run(self, page: str, model: str, prompt: str, params: dict[str, Any],
                  estimate: dict[str, Any] | None = None, backend: str | None = None, *, status: str = "running",
                  requested: int | None = None, group_id: str | None = None, label: str | None = None,
                  billed: bool | None = None, owner: Person | None = None, durable: bool = True) -> int:
        """A new run row (``queued`` when the engine will send it later); returns its id. Not ``durable``: see
        ``Database.write`` (a queued run, made durable when it is marked running).

        ``billed`` is False for a run sent to the offline backend: its usage is kept, but nothing was paid.
        Left out, it is judged from ``backend`` (the offline backend's label), as older rows were."""
        row = _run_row({"page": page, "model": model, "prompt": prompt, "params": params, "estimate": estimate,
                        "backend": backend, "status": status, "requested": requested, "group_id": group_id,
                        "label": label, "billed": billed, "owner": owner}, time.time())
        with self._write(durable=durable) as db:
            return int(db.execute(runs.insert().values(row).returning(runs.c.id)).scalar_one())

    def start_runs(self, rows: list[dict[str, Any]]) -> list[int]:
        """Many ``start_run``s in one transaction (a sweep's cells); each dict holds ``start_run``'s arguments."""
        now = time.time()
        with self._write() as db:
            return [int(db.execute(runs.insert().values(_run_row(r, now)).returning(runs.c.id)).scalar_one())
                    for r in rows]

    def mark_running_many(self, run_ids: list[int]) -> None:
        with self._write() as db:
            db.execute(runs.update().where(runs.c.status == "queued", runs.c.id.in_(run_ids)).values(status="running"))

    def spending_runs(self, since: float, ids: list[int] | None = None, *, owner: str | None = None
                      ) -> list[RunRecord]:
        """Runs started since ``since`` (or the given ids), of one person (``owner``) or everyone, that have, or
        may have, cost something: priced ones, and ones sent or still to go (a billed run without usage may
        have been paid for)."""
        which = runs.c.started_at >= since if ids is None else runs.c.id.in_(ids)
        maybe_paid = (*ACTIVE_STATUSES, "ok", "partial", "interrupted")
        query = select(runs).where(which, runs.c.actual_dollars.is_not(None) | runs.c.status.in_(maybe_paid))
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        with self._read() as db:
            rows = db.execute(query).mappings().all()
        return [run_record(r) for r in rows]

    def mark_running(self, run_id: int) -> None:
        with self._write() as db:
            db.execute(runs.update().where(runs.c.id == run_id, runs.c.status == "queued").values(status="running"))

    def set_resume_point(self, run_id: int, response_id: str, sequence: int | None) -> None:
        """Remember where a background response's event stream was, so it can be resumed after a restart."""
        with self._write() as db:
            db.execute(runs.update().where(runs.c.id == run_id).values(response_id=response_id, sequence=sequence))

    def set_reply(self, run_id: int, text: str) -> None:
        """Keep the words a text-only run brought back, before the run is shown as finished."""
        with self._write() as db:
            db.execute(runs.update().where(runs.c.id == run_id).values(reply=text))

    def set_preview(self, run_id: int, idx: int, partial: int, data: bytes) -> None:
        """Keep this image's newest preview (only the latest one of each image is kept), for other servers."""
        with self._write() as db:
            db.execute(delete(run_previews).where(run_previews.c.run_id == run_id, run_previews.c.idx == idx))
            db.execute(run_previews.insert().values(run_id=run_id, idx=idx, partial=partial, data=data,
                                                    at=time.time()))

    def previews(self, run_id: int) -> dict[int, tuple[int, bytes]]:
        """A running run's latest preview of each image not saved yet: image index -> (preview no., bytes)."""
        with self._read() as db:
            rows = db.execute(select(run_previews.c.idx, run_previews.c.partial, run_previews.c.data)
                              .where(run_previews.c.run_id == run_id)).all()
        return {int(r.idx): (int(r.partial), bytes(r.data)) for r in rows}

    def clear_previews(self, run_id: int, idx: int | None = None) -> None:
        """Forget a run's previews (an image's, once it is saved; all of them, once the run has ended)."""
        query = delete(run_previews).where(run_previews.c.run_id == run_id)
        if idx is not None:
            query = query.where(run_previews.c.idx == idx)
        with self._write() as db:
            db.execute(query)

    def unfinished_runs(self) -> list[RunRecord]:
        with self._read() as db:
            rows = db.execute(select(runs).where(runs.c.status.in_(ACTIVE_STATUSES)).order_by(runs.c.id)).mappings()
            return [run_record(r) for r in rows]

    def finish_run(self, run_id: int, status: str, *, usage: dict[str, Any] | None = None,
                   actual_dollars: float | None = None, request_id: str | None = None, error: str | None = None,
                   keep_usage: bool = False, api_message: str | None = None, api_status: int | None = None,
                   api_code: str | None = None) -> None:
        """Record how a run ended: ``error`` is ImageLab's sentence; ``api_message``, ``api_status`` and
        ``api_code`` what the server itself said (its message is scrubbed of anything key-shaped here too)."""
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        values: dict[str, Any] = {"status": status, "error": error, "finished_at": time.time(),
                                  "api_message": shorten(scrub(api_message), API_MESSAGE_LIMIT) if api_message
                                  else None, "api_status": api_status, "api_code": scrub(api_code) if api_code
                                  else None}
        if not keep_usage:
            values |= {"usage": json.dumps(usage) if usage else None, "actual_dollars": actual_dollars,
                       "request_id": request_id}
        with self._write() as db:
            db.execute(runs.update().where(runs.c.id == run_id).values(values))

    def run(self, run_id: int) -> RunRecord:
        with self._read() as db:
            row = db.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            raise KeyError(run_id)
        return run_record(row)

    def runs(self, limit: int = 50, *, page: str | None = None, group_id: str | None = None,
             ids: list[int] | None = None, owner: str | None = None) -> list[RunRecord]:
        """Runs newest first, optionally only one page's, one group's (a sweep), one person's or the given ids."""
        where: list[ColumnElement[bool]] = []
        if owner is not None:
            where.append(runs.c.owner == owner)
        if page is not None:
            where.append(runs.c.page == page)
        if group_id is not None:
            where.append(runs.c.group_id == group_id)
        if ids is not None:
            where.append(runs.c.id.in_(ids))
        with self._read() as db:
            rows = db.execute(select(runs).where(*where).order_by(runs.c.id.desc()).limit(limit)).mappings()
            return [run_record(r) for r in rows]

    def count_runs(self, *, page: str | None = None, owner: str | None = None) -> int:
        query = select(func.count()).select_from(runs)
        if page is not None:
            query = query.where(runs.c.page == page)
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        with self._read() as db:
            return int(db.execute(query).scalar_one())

    def note_person(self, person: Person) -> None:
        """Keep ``person`` in the list of people (at each login: their email may have changed)."""
        with self._write() as db:
            upsert(db, people_table, {"owner": person.subject, "email": person.email, "last_seen": time.time()},
                   key="owner")

    def people(self) -> list[tuple[str, str]]:
        """(subject, email) of everyone who has logged in, by email."""
        with self._read() as db:
            found = [(str(s), str(e or s)) for s, e in db.execute(select(people_table.c.owner, people_table.c.email))]
        return sorted(found, key=lambda p: p[1].lower())

    def owners_of_runs(self, run_ids: list[int]) -> dict[int, str | None]:
        """Who asked for each of these runs (the subject; ``None`` without login)."""
        if not run_ids:
            return {}
        with self._read() as db:
            return {int(i): o for i, o in db.execute(select(runs.c.id, runs.c.owner).where(runs.c.id.in_(run_ids)))}

    def used_models_and_pages(self) -> tuple[list[str], list[str]]:
        with self._read() as db:
            models = list(db.execute(select(runs.c.model).distinct().order_by(runs.c.model)).scalars())
            pages = list(db.execute(select(runs.c.page).distinct().order_by(runs.c.page)).scalars())
        return models, pages

    def spend_by_day_and_model(self, *, owner: str | None = None, by_person: bool = False) -> list[dict[str, Any]]:
        """Spend per day and model (local time), newest day first: ``dollars`` is what was paid (billed
        runs only); ``would_cost`` what the offline backend's runs would have cost on OpenAI. ``owner``: one
        person's runs only; ``by_person``: a row per person too, named by ``person`` (their email, or "")."""
        # The day is this process's local day, as the person reading it counts days, not that of a database
        # server in another time zone: the database adds up each quarter hour (every time zone's offset is
        # a whole number of quarter hours, so a quarter hour never spans two days), this process names days.
        second = cast(runs.c.started_at, BigInteger)  # rounded on PostgreSQL, truncated on SQLite: floor both
        quarter = ((second - case((second > runs.c.started_at, 1), else_=0)) // _QUARTER_HOUR).label("quarter")
        person = (runs.c.owner_email if by_person else cast(None, Text)).label("person")
        query = (select(quarter, runs.c.model, runs.c.billed, person, func.count(), func.sum(runs.c.actual_dollars),
                        func.sum(runs.c.est_dollars))
                 .where(runs.c.status.not_in(ACTIVE_STATUSES)).group_by(quarter, runs.c.model, runs.c.billed, person))
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        totals: dict[tuple[str, str, str], dict[str, Any]] = {}
        with self._read() as db:
            for start, model, billed, who, count, actual, estimated in db.execute(query):
                day = dt.datetime.fromtimestamp(start * _QUARTER_HOUR).date().isoformat()
                row = totals.setdefault((day, model, who or ""), {
                    "day": day, "model": model, "runs": 0, "dollars": 0.0, "would_cost": 0.0, "estimated": 0.0,
                    **({"person": who or ""} if by_person else {})})
                row["runs"] += count
                row["dollars" if billed else "would_cost"] += actual or 0.0
                row["estimated"] += estimated or 0.0
        by_dollars = sorted(totals.values(), key=lambda r: r["dollars"], reverse=True)
        return sorted(by_dollars, key=lambda r: r["day"], reverse=True)

    def spent_dollars(self, *, since: float | None = None, until: float | None = None,
                      page: str | None = None, owner: str | None = None) -> float:
        """Money actually paid: the priced usage of billed runs started in [since, until) (``owner``: that
        person's), never an offline run's."""
        where: list[ColumnElement[bool]] = [runs.c.billed == 1]
        if owner is not None:
            where.append(runs.c.owner == owner)
        if since is not None:
            where.append(runs.c.started_at >= since)
        if until is not None:
            where.append(runs.c.started_at < until)
        if page is not None:
            where.append(runs.c.page == page)
        with self._read() as db:
            total = db.execute(select(func.coalesce(func.sum(runs.c.actual_dollars), 0.0)).where(*where)).scalar_one()
        return float(total)
