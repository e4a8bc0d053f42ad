"""A throwaway PostgreSQL server for the tests: its own data folder, a free loopback port, stopped by PID.

    with postgres_server() as server:
        url = server.create_database("t_1")      # postgresql://postgres:…@127.0.0.1:PORT/t_1

It runs Debian's PostgreSQL 15 (``/usr/lib/postgresql/15/bin``; another installed major version if 15 is
not there). Run as root, the server runs as the ``postgres`` OS user, which owns the temp folder. Logins
are trusted (any password is accepted), so URLs carry a password only to show it never leaks. Nothing is
fsynced (a stopped server loses nothing committed; a crashed machine would, and the data lives only as long
as the tests anyway). ``PostgresNotInstalled`` says the binaries are missing; the caller decides whether
that skips or fails (CI must have them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

__all__ = ["PostgresNotInstalled", "PostgresServer", "postgres_server", "find_bin", "TEST_PASSWORD"]

# Sent in every URL the tests build; the server trusts the login, so only the leak checks care about it.
TEST_PASSWORD = "pw-never-shown-4f2a"


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


def find_bin() -> Path:
    """The folder with initdb and pg_ctl: PostgreSQL 15's, else the newest installed major version's."""
    preferred = Path("/usr/lib/postgresql/15/bin")
    candidates = [preferred, *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise PostgresNotInstalled("PostgreSQL's server binaries are not installed "
                               "(apt-get install postgresql-15, which brings /usr/lib/postgresql/15/bin)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One server in ``folder`` (data, socket and log inside it) on 127.0.0.1:``port``."""

    def __init__(self, folder: Path, binaries: Path) -> None:
        self.folder = folder
        self.bin = binaries
        self.data = folder / "data"
        self.sockets = folder / "sock"
        self.log = folder / "server.log"
        self.host = "127.0.0.1"
        self.port = 0
        self._as_postgres = os.geteuid() == 0
        self._databases = 0

    # --- running the server's own tools ------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        # root may not run the server: the postgres OS user does, as Debian's own scripts do
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)

    def init(self) -> None:
        self.sockets.mkdir()
        if self._as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        done = self._run(str(self.bin / "initdb"), "-A", "trust", "-U", "postgres", "-D", str(self.data), "-N",
                         "-E", "UTF8", "--no-locale")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until it accepts connections."""
        if not self.port:
            self.port = _free_port()
        options = (f"-c listen_addresses={self.host} -p {self.port} -k {self.sockets} -c fsync=off "
                   "-c full_page_writes=off -c max_connections=300")
        done = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
                         "-w", "-t", "60", "start")
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed on port {self.port}: {done.stderr or done.stdout}\n{log}")

    def pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop at once (no checkpoint): ``pg_ctl stop -m immediate``, else a SIGQUIT to its PID."""
        pid = self.pid()
        if pid is None:
            return
        done = self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "30",
                         "stop")
        if done.returncode != 0 and self.pid() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)

    # --- databases ---------------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """The URL as a person would give it (``postgresql://user:password@host:port/db``)."""
        return f"postgresql://postgres:{TEST_PASSWORD}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (``t_<n>`` unless named); returns its URL."""
        self._databases += 1
        name = name or f"t_{self._databases}"
        with psycopg.connect(host=self.host, port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running throwaway server, stopped and its folder removed afterwards."""
    binaries = find_bin()
    folder = Path(tempfile.mkdtemp(prefix="imagelab-pg-"))
    folder.chmod(0o755)
    server = PostgresServer(folder, binaries)
    try:
        server.init()
        for attempt in range(3):  # another process may take the free port between choosing and binding it
            try:
                server.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                server.port = 0
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
