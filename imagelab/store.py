"""History: a SQLite database (WAL) of runs and images, and image bytes in content-addressed files.

Layout under the data directory::

    history.sqlite3           runs, images, image_parents, prompt_library
    images/ab/abcdef….png     bytes named by their SHA-256, written atomically

Every write commits before the caller shows anything, so nothing shown is unsaved. Each call
opens its own connection, which keeps the store safe to use from several threads and sessions.

A run's ``status`` moves ``queued → running → ok | partial | failed | cancelled | interrupted``
(see ``RUN_STATUSES``). The schema carries a version (``PRAGMA user_version``); ``_MIGRATIONS``
brings an older database up to date when the store opens it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from .library import LibraryPrompt
from .svg import NotAnSvg, sanitize_svg

__all__ = ["Store", "StorageError", "RunRecord", "ImageRecord", "TurnRecord", "ConversationRecord", "default_data_dir",
           "content_hash", "RUN_STATUSES", "ACTIVE_STATUSES", "SCHEMA_VERSION"]

RUN_STATUSES = ("queued", "running", "ok", "partial", "failed", "cancelled", "interrupted")
ACTIVE_STATUSES = ("queued", "running")

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    page TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    request_id TEXT,
    error TEXT,
    estimate TEXT,
    usage TEXT,
    est_dollars REAL,
    actual_dollars REAL,
    backend TEXT,
    started_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    hash TEXT NOT NULL,
    format TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    bytes INTEGER NOT NULL,
    revised_prompt TEXT,
    starred INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS image_parents (
    image_id INTEGER NOT NULL REFERENCES images(id),
    parent_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'input'
);
CREATE TABLE IF NOT EXISTS inputs (
    hash TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    filename TEXT,
    bytes INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    parent_id INTEGER REFERENCES turns(id),
    run_id INTEGER REFERENCES runs(id),
    prompt TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    mask_hash TEXT,
    response_id TEXT,
    image_call_id TEXT,
    image_hash TEXT,
    image_format TEXT,
    revised_prompt TEXT,
    reply TEXT,
    status TEXT NOT NULL,
    error TEXT,
    note TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation_id, id);
CREATE INDEX IF NOT EXISTS images_created ON images(created_at DESC);
CREATE INDEX IF NOT EXISTS images_hash ON images(hash);
CREATE INDEX IF NOT EXISTS images_run ON images(run_id);
"""

# Version 2: what the run engine needs to show, group and resume a run.
_SCHEMA_V2 = """
ALTER TABLE runs ADD COLUMN requested INTEGER;
ALTER TABLE runs ADD COLUMN group_id TEXT;
ALTER TABLE runs ADD COLUMN label TEXT;
ALTER TABLE runs ADD COLUMN response_id TEXT;
ALTER TABLE runs ADD COLUMN sequence INTEGER;
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_page ON runs(page, id);
CREATE INDEX IF NOT EXISTS runs_group ON runs(group_id);
"""

# Version 3: the words a text-only run brought back (a description, a rewritten prompt), and the prompt library.
_SCHEMA_V3 = """
ALTER TABLE runs ADD COLUMN reply TEXT;
CREATE TABLE IF NOT EXISTS prompt_library (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS prompt_library_created ON prompt_library(created_at DESC);
"""

# Each entry brings the schema from version i to i + 1.
_MIGRATIONS = (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3)
SCHEMA_VERSION = len(_MIGRATIONS)

INTERRUPTED_SENTENCE = ("ImageLab stopped before this run finished; {saved} of {requested} image(s) had been saved "
                        "and are kept.")

_EXT = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif", "svg": "svg"}


def default_data_dir() -> Path:
    env = os.environ.get("IMAGELAB_DATA_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("imagelab", appauthor=False))


MAX_SEARCH_TEXT = 500  # far below SQLite's LIKE pattern limit, even escaped


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ImageRecord:
    id: int
    run_id: int
    index: int
    hash: str
    format: str
    width: int | None
    height: int | None
    bytes: int
    created_at: float
    prompt: str = ""
    model: str = ""
    page: str = ""
    revised_prompt: str | None = None
    starred: bool = False
    actual_dollars: float | None = None

    @property
    def filename(self) -> str:
        return f"imagelab-{self.hash[:12]}.{_EXT.get(self.format, self.format)}"


@dataclass(frozen=True)
class RunRecord:
    id: int
    page: str
    model: str
    prompt: str
    params: dict[str, Any]
    status: str
    request_id: str | None
    error: str | None
    estimate: dict[str, Any] | None
    usage: dict[str, Any] | None
    est_dollars: float | None
    actual_dollars: float | None
    started_at: float
    finished_at: float | None
    backend: str | None = None
    requested: int | None = None
    group_id: str | None = None
    label: str | None = None
    response_id: str | None = None
    sequence: int | None = None
    reply: str | None = None  # the words a text-only run brought back

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    title: str
    created_at: float
    updated_at: float
    turns: int = 0


@dataclass(frozen=True)
class TurnRecord:
    id: int
    conversation_id: int
    parent_id: int | None
    run_id: int | None
    prompt: str
    attachments: list[str]
    mask_hash: str | None
    response_id: str | None
    image_call_id: str | None
    image_hash: str | None
    image_format: str | None
    revised_prompt: str | None
    reply: str | None
    status: str
    error: str | None
    note: str | None
    created_at: float
    usage: dict[str, Any] | None = None
    actual_dollars: float | None = None
    est_dollars: float | None = None
    request_id: str | None = None


class StorageError(Exception):
    """The history folder cannot be read or written (read-only, full, missing, not a database).

    ``sentence`` names the folder and says what to do; the store is left as it was.
    """

    def __init__(self, root: Path, exc: BaseException) -> None:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        low = reason.lower()
        if "full" in low or getattr(exc, "errno", None) == errno.ENOSPC:
            advice = "Free some disk space, or set IMAGELAB_DATA_DIR to a folder on another disk."
        elif "read" in low and "only" in low or getattr(exc, "errno", None) in (errno.EACCES, errno.EROFS, errno.EPERM):
            advice = "Make the folder writable, or set IMAGELAB_DATA_DIR to a folder you can write to."
        else:
            advice = "Check the folder, or set IMAGELAB_DATA_DIR to another one."
        self.sentence = f"ImageLab cannot use its history folder {root}: {reason}. {advice}"
        super().__init__(self.sentence)


# Files in the images folder that no row names are removed at start-up once they are this old
# (younger ones may belong to a write that is still committing its row).
_ORPHAN_AGE_SECONDS = 60.0


class Store:
    """The history of one data directory."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(data_dir) if data_dir else default_data_dir()
        self.images_dir = self.root / "images"
        self.db_path = self.root / "history.sqlite3"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.images_dir.mkdir(exist_ok=True)
            if not self.db_path.exists():  # the history is private to its user, like the image files
                os.close(os.open(self.db_path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StorageError(self.root, exc) from None
        self._migrate()

    def _migrate(self) -> None:
        """Bring the database to ``SCHEMA_VERSION``, one migration at a time, each in a transaction."""
        with self._db() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
                return
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for script in _MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call; a disk or database failure becomes a ``StorageError``."""
        try:
            db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(self.root, exc) from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA foreign_keys=ON")
            db.row_factory = sqlite3.Row
            yield db
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError)):
                raise
            raise StorageError(self.root, exc) from None
        finally:
            db.close()

    # --- files ------------------------------------------------------------------------------

    def path_for(self, digest: str, fmt: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a content hash")
        return self.images_dir / digest[:2] / f"{digest}.{_EXT.get(fmt, 'bin')}"

    def write_bytes(self, data: bytes, fmt: str) -> str:
        """Store bytes under their hash, atomically; return the hash."""
        digest = content_hash(data)
        path = self.path_for(digest, fmt)
        if path.exists():
            return digest
        tmp = None
        try:
            path.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise StorageError(self.root, exc) from None
        except BaseException:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def read_bytes(self, digest: str, fmt: str | None = None) -> bytes:
        if fmt is None:
            fmt = self.format_of(digest)
        return self.path_for(digest, fmt).read_bytes()

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

    # --- runs -------------------------------------------------------------------------------

    def start_run(self, page: str, model: str, prompt: str, params: dict[str, Any],
                  estimate: dict[str, Any] | None = None, backend: str | None = None, *, status: str = "running",
                  requested: int | None = None, group_id: str | None = None, label: str | None = None) -> int:
        """A new run row (``queued`` when the engine will send it later); returns its id."""
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO runs(page, model, prompt, params, status, estimate, est_dollars, backend, started_at,"
                " requested, group_id, label) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (page, model, prompt, json.dumps(params), status, json.dumps(estimate) if estimate else None,
                 (estimate or {}).get("dollars"), backend, time.time(), requested, group_id, label))
            return _new_id(cur)

    def mark_running(self, run_id: int) -> None:
        with self._db() as db:
            db.execute("UPDATE runs SET status='running' WHERE id=? AND status='queued'", (run_id,))

    def set_resume_point(self, run_id: int, response_id: str, sequence: int | None) -> None:
        """Remember where a background response's event stream was, so it can be resumed after a restart."""
        with self._db() as db:
            db.execute("UPDATE runs SET response_id=?, sequence=? WHERE id=?", (response_id, sequence, run_id))

    def unfinished_runs(self) -> list[RunRecord]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM runs WHERE status IN ('queued','running') ORDER BY id").fetchall()
        return [_run_record(r) for r in rows]

    def recover(self, resumable: Any = None) -> list[int]:
        """After a restart: mark runs a dead process left queued or running as ``interrupted``.

        Runs for which ``resumable(run)`` is true are left as they are (the caller resumes them).
        Images already saved stay; stray temporary files are removed. Returns the ids marked.
        """
        marked = []
        for run in self.unfinished_runs():
            if resumable is not None and resumable(run):
                continue
            saved = len(self.images_of_run(run.id))
            self.finish_run(run.id, "interrupted", error=INTERRUPTED_SENTENCE.format(
                saved=saved, requested=run.requested or "?"), keep_usage=True)
            marked.append(run.id)
        with self._db() as db:
            db.execute("UPDATE turns SET status='interrupted', error=? WHERE status IN ('queued','running')"
                       " AND run_id IN (SELECT id FROM runs WHERE status='interrupted')",
                       ("ImageLab stopped before this turn finished.",))
        known = self._known_hashes()
        for tmp in self.images_dir.glob("*/.tmp-*"):
            name = tmp.name.removeprefix(".tmp-deleted-")
            if name != tmp.name and name.split(".")[0] in known:  # a delete that never committed
                os.replace(tmp, tmp.with_name(name))
            else:
                tmp.unlink(missing_ok=True)
        self.remove_orphans()
        return marked

    def _known_hashes(self) -> set[str]:
        """Every content hash a row of the history refers to."""
        with self._db() as db:
            known = {r[0] for r in db.execute("SELECT hash FROM images UNION SELECT hash FROM inputs"
                                              " UNION SELECT parent_hash FROM image_parents"
                                              " UNION SELECT image_hash FROM turns WHERE image_hash IS NOT NULL"
                                              " UNION SELECT mask_hash FROM turns WHERE mask_hash IS NOT NULL")}
            for (attachments,) in db.execute("SELECT attachments FROM turns"):
                known.update(json.loads(attachments or "[]"))
        return known

    def remove_orphans(self, min_age: float = _ORPHAN_AGE_SECONDS) -> list[Path]:
        """Delete image files no row refers to (left by a write whose row never committed)."""
        known = self._known_hashes()
        cutoff = time.time() - min_age
        removed = []
        for path in self.images_dir.glob("*/*.*"):
            if path.name.startswith(".") or path.stem in known:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue
        return removed

    def add_image(self, run_id: int, index: int, data: bytes, fmt: str, width: int | None, height: int | None,
                  revised_prompt: str | None = None, parents: list[str] | None = None) -> ImageRecord:
        """Save one result: the file first, then its row, so a row never points at nothing.

        Both happen under the database's write lock, which ``delete_image`` also holds while it
        removes a file, so adding and deleting the same bytes can never interleave. An SVG is kept
        sanitised (``imagelab.svg``), so even opening the file itself runs nothing.
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
                "INSERT INTO images(run_id, idx, hash, format, width, height, bytes, revised_prompt, created_at)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (run_id, index, digest, fmt, width, height, len(data), revised_prompt, now))
            image_id = _new_id(cur)
            for parent in parents or []:
                db.execute("INSERT INTO image_parents(image_id, parent_hash) VALUES (?,?)", (image_id, parent))
            db.execute("COMMIT")
        return ImageRecord(image_id, run_id, index, digest, fmt, width, height, len(data), now,
                           revised_prompt=revised_prompt)

    def set_reply(self, run_id: int, text: str) -> None:
        """Keep the words a text-only run brought back, before the run is shown as finished."""
        with self._db() as db:
            db.execute("UPDATE runs SET reply=? WHERE id=?", (text, run_id))

    # --- the prompt library -------------------------------------------------------------------

    def save_prompt(self, title: str, text: str, tags: tuple[str, ...] | list[str] = (), source: str = "") -> int:
        """Keep a prompt in the library; returns its id."""
        with self._db() as db:
            cur = db.execute("INSERT INTO prompt_library(title, text, tags, source, created_at) VALUES (?,?,?,?,?)",
                             (title, text, json.dumps(list(tags)), source, time.time()))
            return _new_id(cur)

    def saved_prompts(self) -> list[LibraryPrompt]:
        """Every saved prompt, newest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM prompt_library ORDER BY created_at DESC, id DESC").fetchall()
        return [LibraryPrompt(title=r["title"], text=r["text"], tags=tuple(_loads(r["tags"]) or ()), id=r["id"],
                              source=r["source"], created_at=r["created_at"]) for r in rows]

    def delete_prompt(self, prompt_id: int) -> bool:
        with self._db() as db:
            return db.execute("DELETE FROM prompt_library WHERE id=?", (prompt_id,)).rowcount > 0

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
        return _run_record(row)

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
        return [_run_record(r) for r in rows]

    def count_runs(self, *, page: str | None = None) -> int:
        with self._db() as db:
            if page is None:
                return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
            return int(db.execute("SELECT COUNT(*) FROM runs WHERE page=?", (page,)).fetchone()[0])

    # --- images -----------------------------------------------------------------------------

    _IMAGE_SELECT = ("SELECT images.*, runs.prompt AS prompt, runs.model AS model, runs.page AS page,"
                     " runs.actual_dollars AS actual_dollars FROM images JOIN runs ON runs.id = images.run_id")

    def recent_images(self, limit: int = 48, offset: int = 0) -> list[ImageRecord]:
        with self._db() as db:
            rows = db.execute(self._IMAGE_SELECT + " ORDER BY images.created_at DESC, images.id DESC LIMIT ? OFFSET ?",
                              (limit, offset)).fetchall()
        return [_image_record(r) for r in rows]

    def images_of_run(self, run_id: int) -> list[ImageRecord]:
        with self._db() as db:
            rows = db.execute(self._IMAGE_SELECT + " WHERE run_id=? ORDER BY idx", (run_id,)).fetchall()
        return [_image_record(r) for r in rows]

    def image_by_hash(self, digest: str) -> ImageRecord:
        with self._db() as db:
            row = db.execute(self._IMAGE_SELECT + " WHERE hash=? ORDER BY images.id DESC LIMIT 1", (digest,)).fetchone()
        if row is None:
            raise KeyError(digest)
        return _image_record(row)

    def count_images(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM images").fetchone()[0])

    # --- conversations --------------------------------------------------------------------

    def new_conversation(self, title: str) -> int:
        now = time.time()
        with self._db() as db:
            cur = db.execute("INSERT INTO conversations(title, created_at, updated_at) VALUES (?,?,?)",
                             (title[:120] or "Untitled conversation", now, now))
            return _new_id(cur)

    def conversations(self, limit: int = 50) -> list[ConversationRecord]:
        with self._db() as db:
            rows = db.execute("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) AS n"
                              " FROM conversations c ORDER BY updated_at DESC LIMIT ?", (limit,)).fetchall()
        return [ConversationRecord(r["id"], r["title"], r["created_at"], r["updated_at"], r["n"]) for r in rows]

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
            return _new_id(cur)

    _TURN_FIELDS = frozenset({"run_id", "response_id", "image_call_id", "image_hash", "image_format",
                              "revised_prompt", "reply", "status", "error", "note", "attachments"})

    def update_turn(self, turn_id: int, **fields: Any) -> None:
        """Fill in a turn once its run has finished (its image, reply, ids and status)."""
        unknown = set(fields) - self._TURN_FIELDS
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

    def latest_conversation(self) -> int | None:
        with self._db() as db:
            row = db.execute("SELECT id FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1").fetchone()
        return int(row[0]) if row else None

    def turns(self, conversation_id: int) -> list[TurnRecord]:
        """Every turn of a conversation, oldest first, with its run's usage and cost."""
        with self._db() as db:
            rows = db.execute(
                "SELECT t.*, r.usage AS usage, r.actual_dollars AS actual_dollars, r.est_dollars AS est_dollars,"
                " r.request_id AS request_id FROM turns t LEFT JOIN runs r ON r.id = t.run_id"
                " WHERE t.conversation_id=? ORDER BY t.id", (conversation_id,)).fetchall()
        return [TurnRecord(r["id"], r["conversation_id"], r["parent_id"], r["run_id"], r["prompt"],
                           json.loads(r["attachments"]), r["mask_hash"], r["response_id"], r["image_call_id"],
                           r["image_hash"], r["image_format"], r["revised_prompt"], r["reply"], r["status"], r["error"],
                           r["note"], r["created_at"], _loads(r["usage"]), r["actual_dollars"], r["est_dollars"],
                           r["request_id"]) for r in rows]

    # --- gallery ----------------------------------------------------------------------------

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
            rows = db.execute(self._IMAGE_SELECT + where + " ORDER BY images.created_at DESC, images.id DESC"
                              " LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [_image_record(r) for r in rows], int(total)

    def image(self, image_id: int) -> ImageRecord:
        with self._db() as db:
            row = db.execute(self._IMAGE_SELECT + " WHERE images.id=?", (image_id,)).fetchone()
        if row is None:
            raise KeyError(image_id)
        return _image_record(row)

    def set_starred(self, image_id: int, starred: bool) -> None:
        with self._db() as db:
            db.execute("UPDATE images SET starred=? WHERE id=?", (1 if starred else 0, image_id))

    def children_of(self, digest: str) -> list[ImageRecord]:
        """Images made from this one (it was among their inputs)."""
        with self._db() as db:
            rows = db.execute(self._IMAGE_SELECT + " WHERE images.id IN (SELECT image_id FROM image_parents"
                              " WHERE parent_hash=?) ORDER BY images.id", (digest,)).fetchall()
        return [_image_record(r) for r in rows]

    def used_models_and_pages(self) -> tuple[list[str], list[str]]:
        with self._db() as db:
            models = [r[0] for r in db.execute("SELECT DISTINCT model FROM runs ORDER BY model")]
            pages = [r[0] for r in db.execute("SELECT DISTINCT page FROM runs ORDER BY page")]
        return models, pages

    def spend_by_day_and_model(self) -> list[dict[str, Any]]:
        """Actual spend per day and model (local time), newest day first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT date(started_at, 'unixepoch', 'localtime') AS day, model, COUNT(*) AS runs,"
                " COALESCE(SUM(actual_dollars), 0) AS dollars, COALESCE(SUM(est_dollars), 0) AS estimated"
                " FROM runs WHERE status NOT IN ('queued', 'running')"
                " GROUP BY day, model ORDER BY day DESC, dollars DESC").fetchall()
        return [dict(r) for r in rows]

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
            path = self.path_for(row["hash"], row["format"])
            # Set the file aside while the write lock is held (add_image waits for it), put it back
            # if the delete does not commit.
            aside = path.with_name(f".tmp-deleted-{path.name}")
            if not keep and path.exists():
                os.replace(path, aside)
            try:
                db.execute("COMMIT")
            except BaseException:
                if aside.exists():
                    os.replace(aside, path)
                raise
        aside.unlink(missing_ok=True)
        return not keep

    def parents_of(self, image_id: int) -> list[str]:
        with self._db() as db:
            return [r[0] for r in db.execute("SELECT parent_hash FROM image_parents WHERE image_id=?", (image_id,))]


def _new_id(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made (sqlite3 types ``lastrowid`` as optional; after an INSERT it is set)."""
    if cur.lastrowid is None:
        raise sqlite3.DatabaseError("the INSERT reported no row id")
    return cur.lastrowid


def _safe_svg(data: bytes) -> bytes:
    """The SVG sanitised; markup that cannot be read is kept as it came (it is never shown raw)."""
    try:
        return sanitize_svg(data)
    except NotAnSvg:
        return data


def _loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def _run_record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(id=row["id"], page=row["page"], model=row["model"], prompt=row["prompt"],
                     params=_loads(row["params"]) or {}, status=row["status"], request_id=row["request_id"],
                     error=row["error"], estimate=_loads(row["estimate"]), usage=_loads(row["usage"]),
                     est_dollars=row["est_dollars"], actual_dollars=row["actual_dollars"],
                     started_at=row["started_at"], finished_at=row["finished_at"], backend=row["backend"],
                     requested=row["requested"], group_id=row["group_id"], label=row["label"],
                     response_id=row["response_id"], sequence=row["sequence"], reply=row["reply"])


def _image_record(row: sqlite3.Row) -> ImageRecord:
    return ImageRecord(row["id"], row["run_id"], row["idx"], row["hash"], row["format"], row["width"], row["height"],
                       row["bytes"], row["created_at"], prompt=row["prompt"], model=row["model"], page=row["page"],
                       revised_prompt=row["revised_prompt"], starred=bool(row["starred"]),
                       actual_dollars=row["actual_dollars"])
