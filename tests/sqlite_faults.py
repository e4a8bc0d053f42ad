"""Failures injected where the operating system would raise them: SQLite's own connection answers as it
does for a read-only folder, a full disk or a file that cannot be opened."""

import sqlite3


def failing_sqlite(monkeypatch, message, *, writes_only=False):
    """From now on every statement (or every write) the history sends to SQLite fails with ``message``."""
    real = sqlite3.connect

    class Failing(sqlite3.Cursor):
        def execute(self, sql, *args):
            # a write begins with BEGIN IMMEDIATE (imagelab/history/database.py); a read with a plain BEGIN
            write = sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE"))
            if write or not writes_only:
                raise sqlite3.OperationalError(message)
            return super().execute(sql, *args)

    class Connection(sqlite3.Connection):
        def cursor(self, factory=Failing):
            return super().cursor(factory)

        def execute(self, sql, *args):
            return self.cursor().execute(sql, *args)

    monkeypatch.setattr("imagelab.history.database.sqlite3.connect",
                        lambda *a, **k: real(*a, factory=Connection, **k))
