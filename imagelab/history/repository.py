"""``Repository``: what every repository mixin of ``Store`` stands on — the database and the picture storage."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .database import Database
from .storage import PictureStorage

__all__ = ["Repository"]


class Repository:
    root: Path
    database: Database
    blobs: PictureStorage

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self.database.connect() as db:
            yield db
