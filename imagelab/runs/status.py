"""A run's status: the words a person reads, and the rule that names a finished run's status."""

from __future__ import annotations

# A run's status as a person reads it.
STATUS_WORDS = {"queued": "waiting for a free worker", "running": "running", "ok": "done", "partial": "partly done",
                "failed": "failed", "cancelled": "cancelled", "interrupted": "interrupted"}


def run_status(requested: int, saved: int, *, cancelled: bool = False) -> str:
    """``ok`` only when every requested image was saved; 0 images is never ``ok``."""
    if cancelled:
        return "cancelled"
    if saved == 0:
        return "failed"
    return "ok" if saved >= requested else "partial"
