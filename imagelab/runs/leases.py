"""Which process runs which run: a lease file per live run engine, so two processes can share a data folder.

A run belongs to the process whose engine runs it. Each engine keeps a file under
``<data dir>/engines/<pid>-<nonce>`` naming its process, its host and the runs and batch rows it holds,
and rewrites it every ``heartbeat`` seconds. At start-up another engine interrupts only the runs no live
lease holds: a lease is dead when its file has not been rewritten for ``STALE_BEATS`` heartbeats, or when
its process is gone from this host. So a second app on the folder leaves the first one's runs alone, and
the runs of a killed one are interrupted once its lease is dead.

A run row is written before its id is known, so an engine marks the moment it starts writing one
(``starting``); a live lease holds every unfinished run that started after such a mark.

    lease = EngineLease(data_dir)          # this engine's file, beating in a thread
    with lease.starting():
        run_id = store.start_run(...)
        lease.hold(run_id)
    claims = live_claims(data_dir, own=lease)
    claims.holds(run.id, run.started_at)   # another live engine runs it: leave it be
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["EngineLease", "Claims", "live_claims", "HEARTBEAT_SECONDS", "STALE_BEATS"]

HEARTBEAT_SECONDS = 2.0
STALE_BEATS = 3  # a lease not rewritten for this many heartbeats is dead
_SLACK_SECONDS = 1.0  # a run row's start time may read a little before the mark made just ahead of it


def _folder(data_dir: Path) -> Path:
    return Path(data_dir) / "engines"


class EngineLease:
    """This engine's lease: its file, rewritten every ``heartbeat`` seconds by a daemon thread until ``close``."""

    def __init__(self, data_dir: Path, heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.heartbeat = heartbeat
        self.host = socket.gethostname()
        self.path = _folder(data_dir) / f"{os.getpid()}-{secrets.token_hex(4)}"
        self._runs: set[int] = set()
        self._batches: set[int] = set()
        self._starting: dict[int, float] = {}  # mark -> when a run row started being written
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._write()
        threading.Thread(target=self._beat, name=f"imagelab-lease-{self.path.name}", daemon=True).start()

    @contextlib.contextmanager
    def starting(self) -> Iterator[None]:
        """Around writing a run row: until its id is held, every run started from now on counts as held."""
        mark = secrets.randbits(48)
        with self._lock:
            self._starting[mark] = time.time()
        self._write()
        try:
            yield
        finally:
            with self._lock:
                self._starting.pop(mark, None)
            self._write()

    def hold(self, run_id: int) -> None:
        with self._lock:
            self._runs.add(run_id)
            if self._starting:  # the file already claims every run started meanwhile; the end of starting writes
                return
        self._write()

    def release(self, run_id: int) -> None:
        with self._lock:
            self._runs.discard(run_id)
        self._write()

    def hold_batch(self, row_id: int) -> None:
        with self._lock:
            self._batches.add(row_id)
        self._write()

    def release_batch(self, row_id: int) -> None:
        with self._lock:
            self._batches.discard(row_id)
        self._write()

    def close(self) -> None:
        """The engine has stopped: its runs are no longer held by anyone."""
        self._closed.set()
        with self._lock:
            self.path.unlink(missing_ok=True)

    def _beat(self) -> None:
        while not self._closed.wait(self.heartbeat):
            self._write()

    def _write(self) -> None:
        """The file, replaced whole (a reader never sees half of it); a folder that cannot be written is
        left to the store to report, and this engine's runs are then simply not held."""
        with self._lock:
            if self._closed.is_set():
                return
            body = {"pid": os.getpid(), "host": self.host, "heartbeat": self.heartbeat, "runs": sorted(self._runs),
                    "batches": sorted(self._batches), "starting": min(self._starting.values(), default=None)}
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            with contextlib.suppress(OSError):
                self.path.parent.mkdir(exist_ok=True)
                tmp.write_text(json.dumps(body))
                os.replace(tmp, self.path)


@dataclass
class Claims:
    """What the live engines other than one's own hold."""

    runs: set[int] = field(default_factory=set)
    batches: set[int] = field(default_factory=set)
    starting: list[float] = field(default_factory=list)  # runs started after any of these are held
    engines: int = 0  # how many other live engines there are

    def holds(self, run_id: int, started_at: float) -> bool:
        return run_id in self.runs or any(started_at >= t - _SLACK_SECONDS for t in self.starting)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, but alive
        return True
    return True


def live_claims(data_dir: Path, own: EngineLease | None = None, now: float | None = None) -> Claims:
    """What the live leases in ``data_dir`` hold, ``own`` left out; dead lease files are removed on the way."""
    claims = Claims()
    now = time.time() if now is None else now
    host = socket.gethostname()
    try:
        files = [p for p in _folder(data_dir).iterdir() if not p.name.startswith(".")]
    except OSError:
        return claims
    for path in files:
        if own is not None and path == own.path:
            continue
        try:
            age = now - path.stat().st_mtime
            body = json.loads(path.read_text())
            beat = float(body.get("heartbeat") or HEARTBEAT_SECONDS)
            dead = age > STALE_BEATS * beat or (body.get("host") == host and not _process_alive(int(body["pid"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # replaced or removed while read, or not a lease: nobody's claim
        if dead:
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        claims.engines += 1
        claims.runs.update(int(r) for r in body.get("runs") or [])
        claims.batches.update(int(b) for b in body.get("batches") or [])
        if body.get("starting") is not None:
            claims.starting.append(float(body["starting"]))
    return claims
