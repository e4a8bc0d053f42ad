"""The job tray's entries: a sweep or a fan-out is one entry, a lone run is one entry.

The sidebar's tray lists what is running or waiting (with Cancel) and this session's runs that
finished while the person was elsewhere. A sweep makes many runs; listed one by one they pushed
everything else down the sidebar. ``tray_entries`` folds jobs of one group into one entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["TrayEntry", "tray_entries"]


class TrayJob(Protocol):
    """What the tray reads of a job (``imagelab.runs.engine.JobState``)."""

    run_id: int
    page: str
    prompt: str
    requested: int
    group: str | None
    status: str

    @property
    def active(self) -> bool: ...

    @property
    def elapsed(self) -> float: ...

    @property
    def saved(self) -> int: ...


@dataclass(frozen=True)
class TrayEntry:
    """One line of the tray: a lone run, or every run of a group (a sweep, a fan-out)."""

    page: str
    prompt: str                 # the lone run's prompt, or the first run's of the group
    run_ids: tuple[int, ...]
    running: int
    queued: int
    finished: int
    saved: int                  # pictures saved, over the entry's runs
    requested: int              # pictures asked for
    elapsed: float              # seconds, the longest of its runs
    status: str                 # a lone run's own status; a group's: the worst of its finished runs

    @property
    def grouped(self) -> bool:
        return len(self.run_ids) > 1

    @property
    def active_ids(self) -> tuple[int, ...]:
        return self.run_ids[self.finished:] if self.running + self.queued else ()


_WORST_FIRST = ("failed", "interrupted", "cancelled", "partial", "ok")


def tray_entries(jobs: Iterable[TrayJob]) -> list[TrayEntry]:
    """The jobs as tray entries, in the order their first job came; a group's jobs make one entry.

    ``active_ids`` of an entry are its queued and running runs (finished ones first in ``run_ids``)."""
    grouped: dict[str, list[TrayJob]] = {}
    for job in jobs:
        grouped.setdefault(job.group or f"run-{job.run_id}", []).append(job)
    entries = []
    for members in grouped.values():
        members.sort(key=lambda j: (j.active, j.run_id))
        done = [j for j in members if not j.active]
        statuses = {j.status for j in done}
        worst = next((s for s in _WORST_FIRST if s in statuses), members[0].status)
        entries.append(TrayEntry(
            page=members[0].page, prompt=min(members, key=lambda j: j.run_id).prompt,
            run_ids=tuple(j.run_id for j in members),
            running=sum(1 for j in members if j.status == "running"),
            queued=sum(1 for j in members if j.status == "queued"), finished=len(done),
            saved=sum(j.saved for j in members), requested=sum(j.requested for j in members),
            elapsed=max(j.elapsed for j in members),
            status=members[0].status if len(members) == 1 else worst))
    return entries
