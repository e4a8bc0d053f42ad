"""``Repository``: what every repository mixin of ``Store`` stands on — the database and the blob store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .blobs import BlobStore
from .database import Database

__all__ = ["Repository"]


class Repository:
    root: Path
    database: Database
    blobs: BlobStore

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self.database.connect() as db:
            yield db
