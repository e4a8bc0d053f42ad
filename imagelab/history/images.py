"""``ImageRepository``: results and uploads (``images``, ``inputs``, ``image_parents``) and the Gallery's queries.

A result's file is written first and its row second, inside one write transaction that first locks
the rows already naming the same bytes; ``delete_image`` locks the row it deletes and keeps the lock
while it removes the file. So adding and deleting the same bytes never interleave and a row never
points at nothing: on SQLite the transaction's write lock does it, on PostgreSQL the row locks.
SVG bytes are kept sanitised (``imagelab.svg``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, exists, func, or_, select, union_all

from imagelab.svg import NotAnSvg, sanitize_svg

from .blobs import content_hash
from .database import insert_ignoring_duplicates
from .records import ImageRecord, image_record
from .repository import Repository
from .schema import board_items, image_parents, images, inputs, runs, stars, turns

__all__ = ["ImageRepository", "MAX_SEARCH_TEXT"]

MAX_SEARCH_TEXT = 500  # far below either engine's pattern limits, even escaped

_siblings = images.alias("siblings")
_RUN_IMAGES = (select(func.count()).where(_siblings.c.run_id == images.c.run_id,
                                          func.coalesce(_siblings.c.variant, "") != "raw")
               .scalar_subquery().label("run_images"))
_JOINED = images.join(runs, runs.c.id == images.c.run_id)
# A raw output whose kept-exact composite is still there: the Gallery shows the two as one picture.
_BESIDE_KEPT = (func.coalesce(images.c.variant, "") == "raw") & exists().where(
    _siblings.c.run_id == images.c.run_id, _siblings.c.idx == images.c.idx, _siblings.c.variant == "kept")


def _image_select() -> Select[Any]:
    """An image's row with its run's prompt, model, page, cost and how many pictures the run made."""
    return select(images, runs.c.prompt, runs.c.model, runs.c.page, runs.c.actual_dollars, runs.c.billed,
                  _RUN_IMAGES).select_from(_JOINED)


_NEWEST_FIRST = (images.c.created_at.desc(), images.c.id.desc())


class ImageRepository(Repository):
    # --- bytes ------------------------------------------------------------------------------

    def write_bytes(self, data: bytes, fmt: str) -> str:
        """Keep bytes under their hash (``BlobStore.write``); return the hash."""
        return self.blobs.write(data, fmt)

    def read_bytes(self, digest: str, fmt: str | None = None) -> bytes:
        return self.blobs.read(digest, fmt if fmt is not None else self.format_of(digest))

    def write_result_bytes(self, data: bytes, fmt: str) -> str:
        """Keep a result's bytes as ``add_image`` keeps them (SVG sanitised), without its row; return the hash."""
        return self.write_bytes(_safe_svg(data) if fmt == "svg" else data, fmt)

    def recorded_image(self, run_id: int, index: int, data: bytes, fmt: str,
                       variant: str | None = None) -> ImageRecord | None:
        """The row already saved for these bytes as this result of the run, if there is one (a write whose
        COMMIT was lost with its connection may have been written after all)."""
        digest = content_hash(_safe_svg(data) if fmt == "svg" else data)
        query = select(images).where(images.c.run_id == run_id, images.c.idx == index, images.c.hash == digest,
                                     func.coalesce(images.c.variant, "") == (variant or "")).limit(1)
        with self._read() as db:
            row = db.execute(query).mappings().first()
        return None if row is None else image_record(row)

    def format_of(self, digest: str) -> str:
        """The format of stored bytes, whether a result or an uploaded input."""
        query = union_all(select(images.c.format).where(images.c.hash == digest),
                          select(inputs.c.format).where(inputs.c.hash == digest)).limit(1)
        with self._read() as db:
            fmt = db.execute(query).scalar()
        if fmt is None:
            raise KeyError(digest)
        return str(fmt)

    def add_input(self, data: bytes, fmt: str, width: int, height: int, filename: str | None = None) -> str:
        """Keep an uploaded input (so edits can name their parents); return its hash."""
        digest = self.write_bytes(data, fmt)
        with self._write() as db:
            insert_ignoring_duplicates(db, inputs, {"hash": digest, "format": fmt, "width": width, "height": height,
                                                    "filename": filename, "bytes": len(data),
                                                    "created_at": time.time()})
        return digest

    def add_image(self, run_id: int, index: int, data: bytes, fmt: str, width: int | None, height: int | None,
                  revised_prompt: str | None = None, parents: list[str] | None = None, *,
                  variant: str | None = None, drift: dict[str, Any] | None = None,
                  created_at: float | None = None) -> ImageRecord:
        """Save one result: the file first, then its row (see the module's docstring).

        ``variant`` and ``drift`` mark a keep-exact composite ("kept", with its raw output's drift;
        the raw output is among its parents). ``created_at`` puts back a deleted picture in its old place.
        """
        data = _safe_svg(data) if fmt == "svg" else data
        now = time.time() if created_at is None else created_at
        with self._write() as db:
            # a delete of the same bytes holds its row until it has decided about the file: wait for it
            same = select(images.c.id).where(images.c.hash == content_hash(data)).order_by(images.c.id)
            db.execute(same.with_for_update()).all()
            digest = self.write_bytes(data, fmt)
            owner, owner_email = db.execute(select(runs.c.owner, runs.c.owner_email).where(runs.c.id == run_id)).one()
            image_id = int(db.execute(images.insert().values(owner=owner, owner_email=owner_email,
                run_id=run_id, idx=index, hash=digest, format=fmt, width=width, height=height, bytes=len(data),
                revised_prompt=revised_prompt, created_at=now, variant=variant,
                drift=json.dumps(drift) if drift else None).returning(images.c.id)).scalar_one())
            for parent in parents or []:
                db.execute(image_parents.insert().values(image_id=image_id, parent_hash=parent))
        return ImageRecord(image_id, run_id, index, digest, fmt, width, height, len(data), now,
                           revised_prompt=revised_prompt, variant=variant, drift=drift, owner=owner,
                           owner_email=owner_email)

    def mark_raw(self, image_id: int) -> None:
        """Mark a result as the model's raw output, once a keep-exact composite of it has been saved."""
        with self._write() as db:
            db.execute(images.update().where(images.c.id == image_id).values(variant="raw"))

    # --- reading ----------------------------------------------------------------------------

    def _images(self, query: Select[Any]) -> list[ImageRecord]:
        with self._read() as db:
            return [image_record(r) for r in db.execute(query).mappings()]

    def recent_images(self, limit: int = 48, offset: int = 0, *, owner: str | None = None) -> list[ImageRecord]:
        """The newest pictures (``owner``: that person's)."""
        query = _image_select() if owner is None else _image_select().where(images.c.owner == owner)
        return self._images(query.order_by(*_NEWEST_FIRST).limit(limit).offset(offset))

    def images_of_run(self, run_id: int) -> list[ImageRecord]:
        return self._images(_image_select().where(images.c.run_id == run_id).order_by(images.c.idx, images.c.id))

    def image_by_hash(self, digest: str) -> ImageRecord:
        found = self._images(_image_select().where(images.c.hash == digest).order_by(images.c.id.desc()).limit(1))
        if not found:
            raise KeyError(digest)
        return found[0]

    def image(self, image_id: int) -> ImageRecord:
        found = self._images(_image_select().where(images.c.id == image_id))
        if not found:
            raise KeyError(image_id)
        return found[0]

    def count_images(self) -> int:
        with self._read() as db:
            return int(db.execute(select(func.count()).select_from(images)).scalar_one())

    # --- the Gallery ------------------------------------------------------------------------

    @staticmethod
    def _filters(pages: list[str] | None, models: list[str] | None, since: float | None, until: float | None,
                 starred: bool, text: str | None, owner: str | None = None, starred_by: str | None = None,
                 board: int | None = None) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if owner is not None:
            where.append(images.c.owner == owner)
        if board is not None:
            where.append(images.c.hash.in_(select(board_items.c.hash).where(board_items.c.board_id == board)))
        if pages:
            where.append(runs.c.page.in_(pages))
        if models:
            where.append(runs.c.model.in_(models))
        if since is not None:
            where.append(images.c.created_at >= since)
        if until is not None:
            where.append(images.c.created_at < until)
        if starred and starred_by is not None:  # with login, stars are each person's own
            where.append(images.c.id.in_(select(stars.c.image_id).where(stars.c.owner == starred_by)))
        elif starred:
            where.append(images.c.starred == 1)
        if text and len(text) > MAX_SEARCH_TEXT:
            raise ValueError(f"Search text is limited to {MAX_SEARCH_TEXT} characters; shorten it.")
        if text:
            # the words as typed, any case: % and _ are letters here, not wildcards
            where.append(runs.c.prompt.icontains(text, autoescape=True))
        return where

    def search_images(self, *, pages: list[str] | None = None, models: list[str] | None = None,
                      since: float | None = None, until: float | None = None, starred: bool = False,
                      text: str | None = None, limit: int = 24, offset: int = 0, owner: str | None = None,
                      starred_by: str | None = None, board: int | None = None) -> tuple[list[ImageRecord], int]:
        """One page of images matching the filters (``board``: on that board), newest first, and how many match.

        ``owner``: only that person's pictures; ``starred_by``: ``starred`` means starred by that person.
        A raw output beside its kept-exact composite is not listed on its own (``raw_versions`` finds it).
        Raises ``ValueError`` with a sentence for ``text`` longer than ``MAX_SEARCH_TEXT`` characters."""
        where = [*self._filters(pages, models, since, until, starred, text, owner, starred_by, board), ~_BESIDE_KEPT]
        with self._read() as db:
            total = db.execute(select(func.count()).select_from(_JOINED).where(*where)).scalar_one()
            rows = db.execute(_image_select().where(*where).order_by(*_NEWEST_FIRST).limit(limit).offset(offset))
            return [image_record(r) for r in rows.mappings()], int(total)

    def raw_versions(self, kept: list[ImageRecord]) -> dict[int, ImageRecord]:
        """The model's raw output beside each kept-exact composite in ``kept``, by the composite's id."""
        wanted = {(rec.run_id, rec.index): rec.id for rec in kept if rec.variant == "kept"}
        if not wanted:
            return {}
        found = self._images(_image_select().where(images.c.variant == "raw",
                                                   images.c.run_id.in_({run for run, _ in wanted}))
                             .order_by(images.c.id))
        return {wanted[(rec.run_id, rec.index)]: rec for rec in found if (rec.run_id, rec.index) in wanted}

    def set_starred(self, image_id: int, starred: bool) -> None:
        with self._write() as db:
            db.execute(images.update().where(images.c.id == image_id).values(starred=1 if starred else 0))

    def stars_of(self, owner: str) -> set[int]:
        """The ids of the pictures ``owner`` has starred (with login, stars are each person's)."""
        with self._read() as db:
            return {int(i) for i in db.execute(select(stars.c.image_id).where(stars.c.owner == owner)).scalars()}

    def set_star(self, image_id: int, owner: str, starred: bool, *, at: float | None = None) -> None:
        """Star or unstar a picture for one person (``at``: when it was starred, for a star put back)."""
        with self._write() as db:
            db.execute(stars.delete().where(stars.c.image_id == image_id, stars.c.owner == owner))
            if starred:
                db.execute(stars.insert().values(image_id=image_id, owner=owner,
                                                 created_at=time.time() if at is None else at))

    def stars_on(self, image_id: int) -> dict[str, float]:
        """Who has starred a picture (with login), and when: by subject."""
        with self._read() as db:
            return {str(o): float(t) for o, t in db.execute(select(stars.c.owner, stars.c.created_at)
                                                            .where(stars.c.image_id == image_id))}

    # --- lineage ----------------------------------------------------------------------------

    def children_of(self, digest: str) -> list[ImageRecord]:
        """Images made from this one (it was among their inputs)."""
        made_from = select(image_parents.c.image_id).where(image_parents.c.parent_hash == digest)
        return self._images(_image_select().where(images.c.id.in_(made_from)).order_by(images.c.id))

    def parents_of(self, image_id: int) -> list[str]:
        with self._read() as db:
            return list(db.execute(select(image_parents.c.parent_hash).where(image_parents.c.image_id == image_id))
                        .scalars())

    # --- deleting ---------------------------------------------------------------------------

    @staticmethod
    def _referenced(db: Connection, digest: str) -> bool:
        """Whether a result, a lineage, a conversation turn, an upload or a board still uses these bytes."""
        in_turns = (turns.c.image_hash == digest) | (turns.c.mask_hash == digest) | turns.c.attachments.contains(
            f'"{digest}"', autoescape=True)
        return bool(db.execute(select(or_(
            exists().where(images.c.hash == digest), exists().where(image_parents.c.parent_hash == digest),
            exists().where(inputs.c.hash == digest), exists().where(in_turns),
            exists().where(board_items.c.hash == digest)))).scalar_one())

    def delete_image(self, image_id: int) -> bool:
        """Remove an image from the history; its file goes when nothing else refers to it.

        Returns whether the file was removed. Uploaded inputs keep their own row and file.
        """
        aside = None
        try:
            with self._write() as db:
                row = db.execute(select(images.c.hash, images.c.format).where(images.c.id == image_id)
                                 .with_for_update()).first()
                if row is None:
                    raise KeyError(image_id)
                digest, fmt = row
                db.execute(image_parents.delete().where(image_parents.c.image_id == image_id))
                db.execute(stars.delete().where(stars.c.image_id == image_id))
                db.execute(images.delete().where(images.c.id == image_id))
                keep = self._referenced(db, digest)
                # Set the file aside while the lock is held; it goes back if the delete does not commit.
                aside = None if keep else self.blobs.set_aside(digest, fmt)
        except BaseException:
            self.blobs.put_back(aside)
            raise
        self.blobs.discard(aside)
        return not keep


def _safe_svg(data: bytes) -> bytes:
    """The SVG sanitised; markup that cannot be read is kept as it came (it is never shown raw)."""
    try:
        return sanitize_svg(data)
    except NotAnSvg:
        return data
