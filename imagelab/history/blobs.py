"""``BlobStore``: image bytes in content-addressed files, ``images/ab/abcdef….png``.

The single-user ``PictureStorage`` (``imagelab.history.storage``), and the spool where ``S3Storage``
keeps what it could not send yet.

A file is named by the SHA-256 of its bytes, so the same picture is kept once however many rows
name it. Writes go to a ``.tmp-`` file that is fsynced and renamed into place, so a file either
exists whole or not at all. The blob store knows nothing of the database: which hashes are still
referred to is the caller's to say (``sweep``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Collection
from pathlib import Path

from .errors import StorageError

__all__ = ["BlobStore", "content_hash", "EXTENSIONS", "ORPHAN_AGE_SECONDS"]

EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "gif": "gif", "svg": "svg"}

# Files no row names are removed once they are this old (younger ones may belong to a write
# whose row is still being committed).
ORPHAN_AGE_SECONDS = 60.0

_DELETED = ".tmp-deleted-"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Files under ``folder``; ``root`` is the history folder named in a ``StorageError``."""

    def __init__(self, folder: Path, root: Path) -> None:
        self.folder = folder
        self.root = root

    def path_for(self, digest: str, fmt: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("not a content hash")
        return self.folder / digest[:2] / f"{digest}.{EXTENSIONS.get(fmt, 'bin')}"

    def write(self, data: bytes, fmt: str) -> str:
        """Keep bytes under their hash, atomically; return the hash."""
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

    def read(self, digest: str, fmt: str) -> bytes:
        return self.path_for(digest, fmt).read_bytes()

    def has_bytes(self, digest: str, fmt: str) -> bool:
        return self.path_for(digest, fmt).is_file()

    @staticmethod
    def url_for(digest: str, fmt: str) -> str | None:
        """No URL: the page shows the bytes (or a thumbnail of its own folder)."""
        return None

    @staticmethod
    def copy_url(name: str, make: Callable[[], tuple[bytes, str]], *, wait: bool = True) -> str | None:
        """No copies kept here: the page keeps its thumbnails (``imagelab.thumbnails``)."""
        return None

    @staticmethod
    def forget_copies(digest: str) -> None:
        pass

    @staticmethod
    def spooled_count() -> int:
        """Nothing waits: the folder is the storage."""
        return 0

    @staticmethod
    def problem() -> str | None:
        return None

    def set_aside(self, digest: str, fmt: str) -> Path | None:
        """Move a file out of sight before its last row is deleted; ``put_back`` or ``discard`` it after.

        Returns the aside path, or None when there was no file."""
        path = self.path_for(digest, fmt)
        if not path.exists():
            return None
        aside = path.with_name(f"{_DELETED}{path.name}")
        os.replace(path, aside)
        return aside

    @staticmethod
    def put_back(aside: object | None) -> None:
        if isinstance(aside, Path) and aside.exists():
            os.replace(aside, aside.with_name(aside.name.removeprefix(_DELETED)))

    @staticmethod
    def discard(aside: object | None) -> None:
        if isinstance(aside, Path):
            aside.unlink(missing_ok=True)

    def sweep(self, known: Collection[str], min_age: float = ORPHAN_AGE_SECONDS) -> list[Path]:
        """After a restart: finish what a dead process left half done.

        A file set aside by a delete that never committed goes back when a row still names it;
        other temporary files go; files no row names (``known``: every referred hash) go once
        they are ``min_age`` seconds old. Returns the files removed."""
        removed = []
        for tmp in self.folder.glob("*/.tmp-*"):
            name = tmp.name.removeprefix(_DELETED)
            if name != tmp.name and name.split(".")[0] in known:
                os.replace(tmp, tmp.with_name(name))
            else:
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
        return removed + self.remove_unknown(known, min_age)

    def remove_unknown(self, known: Collection[str], min_age: float = ORPHAN_AGE_SECONDS) -> list[Path]:
        """Delete files whose hash is not in ``known`` and that are at least ``min_age`` seconds old."""
        cutoff = time.time() - min_age
        removed = []
        for path in self.folder.glob("*/*.*"):
            if path.name.startswith(".") or path.stem in known:
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue
        return removed
