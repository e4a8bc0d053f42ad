"""``Database``: where the history's records live — a SQLite file, or a PostgreSQL database — and its schema.

It owns the SQLAlchemy engine and is the one place that knows which engine it is: the repositories
write one set of queries, and what truly differs between SQLite and PostgreSQL is here.

- SQLite (the default): one connection per call (``NullPool``), WAL, a 30 s busy timeout, foreign
  keys on; a write takes the file's write lock when it begins (``BEGIN IMMEDIATE``), so a write's
  reads and its changes are never interleaved with another writer's. The file is private (0600).
- PostgreSQL (``IMAGELAB_DATABASE_URL``, ``postgresql://user:password@host:port/db``, spoken to through
  psycopg 3): a pool whose connections are checked before use, so the store works again by itself
  once a server that went away is back. Writes that must not interleave lock the rows they decide on
  (``SELECT … FOR UPDATE``, which SQLite ignores: its write lock already covers them).

The schema is migrated by the Alembic revisions in ``migrations/`` (``migrate``). A SQLite file from
before them carries its version in ``PRAGMA user_version``: it is stamped at that revision, then
upgraded. A disk or connection failure becomes a ``StorageError`` (see ``errors``); integrity and
programming errors stay what they are, because they are bugs, not the disk's or the network's fault.

``patiently`` runs a write again while a PostgreSQL server cannot be reached, backing off, for at most
``patience`` seconds (``PATIENCE_SECONDS``): the run engine uses it for the rows of a picture already in
storage and for a run's finish, so a database restart in the middle of a run loses nothing.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.pool import NullPool

from imagelab.text import redact_url

from .errors import DatabaseFailed, DatabaseUnreachable, NotADatabaseURL, StorageError

__all__ = ["Database", "MIGRATIONS", "PATIENCE_SECONDS", "head_revision", "postgresql_url",
           "insert_ignoring_duplicates", "upsert"]

T = TypeVar("T")

# How long a write waits for a PostgreSQL server that went away (a restart, a fail-over) before giving up.
PATIENCE_SECONDS = 30.0
# The first pause between tries, doubled after each, never longer than the last figure.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.2, 4.0

MIGRATIONS = Path(__file__).with_name("migrations")

# The PostgreSQL error classes (SQLSTATE's first two characters) that mean the server cannot be used
# from here at all: no connection, shutting down, login refused, no such database.
_UNREACHABLE_CLASSES = ("08", "57", "28", "3D")
# One key for the lock that lets a single process migrate a PostgreSQL database at a time.
_MIGRATION_LOCK_KEY = 0x1A6E1AB
_ONE_MIGRATION_AT_A_TIME = threading.Lock()


@functools.cache
def head_revision(location: Path = MIGRATIONS) -> str:
    """The newest revision in ``location`` (``"0006"`` for schema version 6)."""
    head = ScriptDirectory(str(location)).get_current_head()
    if head is None:
        raise RuntimeError(f"no schema revisions in {location}")
    return head


def postgresql_url(url: str) -> URL:
    """``url`` as psycopg 3 wants it: ``postgresql://`` (or ``postgres://``) becomes ``postgresql+psycopg://``.

    Raises ``NotADatabaseURL`` (naming the URL without its password) for anything else."""
    # text that is not even a URL is not repeated: a password may be all there is of it
    shown = redact_url(url) if "://" in url else None
    try:
        parsed = make_url(url.strip())
    except ArgumentError:
        raise NotADatabaseURL(shown) from None
    if parsed.drivername not in ("postgresql", "postgres", "postgresql+psycopg") or not parsed.database:
        raise NotADatabaseURL(shown)
    return parsed.set(drivername="postgresql+psycopg")


class Database:
    """The history's records: ``read()`` and ``write()`` hand out a connection for one call."""

    def __init__(self, engine: Engine, *, root: Path | None, address: str, password: str | None = None) -> None:
        self.engine = engine
        self.root = root              # the history folder named by a SQLite failure; None for PostgreSQL
        self.address = address        # what a failure names: the file, or host:port
        self._password = password
        self.patience = PATIENCE_SECONDS  # ``patiently``'s window; tests shorten it
        # A write's transaction takes the write lock at once on SQLite (see ``_sqlite_begin``).
        self._writer = engine.execution_options(imagelab_writes=True)
        self._lazy_writer = engine.execution_options(imagelab_writes=True, imagelab_lazy_sync=True)
        # a store that is dropped closes its pooled connections rather than leaving them to the collector
        self._keeper: sqlite3.Connection | None = None
        weakref.finalize(self, engine.dispose)

    @classmethod
    def sqlite(cls, path: Path, root: Path) -> Database:
        """The history in the SQLite file ``path`` (made private to its user if it is new)."""
        try:
            if not path.exists():  # the history is private to its user, like the image files
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise StorageError(root, exc) from None

        def connect() -> sqlite3.Connection:
            # looked up in this module at each call, so a test can stand a failing connection in for the real one
            return sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)

        engine = create_engine(f"sqlite:///{path}", creator=connect, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        database = cls(engine, root=root, address=str(path))
        database._keep_open(connect)
        return database

    @classmethod
    def postgresql(cls, url: str) -> Database:
        """The history in the PostgreSQL database ``url`` names; nothing is sent until it is used."""
        parsed = postgresql_url(url)
        host = parsed.host or "localhost"
        port = parsed.port or 5432
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        # pre-ping: a connection the server dropped (a restart) is replaced before a call uses it
        engine = create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=20,
                               connect_args={"connect_timeout": 10})
        return cls(engine, root=None, address=address, password=parsed.password)

    @property
    def shown_url(self) -> str:
        """The database's URL without its password: safe to show and log."""
        return redact_url(self.engine.url.render_as_string(hide_password=True))

    def dispose(self) -> None:
        """Close the pool's connections (a store that is put away, or a test that is done with its database)."""
        self.engine.dispose()
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None

    def _keep_open(self, connect: Callable[[], sqlite3.Connection]) -> None:
        """Hold one idle connection to a SQLite file while this object lives. Each call's connection is closed
        after it (``NullPool``); were it the last one, closing it would checkpoint the WAL into the file and
        delete it: four more waits for the disk on every write. An idle connection holds no lock."""
        try:
            keeper = connect()
            _sqlite_pragmas(keeper, None)
            keeper.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the WAL index
        except sqlite3.Error:
            return  # only slower without it: a file that cannot be opened is reported by the first real call
        self._keeper = keeper
        weakref.finalize(self, keeper.close)

    # --- one call ---------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads; a disk or connection failure becomes a ``StorageError``."""
        with self._translated(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Connection]:
        """A connection inside one transaction, committed when the block ends (rolled back on an error).

        Not ``durable``: the commit does not wait for the disk (SQLite ``synchronous=NORMAL``, PostgreSQL
        ``synchronous_commit=off``); a process that stops loses nothing, a machine that loses power may lose it.
        Only for a row whose loss costs nothing and that the next durable write to the same database makes
        durable too (a run recorded as queued: it is marked running, durably, before anything is sent)."""
        with self._translated(), (self._writer if durable else self._lazy_writer).begin() as conn:
            if not durable and conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            yield conn

    def patiently(self, call: Callable[[], T], *, once: bool = False) -> T:
        """``call()``, made again while the database cannot be reached (``DatabaseUnreachable``), waiting a
        little longer between tries, until ``patience`` seconds have passed; then its last failure is raised.
        ``once``: a single try (the caller has already waited out a window). ``call`` must be safe to make
        twice: a connection lost at COMMIT leaves unknown whether the first try was written. Other failures,
        and every failure of a SQLite file (a disk, not a server away for a moment), are raised at once."""
        deadline = None
        pause = _FIRST_PAUSE
        while True:
            try:
                return call()
            except DatabaseUnreachable:
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + (0 if once else self.patience)
                if now >= deadline:
                    raise
                time.sleep(min(pause, deadline - now))
                pause = min(pause * 2, _LONGEST_PAUSE)

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock called ``name`` against every process using this history until the block ends: on
        PostgreSQL an advisory lock of the server, on SQLite a lock on a file beside the database. For a check
        and the write it allows (a spending limit) that must not interleave with another process's."""
        if self.engine.dialect.name == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self._translated(), self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                conn.commit()
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    conn.commit()
            return
        lock_path = Path(self.address).with_name(f"{Path(self.address).name}.{name}.lock")
        try:
            handle = open(lock_path, "a+b")  # noqa: SIM115 - held for the block, closed below
        except OSError as exc:
            raise StorageError(self.root or lock_path.parent, exc) from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except (IntegrityError, ProgrammingError):
            raise
        except DBAPIError as exc:
            raise self._failure(exc) from None

    def _failure(self, exc: DBAPIError) -> StorageError:
        """The sentence a failure of this database becomes (the one table of causes)."""
        if self.root is not None:
            return StorageError(self.root, exc.orig or exc)
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0].rstrip(".")
        # psycopg says 'connection failed: connection to server at "h", port p failed: <why>': keep the why
        reason = reason.rpartition("failed: ")[2].removeprefix("FATAL:").strip() or reason
        if self._password:
            reason = reason.replace(self._password, "[redacted]")
        code = getattr(exc.orig, "sqlstate", None)
        if exc.connection_invalidated or not code or code[:2] in _UNREACHABLE_CLASSES:
            return DatabaseUnreachable(self.address, reason)
        return DatabaseFailed(self.address, reason)

    # --- the schema -------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The schema revision the database is at (None: not migrated by Alembic yet)."""
        with self.read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self, location: Path | None = None) -> None:
        """Bring the schema to the newest revision in ``location`` (the package's ``migrations``).

        All pending revisions run in one transaction, under a lock that keeps a second process out
        until they are done, so a failure leaves the old version whole."""
        location = location or MIGRATIONS
        head = head_revision(location)
        if self.revision() == head:
            return
        # Alembic keeps the running migration's context in module globals: one migration at a time in a
        # process (taken before the database's lock, so two stores never wait on each other crosswise)
        with _ONE_MIGRATION_AT_A_TIME, self.write() as conn:
            self._lock_for_migration(conn)
            known = {script.revision for script in ScriptDirectory(str(location)).walk_revisions()}
            config = Config()
            config.set_main_option("script_location", str(location))
            config.set_main_option("path_separator", "os")
            config.attributes["connection"] = conn
            current = MigrationContext.configure(conn).get_current_revision()
            if current is None:
                legacy = self._legacy_version(conn)
                if legacy:
                    current = f"{legacy:04d}"
                    if current not in known:
                        return  # written by a newer ImageLab: its extra columns are left alone
                    command.stamp(config, current)
            if current is not None and current not in known:
                return  # migrated by a newer ImageLab
            command.upgrade(config, "head")
            self._keep_legacy_version(conn, int(head))

    # What differs between the engines when migrating, in one place.

    @staticmethod
    def _lock_for_migration(conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
        # SQLite: the write transaction already holds the file's write lock

    @staticmethod
    def _legacy_version(conn: Connection) -> int:
        """A SQLite file's version before Alembic: ``user_version``, or 1 for the first tables without one."""
        if conn.dialect.name != "sqlite":
            return 0
        version = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
        if version == 0 and conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='runs'").first() is not None:
            return 1  # the first ImageLab made its tables without setting a version
        return version

    @staticmethod
    def _keep_legacy_version(conn: Connection, version: int) -> None:
        """An older ImageLab opening this SQLite file sees it is up to date and leaves its schema alone."""
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {version}")


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA busy_timeout=30000")
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _sqlite_begin(conn: Connection) -> None:
    # sqlite3 is left in autocommit; the transaction is begun here, the write lock taken at once for a write
    options = conn.get_execution_options()
    if options.get("imagelab_lazy_sync"):  # one connection per call (NullPool): this lasts for this write only
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get("imagelab_writes") else "BEGIN")


# --- statements whose SQL differs between the engines ------------------------------------------

def _insert(conn: Connection, table: Table) -> sqlite_dialect.Insert | postgresql.Insert:
    """An INSERT that can say what to do ON CONFLICT: each engine's own construct, the same SQL in effect."""
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite_dialect.insert(table)


def insert_ignoring_duplicates(conn: Connection, table: Table, values: Mapping[str, Any]) -> None:
    """Insert a row unless one with the same key is already there (``INSERT … ON CONFLICT DO NOTHING``)."""
    conn.execute(_insert(conn, table).values(dict(values)).on_conflict_do_nothing())


def upsert(conn: Connection, table: Table, values: Mapping[str, Any], key: str) -> None:
    """Insert a row, or change the one whose ``key`` column has the same value."""
    stmt = _insert(conn, table).values(dict(values))
    conn.execute(stmt.on_conflict_do_update(index_elements=[key],
                                            set_={name: stmt.excluded[name] for name in values if name != key}))
