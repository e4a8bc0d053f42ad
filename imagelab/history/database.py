"""``Database``: the history's SQLite file, one connection per call, migrated by ``user_version``.

Each call opens its own connection (WAL, a 30 s busy timeout, foreign keys on, rows readable by
column name), which keeps the store safe to use from several threads and sessions. A disk or
database failure becomes a ``StorageError``; integrity and programming errors stay what they are,
because they are bugs, not the disk's fault.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import StorageError

__all__ = ["Database", "new_id"]


class Database:
    def __init__(self, path: Path, root: Path) -> None:
        self.path = path
        self.root = root
        try:
            if not path.exists():  # the history is private to its user, like the image files
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StorageError(root, exc) from None

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call; a disk or database failure becomes a ``StorageError``."""
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
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

    def migrate(self, migrations: Sequence[str]) -> None:
        """Bring the schema to version ``len(migrations)``; entry i takes version i to i + 1.

        All pending migrations run in one transaction, so a failure leaves the old version whole."""
        target = len(migrations)
        with self.connect() as db:
            if db.execute("PRAGMA user_version").fetchone()[0] >= target:
                return
            db.execute("BEGIN IMMEDIATE")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for script in migrations[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {target}")
            db.execute("COMMIT")


def new_id(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just made (sqlite3 types ``lastrowid`` as optional; after an INSERT it is set)."""
    if cur.lastrowid is None:
        raise sqlite3.DatabaseError("the INSERT reported no row id")
    return cur.lastrowid
