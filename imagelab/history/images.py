"""``ImageRepository``: results and uploads (``images``, ``inputs``, ``image_parents``) and the Gallery's queries.

A result's file is written first and its row second, both under the database's write lock, which
``delete_image`` also holds while it removes a file, so adding and deleting the same bytes never
interleave and a row never points at nothing. SVG bytes are kept sanitised (``imagelab.svg``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from imagelab.svg import NotAnSvg, sanitize_svg

from .database import new_id
from .records import ImageRecord, image_record
from .repository import Repository

__all__ = ["ImageRepository", "MAX_SEARCH_TEXT"]

MAX_SEARCH_TEXT = 500  # far below SQLite's LIKE pattern limit, even escaped

_IMAGE_SELECT = ("SELECT images.*, runs.prompt AS prompt, runs.model AS model, runs.page AS page,"
                 " runs.actual_dollars AS actual_dollars FROM images JOIN runs ON runs.id = images.run_id")


class ImageRepository(Repository):
    # --- bytes ------------------------------------------------------------------------------

    def write_bytes(self, data: bytes, fmt: str) -> str:
        """Keep bytes under their hash (``BlobStore.write``); return the hash."""
        return self.blobs.write(data, fmt)

    def read_bytes(self, digest: str, fmt: str | None = None) -> bytes:
        return self.blobs.read(digest, fmt if fmt is not None else self.format_of(digest))

    def format_of(self, digest: str) -> str:
        """The format of stored bytes, whether a result or an uploaded input."""
        with self._db() as db:
            row = db.execute("SELECT format FROM images WHERE hash=? UNION ALL SELECT format FROM inputs WHERE hash=?"
                             " LIMIT 1", (digest, digest)).fetchone()
        if row is None:
            raise KeyError(digest)
        fmt: str = row[0]
        return fmt

    def add_input(self, data: bytes, fmt: str, width: int, height: int, filename: str | None = None) -> str:
        """Keep an uploaded input (so edits can name their parents); return its hash."""
        digest = self.write_bytes(data, fmt)
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO inputs(hash, format, width, height, filename, bytes, created_at)"
                       " VALUES (?,?,?,?,?,?,?)", (digest, fmt, width, height, filename, len(data), time.time()))
        return digest

    def add_image(self, run_id: int, index: int, data: bytes, fmt: str, width: int | None, height: int | None,
                  revised_prompt: str | None = None, parents: list[str] | None = None, *,
                  variant: str | None = None, drift: dict[str, Any] | None = None) -> ImageRecord:
        """Save one result: the file first, then its row (see the module's docstring).

        ``variant`` and ``drift`` mark a keep-exact composite ("kept", with its raw output's drift;
        the raw output is among its parents).
        """
        data = _safe_svg(data) if fmt == "svg" else data
        now = time.time()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                digest = self.write_bytes(data, fmt)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            cur = db.execute(
                "INSERT INTO images(run_id, idx, hash, format, width, height, bytes, revised_prompt, created_at,"
                " variant, drift) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, index, digest, fmt, width, height, len(data), revised_prompt, now, variant,
                 json.dumps(drift) if drift else None))
            image_id = new_id(cur)
            for parent in parents or []:
                db.execute("INSERT INTO image_parents(image_id, parent_hash) VALUES (?,?)", (image_id, parent))
            db.execute("COMMIT")
        return ImageRecord(image_id, run_id, index, digest, fmt, width, height, len(data), now,
                           revised_prompt=revised_prompt, variant=variant, drift=drift)

    def mark_raw(self, image_id: int) -> None:
        """Mark a result as the model's raw output, once a keep-exact composite of it has been saved."""
        with self._db() as db:
            db.execute("UPDATE images SET variant='raw' WHERE id=?", (image_id,))

    # --- reading ----------------------------------------------------------------------------

    def recent_images(self, limit: int = 48, offset: int = 0) -> list[ImageRecord]:
        with self._db() as db:
            rows = db.execute(_IMAGE_SELECT + " ORDER BY images.created_at DESC, images.id DESC LIMIT ? OFFSET ?",
                              (limit, offset)).fetchall()
        return [image_record(r) for r in rows]

    def images_of_run(self, run_id: int) -> list[ImageRecord]:
        with self._db() as db:
            rows = db.execute(_IMAGE_SELECT + " WHERE run_id=? ORDER BY idx, images.id", (run_id,)).fetchall()
        return [image_record(r) for r in rows]

    def image_by_hash(self, digest: str) -> ImageRecord:
        with self._db() as db:
            row = db.execute(_IMAGE_SELECT + " WHERE hash=? ORDER BY images.id DESC LIMIT 1", (digest,)).fetchone()
        if row is None:
            raise KeyError(digest)
        return image_record(row)

    def image(self, image_id: int) -> ImageRecord:
        with self._db() as db:
            row = db.execute(_IMAGE_SELECT + " WHERE images.id=?", (image_id,)).fetchone()
        if row is None:
            raise KeyError(image_id)
        return image_record(row)

    def count_images(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM images").fetchone()[0])

    # --- the Gallery ------------------------------------------------------------------------

    @staticmethod
    def _filters(pages: list[str] | None, models: list[str] | None, since: float | None, until: float | None,
                 starred: bool, text: str | None) -> tuple[str, list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if pages:
            where.append(f"runs.page IN ({','.join('?' * len(pages))})")
            args += pages
        if models:
            where.append(f"runs.model IN ({','.join('?' * len(models))})")
            args += models
        if since is not None:
            where.append("images.created_at >= ?")
            args.append(since)
        if until is not None:
            where.append("images.created_at < ?")
            args.append(until)
        if starred:
            where.append("images.starred = 1")
        if text and len(text) > MAX_SEARCH_TEXT:
            raise ValueError(f"Search text is limited to {MAX_SEARCH_TEXT} characters; shorten it.")
        if text:
            where.append("runs.prompt LIKE ? ESCAPE '\\'")
            args.append("%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        return (" WHERE " + " AND ".join(where)) if where else "", args

    def search_images(self, *, pages: list[str] | None = None, models: list[str] | None = None,
                      since: float | None = None, until: float | None = None, starred: bool = False,
                      text: str | None = None, limit: int = 24, offset: int = 0) -> tuple[list[ImageRecord], int]:
        """One page of images matching the filters, newest first, and how many match in all.

        Raises ``ValueError`` with a sentence for ``text`` longer than ``MAX_SEARCH_TEXT`` characters."""
        where, args = self._filters(pages, models, since, until, starred, text)
        with self._db() as db:
            total = db.execute("SELECT COUNT(*) FROM images JOIN runs ON runs.id = images.run_id" + where,
                               args).fetchone()[0]
            rows = db.execute(_IMAGE_SELECT + where + " ORDER BY images.created_at DESC, images.id DESC"
                              " LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [image_record(r) for r in rows], int(total)

    def set_starred(self, image_id: int, starred: bool) -> None:
        with self._db() as db:
            db.execute("UPDATE images SET starred=? WHERE id=?", (1 if starred else 0, image_id))

    # --- lineage ----------------------------------------------------------------------------

    def children_of(self, digest: str) -> list[ImageRecord]:
        """Images made from this one (it was among their inputs)."""
        with self._db() as db:
            rows = db.execute(_IMAGE_SELECT + " WHERE images.id IN (SELECT image_id FROM image_parents"
                              " WHERE parent_hash=?) ORDER BY images.id", (digest,)).fetchall()
        return [image_record(r) for r in rows]

    def parents_of(self, image_id: int) -> list[str]:
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT parent_hash FROM image_parents WHERE image_id=?", (image_id,))]

    # --- deleting ---------------------------------------------------------------------------

    @staticmethod
    def _referenced(db: sqlite3.Connection, digest: str) -> bool:
        """Whether a result, a lineage, a conversation turn or an upload still uses these bytes."""
        return bool(db.execute(
            "SELECT EXISTS(SELECT 1 FROM images WHERE hash=:h) OR EXISTS(SELECT 1 FROM image_parents"
            " WHERE parent_hash=:h) OR EXISTS(SELECT 1 FROM inputs WHERE hash=:h) OR EXISTS(SELECT 1 FROM turns"
            " WHERE image_hash=:h OR mask_hash=:h OR attachments LIKE :quoted)",
            {"h": digest, "quoted": f'%"{digest}"%'}).fetchone()[0] == 1)

    def delete_image(self, image_id: int) -> bool:
        """Remove an image from the history; its file goes when nothing else refers to it.

        Returns whether the file was removed. Uploaded inputs keep their own row and file.
        """
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT hash, format FROM images WHERE id=?", (image_id,)).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                raise KeyError(image_id)
            db.execute("DELETE FROM image_parents WHERE image_id=?", (image_id,))
            db.execute("DELETE FROM images WHERE id=?", (image_id,))
            keep = self._referenced(db, row["hash"])
            # Set the file aside while the write lock is held (add_image waits for it); put it back
            # if the delete does not commit.
            aside = None if keep else self.blobs.set_aside(row["hash"], row["format"])
            try:
                db.execute("COMMIT")
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
