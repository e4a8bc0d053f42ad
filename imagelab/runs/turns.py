"""Conversations: turns that continue one another through ``previous_response_id``, with branches.

A turn continues from a parent turn (or starts the conversation). Continuing from an earlier
turn than the latest starts a branch; ``branch_path`` gives the turns a branch is made of.
``TurnJob`` sends one turn on the run engine, keeps its row, and falls back to resending the
parent's picture as an input when the API no longer keeps the parent's response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from imagelab.client import Failed, InvalidRequest, RequestFailed, TurnReply, UsageReport, respond
from imagelab.inputs import input_from_store
from imagelab.specs import TurnSpec
from imagelab.store import Store, TurnRecord

__all__ = ["branch_path", "leaves", "children_count", "newest_leaf_under", "TurnJob", "finish_resumed_turn",
           "turn_job_of_run", "EXPIRED_NOTE"]

EXPIRED_NOTE = ("The API no longer keeps the earlier response, so this turn sent the last picture again as an "
                "input instead of continuing from it.")


def branch_path(turns: list[TurnRecord], head_id: int | None) -> list[TurnRecord]:
    """The turns from the first to ``head_id``, in order (empty if there is no head)."""
    by_id = {t.id: t for t in turns}
    path: list[TurnRecord] = []
    node = by_id.get(head_id) if head_id is not None else None
    while node is not None:
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    return path[::-1]


def leaves(turns: list[TurnRecord]) -> list[TurnRecord]:
    """The last turn of every branch, oldest branch first."""
    parents = {t.parent_id for t in turns}
    return [t for t in turns if t.id not in parents]


def newest_leaf_under(turns: list[TurnRecord], turn_id: int | None) -> TurnRecord | None:
    """The newest last turn of a branch that runs through ``turn_id`` (the turn itself when nothing follows it).

    Going back from a branch point to "the full conversation" opens this turn.
    """
    below: set[int] = set() if turn_id is None else {turn_id}
    for t in turns:  # oldest first, so a parent is always seen before its children
        if t.parent_id is not None and t.parent_id in below:
            below.add(t.id)
    tips = [t for t in leaves(turns) if t.id in below]
    return max(tips, key=lambda t: t.id) if tips else None


def children_count(turns: list[TurnRecord]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for t in turns:
        if t.parent_id is not None:
            counts[t.parent_id] = counts.get(t.parent_id, 0) + 1
    return counts


def _expired(errors: list[RequestFailed]) -> bool:
    return any(isinstance(e, InvalidRequest) and (e.code == "previous_response_not_found" or
                                                  e.param == "previous_response_id") for e in errors)


@dataclass
class TurnJob:
    """One turn as a run-engine job: its row is written when queued and filled in when the run ends.

    ``events`` sends the turn; when the API no longer keeps the parent's response it sends the
    parent's picture again as an input instead, and the turn says so in its note.
    """

    store: Store
    conversation_id: int
    parent: TurnRecord | None
    file_ids: dict[str, str] | None = None
    call: Callable[..., Iterator[Any]] = respond
    note: str | None = None
    turn_id: int | None = None

    def parents(self, spec: TurnSpec) -> list[str]:
        """The pictures this turn is made from, for lineage."""
        earlier = [self.parent.image_hash] if self.parent and self.parent.image_hash else []
        return [img.hash for img in spec.images] + earlier

    def events(self, client: Any, spec: TurnSpec) -> Iterator[Any]:
        fallback = False
        # In the background, so the turn goes on at the API whatever happens here, and can be resumed.
        for ev in self.call(client, spec, self.file_ids, background=True):
            if isinstance(ev, Failed) and _expired([ev.error]) and self.parent is not None and self.parent.image_hash:
                fallback = True
                continue
            if not (fallback and isinstance(ev, UsageReport)):
                yield ev
        if fallback and self.parent is not None and self.parent.image_hash:
            # The parent's response is gone: resend its picture as the first input, without the id.
            earlier = input_from_store(self.store, self.parent.image_hash)
            spec = replace(spec, previous_response_id=None, image_call_id=None, images=(earlier, *spec.images))
            self.note = EXPIRED_NOTE
            yield from self.call(client, spec, self.file_ids, background=True)

    def queued(self, run_id: int, spec: TurnSpec) -> None:
        self.turn_id = self.store.add_turn(
            self.conversation_id, parent_id=self.parent.id if self.parent else None, run_id=run_id,
            prompt=spec.prompt, attachments=[img.hash for img in spec.images],
            mask_hash=spec.mask.hash if spec.mask else None, status="queued")

    def finished(self, job: Any) -> None:
        if self.turn_id is None:
            return
        reply: TurnReply | None = job.reply
        image = job.images[0] if job.images else None
        self.store.update_turn(
            self.turn_id, response_id=reply.response_id if reply else None,
            image_call_id=reply.image_call_id if reply else None, image_hash=image.hash if image else None,
            image_format=image.format if image else None, revised_prompt=reply.revised_prompt if reply else None,
            reply=reply.text if reply else None, status=job.status,
            error="; ".join(e.sentence for e in job.errors) or None, note=self.note)


def finish_resumed_turn(store: Store, job: Any) -> None:
    """Fill in the turn of a run that was resumed after a restart, once it has finished."""
    turn_id = store.turn_of_run(job.run_id)
    if turn_id is not None:
        TurnJob(store, 0, None, turn_id=turn_id).finished(job)


def turn_job_of_run(store: Store, run_id: int) -> TurnJob | None:
    """The turn a run sends, as a ``TurnJob`` read back from its row (a queue worker sends and finishes it)."""
    turn_id = store.turn_of_run(run_id)
    if turn_id is None:
        return None
    turn = store.turn(turn_id)
    parent = store.turn(turn.parent_id) if turn.parent_id is not None else None
    return TurnJob(store, turn.conversation_id, parent, turn_id=turn_id)
