"""The schema: a fresh database (SQLite or PostgreSQL) gets every revision, a history written by an older
ImageLab opens in this one and keeps its rows, and a failed migration changes nothing."""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import ProgrammingError

from imagelab.history import database as database_module
from imagelab.history.schema import metadata
from imagelab.store import SCHEMA_VERSION, StorageError, Store
from tests.legacy_history import SCRIPTS, old_history, user_version


def shape(store):
    """Every table's columns and indexes as the database itself reports them (the version table and the run
    queue's own tables aside: procrastinate's, on PostgreSQL only)."""
    with store.database.read() as conn:
        found = inspect(conn)
        return {table: ({c["name"] for c in found.get_columns(table)},
                        {i["name"] for i in found.get_indexes(table)})
                for table in found.get_table_names()
                if table != "alembic_version" and not table.startswith("procrastinate_")}


# What the queries are written against (imagelab/history/schema.py).
EXPECTED = {table.name: ({c.name for c in table.columns}, {i.name for i in table.indexes})
            for table in metadata.tables.values()}


def test_a_fresh_database_gets_every_revision_and_the_schema_the_queries_expect(store):
    assert store.database.revision() == f"{SCHEMA_VERSION:04d}"
    assert shape(store) == EXPECTED
    assert sorted(EXPECTED) == ["batches", "board_items", "board_reactions", "board_shares", "boards", "budget_limits",
                                "conversations", "copied_rows", "image_parents", "images", "inputs", "people",
                                "person_limits", "prompt_library", "run_previews", "runs", "settings", "stars", "turns"]


def test_the_run_queue_tables_are_made_on_postgresql_only(store):
    with store.database.read() as conn:
        tables = set(inspect(conn).get_table_names())
    queue = {"procrastinate_jobs", "procrastinate_workers", "procrastinate_events"}
    assert queue <= tables if store.database.engine.dialect.name == "postgresql" else not queue & tables


def test_new_ids_count_up_on_both_engines(store):
    first = store.start_run("generate", "m", "p", {})
    second, third = store.start_runs([{"page": "sweep", "model": "m", "prompt": "q", "params": {}}] * 2)
    assert (second, third) == (first + 1, first + 2)
    assert [r.id for r in store.runs()] == [third, second, first]


def test_servers_opening_a_fresh_database_at_once_migrate_it_once(tmp_path, database_url):
    # separate processes, as a team's servers (or two app processes on one folder) are
    opening = [subprocess.Popen([sys.executable, "-c", OPEN_STORE, str(tmp_path / "data"), database_url],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(3)]
    outputs = [p.communicate(timeout=120)[0] for p in opening]
    assert [p.returncode for p in opening] == [0, 0, 0], outputs
    store = Store(tmp_path / "data", database_url=database_url)
    assert shape(store) == EXPECTED and store.database.revision() == f"{SCHEMA_VERSION:04d}"
    store.close()


OPEN_STORE = "import sys; from imagelab.store import Store; Store(sys.argv[1], database_url=sys.argv[2]).close()"
ROOT = Path(__file__).resolve().parents[2]


def test_the_postgresql_history_keeps_no_sqlite_file(tmp_path, pg_url):
    store = Store(tmp_path, database_url=pg_url)
    store.add_image(store.start_run("generate", "m", "p", {}), 0, b"bytes", "png", 1, 1)
    store.close()
    assert store.db_path is None and not (tmp_path / "history.sqlite3").exists()
    assert len(list((tmp_path / "images").rglob("*.png"))) == 1  # the bytes still go to the data folder


@pytest.mark.parametrize("version", range(1, len(SCRIPTS) + 1))  # the versions before Alembic
def test_an_older_history_is_stamped_at_its_version_and_upgraded_in_place(tmp_path, version):
    folder = old_history(tmp_path / "h", version)
    store = Store(folder, database_url="")
    assert store.database.revision() == f"{SCHEMA_VERSION:04d}"
    assert user_version(folder) == SCHEMA_VERSION  # an older ImageLab opening it leaves its schema alone
    assert shape(store) == EXPECTED
    (old,) = store.runs()
    assert (old.prompt, old.params, old.actual_dollars, old.requested, old.group_id, old.billed) == (
        "An old fox", {"quality": "low"}, 0.02, None, None, True)
    new = store.start_run("sweep", "gpt-image-1", "A new fox", {}, requested=2, group_id="g1", label="cell")
    assert [r.id for r in store.runs(group_id="g1")] == [new]
    assert Store(folder, database_url="").runs()[0].id == new  # opening again runs no migration twice


def test_the_first_history_without_a_version_is_taken_as_version_one(tmp_path):
    folder = old_history(tmp_path / "h", 1, set_version=False)
    store = Store(folder, database_url="")
    assert store.runs()[0].prompt == "An old fox"
    assert shape(store) == EXPECTED and user_version(folder) == SCHEMA_VERSION


def broken_migrations(tmp_path, monkeypatch):
    """The package's revisions with the last one failing after its first statements have run."""
    copy = tmp_path / "migrations"
    shutil.copytree(database_module.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (last,) = copy.glob(f"versions/{SCHEMA_VERSION:04d}_*.py")
    last.write_text(last.read_text() + "    op.execute('ALTER TABLE nowhere ADD COLUMN x INTEGER')\n")
    monkeypatch.setattr(database_module, "MIGRATIONS", copy)


def test_a_migration_that_fails_leaves_the_old_version_whole(tmp_path, monkeypatch):
    folder = old_history(tmp_path / "h", 1)
    broken_migrations(tmp_path, monkeypatch)
    with pytest.raises(StorageError, match="no such table: nowhere"):
        Store(folder, database_url="")
    assert user_version(folder) == 1
    db = sqlite3.connect(folder / "history.sqlite3")
    columns = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert "group_id" not in columns and "alembic_version" not in tables  # the earlier revisions were rolled back
    monkeypatch.undo()
    assert Store(folder, database_url="").runs()[0].prompt == "An old fox"


def test_a_fresh_database_whose_migration_fails_is_left_empty(tmp_path, monkeypatch, database_url):
    broken_migrations(tmp_path, monkeypatch)
    # SQLite calls a missing table an operational error (a StorageError), PostgreSQL a programming one
    with pytest.raises((StorageError, ProgrammingError), match="nowhere"):
        Store(tmp_path / "data", database_url=database_url)
    monkeypatch.undo()
    store = Store(tmp_path / "data", database_url=database_url)  # nothing half-made stands in the way
    assert shape(store) == EXPECTED and store.runs() == []
    store.close()
