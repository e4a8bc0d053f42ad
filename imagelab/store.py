"""History: runs, images and conversations in SQLite (WAL) or PostgreSQL, image bytes in content-addressed files.

Layout under the data directory::

    history.sqlite3           runs, images, image_parents, inputs, conversations, turns, batches,
                              budget_limits, settings, prompt_library, boards (not made when the records
                              are in PostgreSQL: ``IMAGELAB_DATABASE_URL``)
    images/ab/abcdef….png     bytes named by their SHA-256, written atomically
    engines/<pid>-<nonce>     a lease per live run engine: the runs it holds (``imagelab.runs.leases``)
    unrecorded/*.json         rows a database that went away mid-run could not take yet (``history.unrecorded``)
    spool/ab/abcdef….png      with shared storage (IMAGELAB_STORAGE_URL): bytes waiting to be sent

``Store`` is the one object the rest of ImageLab holds. It is made of the parts in
``imagelab.history``: a ``PictureStorage`` for the bytes (a ``BlobStore`` of files, or with
``IMAGELAB_STORAGE_URL=s3://bucket/prefix`` an ``S3Storage``), a ``Database`` for the engine and migrations,
and one repository per subject (``RunRepository``, ``ImageRepository``, ``ConversationRepository``,
``BatchRepository``, ``PromptLibraryRepository``, ``UnrecordedRepository``, ``BoardRepository``), each speaking
SQL only about its own tables. What spans them — start-up recovery and orphan removal — is here.

Every write commits before the caller shows anything, so nothing shown is unsaved. The schema is the
Alembic revisions in ``imagelab/history/migrations``; the store brings an older database up to date
when it opens it (``SCHEMA_VERSION`` is the newest revision's number).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs
from sqlalchemy import select, union

from .history.batches import BatchRecord, BatchRepository
from .history.blobs import ORPHAN_AGE_SECONDS, BlobStore, content_hash
from .history.boards import BoardRepository
from .history.conversations import ConversationRepository
from .history.database import Database, head_revision
from .history.errors import PictureStorageError, StorageError
from .history.images import MAX_SEARCH_TEXT, ImageRepository
from .history.prompts import PromptLibraryRepository
from .history.records import ACTIVE_STATUSES, RUN_STATUSES, ConversationRecord, ImageRecord, RunRecord, TurnRecord
from .history.runs import RunRepository
from .history.schema import board_items, image_parents, images, inputs, turns
from .history.storage import S3Storage, picture_storage
from .history.unrecorded import UnrecordedRepository

__all__ = ["Store", "StorageError", "PictureStorageError", "RunRecord", "ImageRecord", "BatchRecord", "TurnRecord",
           "ConversationRecord", "default_data_dir", "content_hash", "RUN_STATUSES", "ACTIVE_STATUSES",
           "SCHEMA_VERSION", "MAX_SEARCH_TEXT"]

# The newest schema revision ("0006" is version 6); a SQLite file of an older ImageLab says its version in
# ``PRAGMA user_version`` and is kept in step with this.
SCHEMA_VERSION = int(head_revision())

INTERRUPTED_SENTENCE = ("ImageLab stopped before this run finished; {saved} of {requested} image(s) had been saved "
                        "and are kept.")


def _database_url() -> str | None:
    """Where a team keeps its records: ``IMAGELAB_DATABASE_URL`` (a PostgreSQL URL), or None for the data folder."""
    return os.environ.get("IMAGELAB_DATABASE_URL") or None


def default_data_dir() -> Path:
    env = os.environ.get("IMAGELAB_DATA_DIR")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("imagelab", appauthor=False))


class Store(RunRepository, ImageRepository, ConversationRepository, BatchRepository, PromptLibraryRepository,
            UnrecordedRepository, BoardRepository):
    """The history of one data directory."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None, *, database_url: str | None = None,
                 storage_url: str | None = None) -> None:
        """The history of ``data_dir`` (``IMAGELAB_DATA_DIR`` when left out): its records in the PostgreSQL
        database ``database_url`` names (``IMAGELAB_DATABASE_URL`` when left out), else in the folder's
        ``history.sqlite3``; its pictures in the S3-compatible storage ``storage_url`` names
        (``s3://bucket/prefix``, ``IMAGELAB_STORAGE_URL`` when left out), else in the folder's ``images``.
        Pass ``""`` for either to keep it in the folder whatever the environment says."""
        url = _database_url() if database_url is None else database_url
        shared = os.environ.get("IMAGELAB_STORAGE_URL", "") if storage_url is None else storage_url
        self.root = Path(data_dir) if data_dir else default_data_dir()
        self.images_dir = self.root / "images"
        self.spool_dir = self.root / "spool"
        self.db_path: Path | None = None if url else self.root / "history.sqlite3"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.spool_dir if shared else self.images_dir).mkdir(exist_ok=True)
        except OSError as exc:
            raise StorageError(self.root, exc) from None
        self.blobs = picture_storage(shared, BlobStore(self.spool_dir, self.root)) if shared else \
            BlobStore(self.images_dir, self.root)
        self.database = Database.postgresql(url) if url else Database.sqlite(self.root / "history.sqlite3", self.root)
        try:
            self.database.migrate()
        except BaseException:
            self.database.dispose()
            raise

    def close(self) -> None:
        """Let go of the database's connections (a store that is no longer used)."""
        self.database.dispose()

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

    def copy_url(self, name: str, make: Callable[[], tuple[bytes, str]], *, wait: bool = True) -> str | None:
        """The URL of a copy kept beside the pictures (a thumbnail, a display copy), made by ``make`` once;
        ``wait=False``: a copy just made goes up in the background and this says ``None`` meanwhile."""
        return self.blobs.copy_url(name, make, wait=wait)

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
        self.record_unrecorded()  # rows a database that went away missed: the runs they finish are not interrupted
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
        named = union(select(images.c.hash), select(inputs.c.hash), select(image_parents.c.parent_hash),
                      select(turns.c.image_hash).where(turns.c.image_hash.is_not(None)),
                      select(turns.c.mask_hash).where(turns.c.mask_hash.is_not(None)), select(board_items.c.hash))
        with self._read() as db:
            known = {str(h) for h in db.execute(named).scalars()}
            for attachments in db.execute(select(turns.c.attachments)).scalars():
                known.update(json.loads(attachments or "[]"))
        return known | self.unrecorded_hashes()

    def remove_orphans(self, min_age: float = ORPHAN_AGE_SECONDS) -> Sequence[Path | str]:
        """Delete image files no row refers to (left by a write whose row never committed)."""
        return self.blobs.remove_unknown(self._known_hashes(), min_age)
