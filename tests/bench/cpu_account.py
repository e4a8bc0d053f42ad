"""Which process spent the machine's CPU over a stretch of a benchmark, read from ``/proc`` (Linux only).

    account = CpuAccount(roots={"replica-1": pid, ...})   # a snapshot now
    ...                                                   # the stretch to account
    rows = account.rows()                                 # [(label, CPU seconds, share of all cores)], biggest first

A process is counted under the nearest of its ancestors (itself included) named in ``roots``, so nginx's and
PostgreSQL's workers count with their master. Other descendants of this process are counted by their command
name (Chromium's browser, GPU and renderer processes all under "chromium"). This process's own threads are
split in two: the main thread (the benchmark and Playwright's client) and the others (the offline backend, which
runs in threads here), unless ``threads`` names them. A process that exits during the stretch loses what it
spent since the first snapshot.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["CpuAccount"]

TICK = os.sysconf("SC_CLK_TCK")
SELF_MAIN = "bench script (Playwright's client)"
SELF_THREADS = "offline backend (threads of the bench process)"


def _stat(path: Path) -> tuple[int, str, float] | None:
    """(parent pid, command name, CPU seconds) from a ``stat`` file; None when it is gone."""
    try:
        text = path.read_text()
    except OSError:
        return None
    # the command name sits in parentheses and may itself hold spaces or parentheses
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICK


def _machine_busy() -> float:
    """CPU seconds all cores spent not idle since boot."""
    parts = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = parts[3] + parts[4]  # idle + iowait
    return (sum(parts[:8]) - idle) / TICK


class CpuAccount:
    def __init__(self, roots: dict[str, int | None], threads: dict[str, int] | None = None) -> None:
        """``roots``: a label for each process named (and its descendants); ``threads``: a label for each of
        this process's threads named by their native id (the others count as the offline backend's)."""
        self.roots = {pid: label for label, pid in roots.items() if pid}
        self.threads = {tid: label for label, tid in (threads or {}).items()}
        self.start = self._snapshot()
        self.started = time.monotonic()
        self.busy = _machine_busy()

    def _snapshot(self) -> dict[tuple[str, int], tuple[str, float]]:
        procs: dict[int, tuple[int, str, float]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (found := _stat(entry / "stat")) is not None:
                procs[int(entry.name)] = found
        me = os.getpid()
        taken: dict[tuple[str, int], tuple[str, float]] = {}
        for pid, (_, name, cpu) in procs.items():
            if pid == me:
                continue
            label, up = None, pid
            while up in procs and up > 1:
                if up in self.roots:
                    label = self.roots[up]
                    break
                if procs[up][0] == me:
                    label = ("chromium" if name.startswith("chrom") else "OIDC provider" if name.startswith("python")
                             else "Playwright's driver" if name.startswith("node") else name)
                    break
                up = procs[up][0]
            if label is not None:
                taken[("proc", pid)] = (label, cpu)
        for task in Path(f"/proc/{me}/task").iterdir():
            if (found := _stat(task / "stat")) is not None:
                tid = int(task.name)
                taken[("task", tid)] = (SELF_MAIN if tid == me else self.threads.get(tid, SELF_THREADS), found[2])
        return taken

    def rows(self) -> list[tuple[str, float, float]]:
        """(label, CPU seconds since the snapshot, share of all cores over that time), biggest first, then the
        machine's total and the wall time."""
        end = self._snapshot()
        wall = time.monotonic() - self.started
        cores = os.cpu_count() or 1
        spent: dict[str, float] = {}
        for key, (label, cpu) in end.items():
            before = self.start.get(key)
            spent[label] = spent.get(label, 0.0) + cpu - (before[1] if before and before[0] == label else 0.0)
        rows = sorted(((label, cpu, cpu / (wall * cores)) for label, cpu in spent.items()), key=lambda r: -r[1])
        busy = _machine_busy() - self.busy
        return [*rows, ("whole machine (every process)", busy, busy / (wall * cores)),
                ("wall time", wall, 1.0)]
