"""``ConversationRepository``: ``conversations`` and their ``turns`` (a tree: each turn names its parent)."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import func, select

from imagelab.people import Person

from .records import ACTIVE_STATUSES, ConversationRecord, TurnRecord, conversation_record, turn_record
from .repository import Repository
from .runs import owner_columns
from .schema import conversations, runs, turns

__all__ = ["ConversationRepository"]

_TURN_FIELDS = frozenset({"run_id", "response_id", "image_call_id", "image_hash", "image_format",
                          "revised_prompt", "reply", "status", "error", "note", "attachments"})


class ConversationRepository(Repository):
    def new_conversation(self, title: str, owner: Person | None = None) -> int:
        now = time.time()
        with self._write() as db:
            return int(db.execute(conversations.insert().values(
                title=title[:120] or "Untitled conversation", created_at=now, updated_at=now,
                **owner_columns(owner))
                .returning(conversations.c.id)).scalar_one())

    def conversations(self, limit: int = 50, *, owner: str | None = None) -> list[ConversationRecord]:
        """The newest conversations; ``owner``: only that person's (a conversation is its owner's)."""
        count = (select(func.count()).where(turns.c.conversation_id == conversations.c.id)
                 .scalar_subquery().label("turns"))
        query = select(conversations, count).order_by(conversations.c.updated_at.desc()).limit(limit)
        if owner is not None:
            query = query.where(conversations.c.owner == owner)
        with self._read() as db:
            return [conversation_record(r) for r in db.execute(query).mappings()]

    def latest_conversation(self, *, owner: str | None = None) -> int | None:
        query = (select(conversations.c.id)
                 .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc()).limit(1))
        if owner is not None:
            query = query.where(conversations.c.owner == owner)
        with self._read() as db:
            found = db.execute(query).scalar()
        return int(found) if found is not None else None

    def add_turn(self, conversation_id: int, *, parent_id: int | None, run_id: int | None, prompt: str,
                 attachments: list[str], status: str, mask_hash: str | None = None, response_id: str | None = None,
                 image_call_id: str | None = None, image_hash: str | None = None, image_format: str | None = None,
                 revised_prompt: str | None = None, reply: str | None = None, error: str | None = None,
                 note: str | None = None) -> int:
        now = time.time()
        with self._write() as db:
            turn_id = db.execute(turns.insert().values(
                conversation_id=conversation_id, parent_id=parent_id, run_id=run_id, prompt=prompt,
                attachments=json.dumps(attachments), mask_hash=mask_hash, response_id=response_id,
                image_call_id=image_call_id, image_hash=image_hash, image_format=image_format,
                revised_prompt=revised_prompt, reply=reply, status=status, error=error, note=note, created_at=now)
                .returning(turns.c.id)).scalar_one()
            db.execute(conversations.update().where(conversations.c.id == conversation_id).values(updated_at=now))
        return int(turn_id)

    def update_turn(self, turn_id: int, **fields: Any) -> None:
        """Fill in a turn once its run has finished (its image, reply, ids and status)."""
        unknown = set(fields) - _TURN_FIELDS
        if unknown:
            raise ValueError(f"not a turn field: {sorted(unknown)}")
        if "attachments" in fields:
            fields["attachments"] = json.dumps(fields["attachments"])
        with self._write() as db:
            db.execute(turns.update().where(turns.c.id == turn_id).values(fields))

    def turn_of_run(self, run_id: int) -> int | None:
        with self._read() as db:
            found = db.execute(select(turns.c.id).where(turns.c.run_id == run_id)).scalar()
        return int(found) if found is not None else None

    def turn(self, turn_id: int) -> TurnRecord:
        """One turn (without its run's usage); KeyError when there is none."""
        with self._read() as db:
            row = db.execute(select(turns).where(turns.c.id == turn_id)).mappings().first()
        if row is None:
            raise KeyError(turn_id)
        return turn_record(row)

    def turns(self, conversation_id: int) -> list[TurnRecord]:
        """Every turn of a conversation, oldest first, with its run's usage and cost."""
        query = (select(turns, runs.c.usage, runs.c.actual_dollars, runs.c.est_dollars, runs.c.request_id,
                        func.coalesce(runs.c.billed, 1).label("billed"))
                 .select_from(turns.outerjoin(runs, runs.c.id == turns.c.run_id))
                 .where(turns.c.conversation_id == conversation_id).order_by(turns.c.id))
        with self._read() as db:
            return [turn_record(r) for r in db.execute(query).mappings()]

    def interrupt_turns_of_interrupted_runs(self) -> None:
        """After a restart: a turn whose run was marked ``interrupted`` says so too."""
        interrupted = select(runs.c.id).where(runs.c.status == "interrupted")
        with self._write() as db:
            db.execute(turns.update().where(turns.c.status.in_(ACTIVE_STATUSES), turns.c.run_id.in_(interrupted))
                       .values(status="interrupted", error="ImageLab stopped before this turn finished."))
