"""Copy a single-user history (a data folder) into a shared one (PostgreSQL + S3-compatible storage).

    python -m imagelab.migrate --database-url postgresql://… --storage-url s3://bucket/prefix [--from DIR]

What is copied: every run, picture (with its bytes), upload, lineage link, conversation and turn,
batch, prompt-library entry, board (its pictures, share links and the reactions to them) and star,
with the owner each record names; people and spending limits (the team's and each person's) and
settings only where the shared history has none of its own. Rows get ids of the shared history's own,
so two people's histories land side by side; references between them (a picture's run, a turn's
parent, a batch's cells, a board picture's board, a reaction's picture and link, a star's picture)
follow.

- The source is only read: its SQLite file is read through a backup into a temporary copy (upgraded
  there to the current schema; runs it left unfinished are marked ``interrupted`` in the copy) and its
  picture files are read where they lie.
- Each row is written with a note of where it came from (``copied_rows``) in the same transaction,
  so a second run copies nothing and a run that was killed goes on where it stopped.
- A picture's bytes are checked against their content hash before they are sent, and its row is
  written only once the storage holds them.
- At the end the counts of the source and of what the shared history holds from it are compared,
  and a summary is printed; the exit status is 0 only when every row and picture is there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

from .history import schema
from .history.blobs import BlobStore
from .history.database import insert_ignoring_duplicates
from .store import StorageError, Store, default_data_dir

__all__ = ["Summary", "copy_history", "source_identity", "main"]

# Where a row's key is its own (a content hash, a name, a person) rather than an id, no id is given it here.
_KEPT_KEYS: dict[str, tuple[str, ...]] = {
    "inputs": ("hash",), "budget_limits": ("scope",), "settings": ("name",), "people": ("owner",),
    "person_limits": ("owner", "scope"), "stars": ("image_id", "owner")}
# Settings that belong to one person's browser, not to a team's history.
_PERSONAL_SETTINGS = ("draft",)


@dataclass
class Summary:
    """What one copy did and found."""

    source: str
    copied: dict[str, int] = field(default_factory=dict)     # rows written this time, per table
    skipped: dict[str, int] = field(default_factory=dict)    # rows copied by an earlier run, per table
    source_counts: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)       # rows the shared history holds from this source
    pictures_sent: int = 0
    bytes_sent: int = 0
    pictures_checked: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.problems and all(self.held.get(k, 0) >= n for k, n in self.source_counts.items())

    def lines(self) -> list[str]:
        out = [f"Copied from {self.source} in {self.seconds:.1f} s."]
        for kind, total in self.source_counts.items():
            out.append(f"  {kind}: {total:,} in the source, {self.copied.get(kind, 0):,} copied now, "
                       f"{self.skipped.get(kind, 0):,} copied before, {self.held.get(kind, 0):,} held.")
        out.append(f"  pictures: {self.pictures_sent:,} sent ({self.bytes_sent / 1e6:,.1f} MB), "
                   f"{self.pictures_checked:,} checked against their content hash.")
        if self.complete:
            out.append("Everything is there: the counts match and every picture's bytes match its hash.")
        else:
            out += [f"Not complete: {p}" for p in self.problems] or [
                "Not complete: some rows are missing; run the same command again to go on."]
        return out


def source_identity(conn: sqlite3.Connection, folder: Path) -> str:
    """A name for a history that stays the same while it grows: its first rows and when they were made."""
    digest = hashlib.sha256()
    for table in ("runs", "conversations", "prompt_library"):
        with_rows = conn.execute(f"SELECT id, created_at FROM {table} ORDER BY id LIMIT 20" if table != "runs"
                                 else "SELECT id, started_at FROM runs ORDER BY id LIMIT 20").fetchall()
        digest.update(json.dumps([table, with_rows]).encode())
    return f"{folder.name}-{digest.hexdigest()[:16]}"


def _backup(path: Path, into: Path) -> None:
    """A consistent copy of a SQLite file that is only read (a live ImageLab may be writing it)."""
    # Without a write-ahead log nothing is writing it: read it as immutable, which leaves no -wal or -shm file
    # behind. With one (a live ImageLab), a read-only connection shares the log SQLite already keeps.
    live = path.with_name(path.name + "-wal").exists()
    source = sqlite3.connect(f"file:{path}?mode=ro" + ("" if live else "&immutable=1"), uri=True)
    target = sqlite3.connect(into)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


class _Copier:
    def __init__(self, source: Store, pictures: BlobStore, target: Store, name: str, summary: Summary,
                 progress: Callable[[str], None]) -> None:
        self.source = source
        self.pictures = pictures
        self.target = target
        self.name = name
        self.summary = summary
        self.progress = progress
        self.ids: dict[str, dict[str, int | None]] = {}
        self.sent: set[str] = set()
        # seconds between rows: a copy that a test stops partway (IMAGELAB_MIGRATE_PAUSE)
        self.pause = float(os.environ.get("IMAGELAB_MIGRATE_PAUSE") or 0)

    # --- what was copied before ----------------------------------------------------------------

    def _load_copied(self) -> None:
        with self.target.database.read() as conn:
            rows = conn.execute(select(schema.copied_rows.c.kind, schema.copied_rows.c.source_id,
                                       schema.copied_rows.c.target_id)
                                .where(schema.copied_rows.c.source == self.name)).all()
        for kind, source_id, target_id in rows:
            self.ids.setdefault(kind, {})[source_id] = target_id

    def _mapped(self, kind: str, source_id: Any) -> int | None:
        return self.ids.get(kind, {}).get(str(source_id))

    # --- pictures ------------------------------------------------------------------------------

    def _send(self, digest: str | None, fmt: str | None) -> None:
        """Put a picture's bytes in the shared storage (once), after checking them against their hash."""
        if not digest or digest in self.sent:
            return
        fmt = fmt or self._format_of(digest)
        if fmt is None:
            return
        try:
            data = self.pictures.read(digest, fmt)
        except (OSError, ValueError):
            self.summary.problems.append(f"the picture {digest[:12]}… ({fmt}) is missing from the source folder")
            self.sent.add(digest)
            return
        if hashlib.sha256(data).hexdigest() != digest:
            self.summary.problems.append(f"the picture {digest[:12]}… in the source folder does not match its "
                                         "hash (damaged); it was not sent")
            self.sent.add(digest)
            return
        waiting = self.target.spooled_count()
        if not self.target.has_bytes(digest, fmt):
            self.target.write_bytes(data, fmt)
            if self.target.spooled_count() > waiting:
                raise StorageError(self.target.root, OSError(self.target.storage_problem() or
                                                             "the shared storage did not take the picture"))
            self.summary.pictures_sent += 1
            self.summary.bytes_sent += len(data)
        self.summary.pictures_checked += 1
        self.sent.add(digest)

    def _format_of(self, digest: str) -> str | None:
        try:
            return self.source.format_of(digest)
        except KeyError:
            return None

    # --- rows ----------------------------------------------------------------------------------

    def _rows(self, table: Table) -> list[dict[str, Any]]:
        key = table.c.id if "id" in table.c else list(table.primary_key.columns)[0]
        with self.source.database.read() as conn:
            return [dict(r._mapping) for r in conn.execute(select(table).order_by(key)).all()]

    def _note(self, conn: Connection, kind: str, source_id: Any, target_id: int | None) -> None:
        conn.execute(insert(schema.copied_rows).values(source=self.name, kind=kind, source_id=str(source_id),
                                                       target_id=target_id, copied_at=time.time()))
        self.ids.setdefault(kind, {})[str(source_id)] = target_id

    def copy_table(self, table: Table, remap: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
                   pictures: Callable[[dict[str, Any]], Iterable[tuple[str | None, str | None]]] | None = None
                   ) -> None:
        kind = table.name
        rows = self._rows(table)
        self.summary.source_counts[kind] = len(rows)
        kept_key = _KEPT_KEYS.get(kind)
        for row in rows:
            source_id = ":".join(str(row[k]) for k in kept_key) if kept_key else row["id"]
            if str(source_id) in self.ids.get(kind, {}):
                self.summary.skipped[kind] = self.summary.skipped.get(kind, 0) + 1
                continue
            for digest, fmt in (pictures(row) if pictures else ()):
                self._send(digest, fmt)
            values = remap(row) if remap else dict(row)
            with self.target.database.write() as conn:
                if values is not None and kept_key:
                    insert_ignoring_duplicates(conn, table, values)
                    self._note(conn, kind, source_id, None)
                elif values is not None:
                    values.pop("id", None)
                    new_id = conn.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
                    self._note(conn, kind, source_id, int(new_id))
                else:  # nothing to copy of it (a setting of one person's browser)
                    self._note(conn, kind, source_id, None)
            self.summary.copied[kind] = self.summary.copied.get(kind, 0) + 1
            if self.pause:
                time.sleep(self.pause)
            done = self.summary.copied[kind]
            if done % 250 == 0:
                self.progress(f"{kind}: {done:,} of {len(rows):,}")

    def held(self) -> None:
        with self.target.database.read() as conn:
            counts = conn.execute(select(schema.copied_rows.c.kind, func.count())
                                  .where(schema.copied_rows.c.source == self.name)
                                  .group_by(schema.copied_rows.c.kind)).all()
        self.summary.held = {kind: int(n) for kind, n in counts}

    # --- the tables, parents first ---------------------------------------------------------------

    def run(self) -> None:
        self._load_copied()
        self.copy_table(schema.runs)
        self.copy_table(schema.inputs, pictures=lambda r: [(r["hash"], r["format"])])
        self.copy_table(schema.images, remap=self._image, pictures=lambda r: [(r["hash"], r["format"])])
        self._copy_parents()
        self.copy_table(schema.conversations)
        self.copy_table(schema.turns, remap=self._turn, pictures=self._turn_pictures)
        self.copy_table(schema.batches, remap=self._batch)
        self.copy_table(schema.prompt_library)
        self.copy_table(schema.people)
        self.copy_table(schema.stars, remap=self._star)
        self.copy_table(schema.boards)
        self.copy_table(schema.board_items, remap=self._board_item, pictures=lambda r: [(r["hash"], r["format"])])
        self.copy_table(schema.board_shares, remap=self._board_share)
        self.copy_table(schema.board_reactions, remap=self._reaction)
        self.copy_table(schema.budget_limits)
        self.copy_table(schema.person_limits)
        self.copy_table(schema.settings, remap=lambda r: None if r["name"] in _PERSONAL_SETTINGS else r)
        self.held()

    def _image(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "run_id": self._mapped("runs", row["run_id"])}

    def _copy_parents(self) -> None:
        """Lineage links have no id of their own: they go with their picture, each link once."""
        table = schema.image_parents
        with self.source.database.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(table)).all()]
        self.summary.source_counts["image_parents"] = len(rows)
        for n, row in enumerate(rows):
            key = f"{row['image_id']}:{n}"
            if key in self.ids.get("image_parents", {}):
                self.summary.skipped["image_parents"] = self.summary.skipped.get("image_parents", 0) + 1
                continue
            self._send(row["parent_hash"], None)
            with self.target.database.write() as conn:
                conn.execute(insert(table).values({**row, "image_id": self._mapped("images", row["image_id"])}))
                self._note(conn, "image_parents", key, None)
            self.summary.copied["image_parents"] = self.summary.copied.get("image_parents", 0) + 1

    def _turn(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "conversation_id": self._mapped("conversations", row["conversation_id"]),
                "parent_id": self._mapped("turns", row["parent_id"]) if row["parent_id"] is not None else None,
                "run_id": self._mapped("runs", row["run_id"]) if row["run_id"] is not None else None}

    @staticmethod
    def _turn_pictures(row: dict[str, Any]) -> list[tuple[str | None, str | None]]:
        found: list[tuple[str | None, str | None]] = [(row["image_hash"], row["image_format"]),
                                                      (row["mask_hash"], "png")]
        found += [(h, None) for h in json.loads(row["attachments"] or "[]")]
        return found

    def _star(self, row: dict[str, Any]) -> dict[str, Any] | None:
        image_id = self._mapped("images", row["image_id"])
        return None if image_id is None else {**row, "image_id": image_id}

    def _board_item(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "board_id": self._mapped("boards", row["board_id"])}

    def _board_share(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "board_id": self._mapped("boards", row["board_id"])}

    def _reaction(self, row: dict[str, Any]) -> dict[str, Any]:
        share = self._mapped("board_shares", row["share_id"]) if row["share_id"] is not None else None
        return {**row, "board_id": self._mapped("boards", row["board_id"]),
                "item_id": self._mapped("board_items", row["item_id"]), "share_id": share}

    def _batch(self, row: dict[str, Any]) -> dict[str, Any]:
        cells = [self._mapped("runs", rid) for rid in json.loads(row["run_ids"] or "[]")]
        return {**row, "run_ids": json.dumps([c for c in cells if c is not None])}


def copy_history(source_dir: Path, database_url: str, storage_url: str, *, work_dir: Path | None = None,
                 progress: Callable[[str], None] = lambda line: None) -> Summary:
    """Copy the history in ``source_dir`` into the shared one; see the module's docstring."""
    started = time.monotonic()
    db_file = source_dir / "history.sqlite3"
    if not db_file.is_file():
        raise SystemExit(f"There is no history in {source_dir} (no history.sqlite3). Give the data folder "
                         "with --from, or set IMAGELAB_DATA_DIR.")
    with tempfile.TemporaryDirectory(prefix="imagelab-migrate-", dir=work_dir) as tmp:
        copy_dir = Path(tmp) / "source"
        copy_dir.mkdir()
        _backup(db_file, copy_dir / "history.sqlite3")
        source = Store(copy_dir, database_url="", storage_url="")
        try:
            source.recover(sweep=False)  # runs the source left going are interrupted, in the copy only
            with sqlite3.connect(copy_dir / "history.sqlite3") as conn:
                name = source_identity(conn, source_dir)
            conn.close()
            summary = Summary(source=f"{source_dir} ({name})")
            # the spool of what the storage cannot take lives beside the copy, and must be empty at the end
            target = Store(Path(tmp) / "target", database_url=database_url, storage_url=storage_url)
            try:
                _Copier(source, BlobStore(source_dir / "images", source_dir), target, name, summary,
                        progress).run()
            finally:
                target.close()
        finally:
            source.close()
    summary.seconds = time.monotonic() - started
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagelab.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", default=None,
                        help="the single-user data folder (default: IMAGELAB_DATA_DIR or the per-user folder)")
    parser.add_argument("--database-url", default=os.environ.get("IMAGELAB_DATABASE_URL"),
                        help="postgresql://user:password@host:port/db (default: IMAGELAB_DATABASE_URL)")
    parser.add_argument("--storage-url", default=os.environ.get("IMAGELAB_STORAGE_URL"),
                        help="s3://bucket/prefix, with AWS_* for the endpoint and keys (default: IMAGELAB_STORAGE_URL)")
    args = parser.parse_args(argv)
    if not args.database_url or not args.storage_url:
        parser.error("give both --database-url and --storage-url (or set IMAGELAB_DATABASE_URL and "
                     "IMAGELAB_STORAGE_URL): the shared history's records and pictures")
    source = Path(args.source).expanduser() if args.source else default_data_dir()
    try:
        summary = copy_history(source, args.database_url, args.storage_url,
                               progress=lambda line: print(line, file=sys.stderr, flush=True))
    except StorageError as exc:
        print(f"The copy stopped: {exc.sentence} What was copied is kept; run the same command again to go on.",
              file=sys.stderr)
        return 1
    print("\n".join(summary.lines()))
    return 0 if summary.complete else 1


if __name__ == "__main__":
    sys.exit(main())
