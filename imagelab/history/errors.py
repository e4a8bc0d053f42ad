"""``StorageError``: the history cannot be read or written, as one sentence with advice.

    StorageError                the history folder (database or picture files) cannot be used
     └── PictureStorageError    the shared picture storage (S3) cannot be reached or refuses
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["StorageError", "PictureStorageError"]


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


class PictureStorageError(StorageError):
    """The picture storage named by ``IMAGELAB_STORAGE_URL`` cannot be reached, refuses the credentials,
    has no such bucket, or failed; or the setting itself cannot be read.

    ``sentence`` names the endpoint and bucket and says what to check; it never holds a secret.
    """

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        Exception.__init__(self, sentence)
