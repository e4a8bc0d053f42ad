"""What a Gallery delete keeps for the rest of the session, so that Undo can put the pictures back.

A delete still removes the rows at once (and a file nothing else uses), as ``Store.delete_image``
always did; ``take_out`` first reads all that a row held (its bytes, place in its run, its star and each
person's, lineage, keep-exact marks and when it was made), and ``put_back`` saves it again through ``Store.add_image``,
in its old place in the newest-first order. Nothing of it is written anywhere else: a session that
ends can no longer undo, and the history never holds a half-deleted picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .history.records import ImageRecord
from .store import Store

__all__ = ["DeletedPicture", "Deletion", "take_out", "put_back"]


@dataclass(frozen=True)
class DeletedPicture:
    """One deleted result, as much of it as ``Store.add_image`` needs to save it again."""

    run_id: int
    index: int
    data: bytes
    format: str
    width: int | None
    height: int | None
    created_at: float
    revised_prompt: str | None
    parents: tuple[str, ...]
    variant: str | None
    drift: dict[str, Any] | None
    starred: bool                          # the single-user history's star (``images.starred``)
    stars: tuple[tuple[str, float], ...] = ()  # with login, each person's: (subject, when starred)


@dataclass(frozen=True)
class Deletion:
    """What one click on Delete removed: a picture, or a kept-exact composite with the raw output beside it."""

    prompt: str
    pictures: tuple[DeletedPicture, ...]


def take_out(store: Store, records: list[ImageRecord]) -> Deletion:
    """Delete ``records`` from the history and return what puts them back.

    Every picture is read before the first is deleted, so a picture that cannot be read is never lost:
    ``StorageError`` from the store (or ``KeyError`` for a row already gone) leaves them all in place."""
    kept = tuple(DeletedPicture(
        run_id=rec.run_id, index=rec.index, data=store.read_bytes(rec.hash, rec.format), format=rec.format,
        width=rec.width, height=rec.height, created_at=rec.created_at, revised_prompt=rec.revised_prompt,
        parents=tuple(store.parents_of(rec.id)), variant=rec.variant, drift=rec.drift, starred=rec.starred,
        stars=tuple(store.stars_on(rec.id).items()))
        for rec in records)
    for rec in records:
        store.delete_image(rec.id)
    return Deletion(prompt=records[0].prompt if records else "", pictures=kept)


def put_back(store: Store, deletion: Deletion) -> list[ImageRecord]:
    """Save the pictures of ``deletion`` again (new ids, the same bytes, place, stars and lineage; the owner is
    the run's, as it was)."""
    restored = []
    for pic in deletion.pictures:
        rec = store.add_image(pic.run_id, pic.index, pic.data, pic.format, pic.width, pic.height,
                              revised_prompt=pic.revised_prompt, parents=list(pic.parents), variant=pic.variant,
                              drift=pic.drift, created_at=pic.created_at)
        if pic.starred:
            store.set_starred(rec.id, True)
        for who, when in pic.stars:
            store.set_star(rec.id, who, True, at=when)
        restored.append(rec)
    return restored
