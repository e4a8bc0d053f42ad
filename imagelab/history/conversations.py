"""``ConversationRepository``: ``conversations`` and their ``turns`` (a tree: each turn names its parent)."""

from __future__ import annotations

import json
import time
from typing import Any

from .database import new_id
from .records import ConversationRecord, TurnRecord, conversation_record, turn_record
from .repository import Repository

__all__ = ["ConversationRepository"]

_TURN_FIELDS = frozenset({"run_id", "response_id", "image_call_id", "image_hash", "image_format",
                          "revised_prompt", "reply", "status", "error", "note", "attachments"})


class ConversationRepository(Repository):
    def new_conversation(self, title: str) -> int:
        now = time.time()
        with self._db() as db:
            cur = db.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES (?,?,?)",
                             (title[:120] or "Untitled conversation", now, now))
            return new_id(cur)

    def conversations(self, limit: int = 50) -> list[ConversationRecord]:
        with self._db() as db:
            rows = db.execute("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS turns"
                              " FROM conversations c ORDER BY updated_at DESC LIMIT ?", (limit,)).fetchall()
        return [conversation_record(r) for r in rows]

    def latest_conversation(self) -> int | None:
        with self._db() as db:
            row = db.execute("SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1").fetchone()
        return int(row[0]) if row else None

    def add_turn(self, conversation_id: int, *, parent_id: int | None, run_id: int | None, prompt: str,
                 attachments: list[str], status: str, mask_hash: str | None = None, response_id: str | None = None,
                 image_call_id: str | None = None, image_hash: str | None = None, image_format: str | None = None,
                 revised_prompt: str | None = None, reply: str | None = None, error: str | None = None,
                 note: str | None = None) -> int:
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(
                "INSERT INTO turns(conversation_id, parent_id, run_id, prompt, attachments, mask_hash, response_id,"
                " image_call_id, image_hash, image_format, revised_prompt, reply, status, error, note, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (conversation_id, parent_id, run_id, prompt, json.dumps(attachments), mask_hash, response_id,
                 image_call_id, image_hash, image_format, revised_prompt, reply, status, error, note, now))
            db.execute("UPDATE conversations SET updated_at=? WHERE id=?", (now, conversation_id))
            db.execute("COMMIT")
            return new_id(cur)

    def update_turn(self, turn_id: int, **fields: Any) -> None:
        """Fill in a turn once its run has finished (its image, reply, ids and status)."""
        unknown = set(fields) - _TURN_FIELDS
        if unknown:
            raise ValueError(f"not a turn field: {sorted(unknown)}")
        if "attachments" in fields:
            fields["attachments"] = json.dumps(fields["attachments"])
        names = list(fields)
        with self._db() as db:
            db.execute(f"UPDATE turns SET {', '.join(f'{n}=?' for n in names)} WHERE id=?",
                       [*(fields[n] for n in names), turn_id])

    def turn_of_run(self, run_id: int) -> int | None:
        with self._db() as db:
            row = db.execute("SELECT id FROM turns WHERE run_id=?", (run_id,)).fetchone()
        return int(row[0]) if row else None

    def turns(self, conversation_id: int) -> list[TurnRecord]:
        """Every turn of a conversation, oldest first, with its run's usage and cost."""
        with self._db() as db:
            rows = db.execute(
                "SELECT t.*, r.usage AS usage, r.actual_dollars AS actual_dollars, r.est_dollars AS est_dollars,"
                " r.request_id AS request_id FROM turns t LEFT JOIN runs r ON r.id = t.run_id"
                " WHERE t.conversation_id=? ORDER BY t.id", (conversation_id,)).fetchall()
        return [turn_record(r) for r in rows]

    def interrupt_turns_of_interrupted_runs(self) -> None:
        """After a restart: a turn whose run was marked ``interrupted`` says so too."""
        with self._db() as db:
            db.execute("UPDATE turns SET status='interrupted', error=? WHERE status IN ('queued','running')"
                       " AND run_id IN (SELECT id FROM runs WHERE status='interrupted')",
                       ("ImageLab stopped before this turn finished.",))
