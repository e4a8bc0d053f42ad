"""Conversations: turns that continue one another through ``previous_response_id``, with branches.

A turn continues from a parent turn (or starts the conversation). Continuing from an earlier
turn than the latest starts a branch; ``branch_path`` gives the turns a branch is made of.
``run_turn`` sends one turn, saves its image and row, and falls back to resending the parent's
picture as an input when the API no longer keeps the parent's response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .client import Failed, ImageLabError, InvalidRequest, TurnReply, respond
from .inputs import input_from_store
from .runner import RunResult, execute
from .specs import TurnSpec
from .store import Store, TurnRecord

__all__ = ["branch_path", "leaves", "children_count", "TurnSaved", "run_turn", "EXPIRED_NOTE"]

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


def children_count(turns: list[TurnRecord]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for t in turns:
        if t.parent_id is not None:
            counts[t.parent_id] = counts.get(t.parent_id, 0) + 1
    return counts


@dataclass(frozen=True)
class TurnSaved:
    """A finished turn, saved: its row and the run behind it."""

    turn_id: int
    result: RunResult
    note: str | None


def _expired(errors: list[ImageLabError]) -> bool:
    return any(isinstance(e, InvalidRequest) and (e.code == "previous_response_not_found" or
                                                  e.param == "previous_response_id") for e in errors)


def _send(client: Any, spec: TurnSpec, store: Store, parents: list[str], backend: str,
          file_ids: dict[str, str] | None, call: Callable[..., Iterator[Any]]):
    """Run one request, yielding its partial images; return (reply, run result)."""
    reply: TurnReply | None = None
    result: RunResult | None = None
    for ev in execute(lambda: call(client, spec, file_ids), spec, store, page="conversation", backend=backend,
                      parents=parents):
        if isinstance(ev, TurnReply):
            reply = ev
        elif isinstance(ev, RunResult):
            result = ev
        elif not isinstance(ev, Failed):
            yield ev
    assert result is not None
    return reply, result


def run_turn(client: Any, spec: TurnSpec, store: Store, *, conversation_id: int, parent: TurnRecord | None,
             backend: str, file_ids: dict[str, str] | None = None,
             call: Callable[..., Iterator[Any]] = respond) -> Iterator[Any]:
    """Send one turn; yield the run's events, then ``TurnSaved``."""
    note = None
    parents = [img.hash for img in spec.images] + ([parent.image_hash] if parent and parent.image_hash else [])
    reply, result = yield from _send(client, spec, store, parents, backend, file_ids, call)
    if _expired(result.errors) and parent is not None and parent.image_hash:
        # The parent's response is gone: resend its picture as the first input, without the id.
        earlier = input_from_store(store, parent.image_hash)
        spec = replace(spec, previous_response_id=None, image_call_id=None, images=(earlier, *spec.images))
        note = EXPIRED_NOTE
        reply, result = yield from _send(client, spec, store, parents, backend, file_ids, call)
    image = result.images[0] if result.images else None
    turn_id = store.add_turn(
        conversation_id, parent_id=parent.id if parent else None, run_id=result.run_id, prompt=spec.prompt,
        attachments=[img.hash for img in spec.images], mask_hash=spec.mask.hash if spec.mask else None,
        response_id=reply.response_id if reply else None, image_call_id=reply.image_call_id if reply else None,
        image_hash=image.hash if image else None, image_format=image.format if image else None,
        revised_prompt=reply.revised_prompt if reply else None, reply=reply.text if reply else None,
        status=result.status, error="; ".join(e.sentence for e in result.errors) or None, note=note)
    yield TurnSaved(turn_id, result, note)
