"""``StorageError``: the history folder cannot be read or written, as one sentence with advice."""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["StorageError"]


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
