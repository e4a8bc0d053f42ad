"""History: runs, images and conversations in SQLite (WAL), image bytes in content-addressed files.

Layout under the data directory::

    history.sqlite3           runs, images, image_parents, inputs, conversations, turns,
                              prompt_library
    images/ab/abcdef….png     bytes named by their SHA-256, written atomically
    engines/<pid>-<nonce>     a lease per live run engine: the runs it holds (``imagelab.leases``)
    spool/ab/abcdef….png      with shared storage (IMAGELAB_STORAGE_URL): bytes waiting to be sent

``Store`` is the one object the rest of ImageLab holds. It is made of the parts in
``imagelab.history``: a ``PictureStorage`` for the bytes (a ``BlobStore`` of files, or with
``IMAGELAB_STORAGE_URL=s3://bucket/prefix`` an ``S3Storage``), a ``Database`` for the connection and
migrations, and one repository per subject (``RunRepository``, ``ImageRepository``,
``ConversationRepository``, ``BatchRepository``, ``PromptLibraryRepository``), each speaking SQL
only about its own tables. What spans them — start-up recovery and orphan removal — is here, with
the schema.

Every write commits before the caller shows anything, so nothing shown is unsaved. The schema
carries a version (``PRAGMA user_version``); ``_MIGRATIONS`` brings an older database up to date
when the store opens it: to change the schema, append a script to ``_MIGRATIONS``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs

from .history.batches import BatchRecord, BatchRepository
from .history.blobs import ORPHAN_AGE_SECONDS, BlobStore, content_hash
from .history.conversations import ConversationRepository
from .history.database import Database
from .history.errors import PictureStorageError, StorageError
from .history.images import MAX_SEARCH_TEXT, ImageRepository
from .history.prompts import PromptLibraryRepository
from .history.records import ACTIVE_STATUSES, RUN_STATUSES, ConversationRecord, ImageRecord, RunRecord, TurnRecord
from .history.runs import RunRepository
from .history.storage import S3Storage, picture_storage

__all__ = ["Store", "StorageError", "PictureStorageError", "RunRecord", "ImageRecord", "BatchRecord", "TurnRecord",
           "ConversationRecord", "default_data_dir", "content_hash", "RUN_STATUSES", "ACTIVE_STATUSES",
           "SCHEMA_VERSION", "MAX_SEARCH_TEXT"]

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

# Version 3: Batch API jobs (one row per batch, its cells are runs), spending limits and app settings.
_SCHEMA_V3 = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    group_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    backend TEXT,
    batch_id TEXT,
    status TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    run_ids TEXT NOT NULL,
    usage TEXT,
    dollars REAL,
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS batches_group ON batches(group_id);
CREATE TABLE IF NOT EXISTS budget_limits (
    scope TEXT PRIMARY KEY,
    dollars REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""

# Version 4: an image made from another result of its run (keep-exact): the raw model output is
# marked 'raw', its composite 'kept'; ``drift`` holds how far the raw one moved outside the mask (JSON).
_SCHEMA_V4 = """
ALTER TABLE images ADD COLUMN variant TEXT;
ALTER TABLE images ADD COLUMN drift TEXT;
"""

# Version 5: whether a run was paid for. The offline backend's runs cost nothing: their usage only says
# what the same request would cost on OpenAI. Older rows are judged by the backend they name.
_SCHEMA_V5 = """
ALTER TABLE runs ADD COLUMN billed INTEGER NOT NULL DEFAULT 1;
UPDATE runs SET billed = 0 WHERE backend LIKE 'Offline%'
"""

# Version 6: the words a text-only run brought back (a description, a rewritten prompt), and the prompt library.
_SCHEMA_V6 = """
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
_MIGRATIONS = (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3, _SCHEMA_V4, _SCHEMA_V5, _SCHEMA_V6)
SCHEMA_VERSION = len(_MIGRATIONS)

INTERRUPTED_SENTENCE = ("ImageLab stopped before this run finished; {saved} of {requested} image(s) had been saved "
                        "and are kept.")


def default_data_dir() -> Path:
    env = os.environ.get("IMAGELAB_DATA_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("imagelab", appauthor=False))


class Store(RunRepository, ImageRepository, ConversationRepository, BatchRepository, PromptLibraryRepository):
    """The history of one data directory."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None, *, storage_url: str | None = None) -> None:
        """``storage_url``: where pictures live (``s3://bucket/prefix``); ``IMAGELAB_STORAGE_URL`` unless
        given; the data directory's ``images`` folder when neither is set."""
        self.root = Path(data_dir) if data_dir else default_data_dir()
        self.images_dir = self.root / "images"
        self.spool_dir = self.root / "spool"
        self.db_path = self.root / "history.sqlite3"
        url = os.environ.get("IMAGELAB_STORAGE_URL", "") if storage_url is None else storage_url
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.spool_dir if url else self.images_dir).mkdir(exist_ok=True)
        except OSError as exc:
            raise StorageError(self.root, exc) from None
        self.blobs = picture_storage(url, BlobStore(self.spool_dir, self.root)) if url else \
            BlobStore(self.images_dir, self.root)
        self.database = Database(self.db_path, self.root)
        self.database.migrate(_MIGRATIONS)

    def path_for(self, digest: str, fmt: str) -> Path:
        """The file of a picture kept in the data folder (not with shared storage)."""
        if not isinstance(self.blobs, BlobStore):
            raise TypeError("pictures are kept in shared storage, not in files")
        return self.blobs.path_for(digest, fmt)

    # --- picture bytes, wherever they live --------------------------------------------------

    @property
    def shares_pictures(self) -> bool:
        """Whether pictures live in shared storage, shown to browsers by URL."""
        return isinstance(self.blobs, S3Storage)

    def has_bytes(self, digest: str, fmt: str) -> bool:
        """Whether the picture's bytes are kept (``ValueError`` for what is no content hash)."""
        return self.blobs.has_bytes(digest, fmt)

    def picture_url(self, digest: str, fmt: str) -> str | None:
        """A URL that shows the picture for a while (shared storage); ``None``: show its bytes."""
        return self.blobs.url_for(digest, fmt)

    def copy_url(self, name: str, make: Callable[[], tuple[bytes, str]]) -> str | None:
        """The URL of a copy kept beside the pictures (a thumbnail, a display copy), made by ``make`` once."""
        return self.blobs.copy_url(name, make)

    def forget_copies(self, digest: str) -> None:
        self.blobs.forget_copies(digest)

    def spooled_count(self) -> int:
        """How many pictures wait on this machine to be sent to the shared storage."""
        return self.blobs.spooled_count()

    def storage_problem(self) -> str | None:
        """Why pictures wait, as a sentence, while any do."""
        return self.blobs.problem()

    # --- after a restart --------------------------------------------------------------------

    def recover(self, resumable: Callable[[RunRecord], bool] | None = None, *, sweep: bool = True) -> list[int]:
        """After a restart: mark runs a dead process left queued or running as ``interrupted``.

        Runs for which ``resumable(run)`` is true are left as they are (the caller resumes them, or another
        live process runs them). Images already saved stay; stray temporary files are removed unless
        ``sweep`` is false (another process may be writing them). Returns the ids marked.
        """
        marked = []
        for run in self.unfinished_runs():
            if resumable is not None and resumable(run):
                continue
            saved = len({rec.index for rec in self.images_of_run(run.id)})
            self.finish_run(run.id, "interrupted", error=INTERRUPTED_SENTENCE.format(
                saved=saved, requested=run.requested or "?"), keep_usage=True)
            marked.append(run.id)
        self.interrupt_turns_of_interrupted_runs()
        if sweep:
            self.blobs.sweep(self._known_hashes())
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

    def remove_orphans(self, min_age: float = ORPHAN_AGE_SECONDS) -> Sequence[Path | str]:
        """Delete image files no row refers to (left by a write whose row never committed)."""
        return self.blobs.remove_unknown(self._known_hashes(), min_age)
