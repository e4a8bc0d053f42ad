"""``Repository``: what every repository mixin of ``Store`` stands on — the database and the picture storage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection

from .database import Database
from .storage import PictureStorage

__all__ = ["Repository"]


class Repository:
    root: Path
    database: Database
    blobs: PictureStorage

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.database.read() as db:
            yield db

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises (``Database.write``)."""
        with self.database.write(durable=durable) as db:
            yield db
