"""``StorageError``: the history cannot be read or written, as one sentence with advice.

::

    StorageError                the history folder (its SQLite file or image files) cannot be used
     ├── NotKept                what a run brought could not be kept: says what, and the storage's own sentence
     ├── PictureStorageError    the shared picture storage (S3) cannot be reached or refuses
     ├── DatabaseUnreachable    the PostgreSQL server cannot be reached, or refused the connection
     ├── DatabaseFailed         the PostgreSQL server answered, but could not do the work
     └── NotADatabaseURL        IMAGELAB_DATABASE_URL is not a PostgreSQL URL

``StorageError`` hangs from ``imagelab.errors.ImageLabError``. Every one has a ``sentence`` that names the place
(a folder, a database's host and port, or a storage endpoint and bucket, never a password or secret) and says
what to do; the store is left as it was.
``imagelab.history.database`` and ``imagelab.history.storage`` decide which one a failure becomes.
"""

from __future__ import annotations

import errno
from pathlib import Path

from imagelab.errors import ImageLabError

__all__ = ["StorageError", "NotKept", "PictureStorageError", "DatabaseUnreachable", "DatabaseFailed", "NotADatabaseURL"]

_CHECK_URL = "IMAGELAB_DATABASE_URL"


class StorageError(ImageLabError):
    """The history folder cannot be read or written (read-only, full, missing, not a database)."""

    def __init__(self, root: Path, exc: BaseException) -> None:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        low = reason.lower()
        if "full" in low or getattr(exc, "errno", None) == errno.ENOSPC:
            advice = "Free some disk space, or set IMAGELAB_DATA_DIR to a folder on another disk."
        elif "read" in low and "only" in low or getattr(exc, "errno", None) in (errno.EACCES, errno.EROFS, errno.EPERM):
            advice = "Make the folder writable, or set IMAGELAB_DATA_DIR to a folder you can write to."
        else:
            advice = "Check the folder, or set IMAGELAB_DATA_DIR to another one."
        super().__init__(f"ImageLab cannot use its history folder {root}: {reason}. {advice}")


class NotKept(StorageError):
    """A picture, answer or record a run brought could not be kept; ``sentence`` says which, then why."""

    def __init__(self, sentence: str) -> None:
        ImageLabError.__init__(self, sentence)


class PictureStorageError(StorageError):
    """The picture storage named by ``IMAGELAB_STORAGE_URL`` cannot be reached, refuses the credentials,
    has no such bucket, or failed; or the setting itself cannot be read.

    ``sentence`` names the endpoint and bucket and says what to check; it never holds a secret.
    """

    def __init__(self, sentence: str) -> None:
        ImageLabError.__init__(self, sentence)


class DatabaseUnreachable(StorageError):
    """The PostgreSQL server at ``address`` (host:port) is down, unreachable, or refused the login."""

    def __init__(self, address: str, reason: str) -> None:
        ImageLabError.__init__(
            self, f"ImageLab cannot reach its database at {address}: {reason}. Check that the PostgreSQL server "
                  f"is running and accepts connections from this machine, and that {_CHECK_URL} names the right "
                  "host, port, database, user and password.")


class DatabaseFailed(StorageError):
    """The PostgreSQL server at ``address`` answered but could not do the work (its disk full, no rights)."""

    def __init__(self, address: str, reason: str) -> None:
        ImageLabError.__init__(
            self, f"ImageLab cannot use its database at {address}: {reason}. Check the database server (its disk "
                  f"space, this user's rights on the database), or set {_CHECK_URL} to another database.")


class NotADatabaseURL(StorageError):
    """``IMAGELAB_DATABASE_URL`` is set to something other than a PostgreSQL URL."""

    def __init__(self, shown: str | None) -> None:
        what = f"{shown!r} is not one" if shown else "what it is set to is not a URL"
        ImageLabError.__init__(
            self, f"{_CHECK_URL} must be a PostgreSQL URL such as postgresql://user:password@host:5432/imagelab; "
                  f"{what}. Correct it, or unset it to keep the history in the data folder.")
