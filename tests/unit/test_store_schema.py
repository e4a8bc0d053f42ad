"""A history written by an older ImageLab opens in this one, and a failed migration changes nothing."""

import sqlite3

import pytest

from imagelab import store as store_module
from imagelab.store import SCHEMA_VERSION, StorageError, Store


def old_history(folder):
    """A history as the first ImageLab wrote it: the version-1 tables, ``user_version`` 0, one run."""
    folder.mkdir()
    (folder / "images").mkdir()
    db = sqlite3.connect(folder / "history.sqlite3")
    db.executescript(store_module._SCHEMA_V1)
    db.execute("INSERT INTO runs(page, model, prompt, params, status, started_at, actual_dollars)"
               " VALUES ('generate', 'gpt-image-1', 'An old fox', '{\"quality\": \"low\"}', 'ok', 1.0, 0.02)")
    db.commit()
    db.close()
    return folder


def version(folder):
    db = sqlite3.connect(folder / "history.sqlite3")
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_an_old_history_is_migrated_and_keeps_its_runs(tmp_path):
    folder = old_history(tmp_path / "h")
    store = Store(folder)
    assert version(folder) == SCHEMA_VERSION
    (old,) = store.runs()
    assert (old.prompt, old.params, old.actual_dollars, old.requested, old.group_id) == (
        "An old fox", {"quality": "low"}, 0.02, None, None)
    new = store.start_run("sweep", "gpt-image-1", "A new fox", {}, requested=2, group_id="g1", label="cell")
    assert [r.id for r in store.runs(group_id="g1")] == [new]
    Store(folder)  # opening again runs no migration twice
    assert len(Store(folder).runs()) == 2


def test_a_migration_that_fails_leaves_the_old_version_whole(tmp_path, monkeypatch):
    folder = old_history(tmp_path / "h")
    broken = (*store_module._MIGRATIONS[:-1], store_module._MIGRATIONS[-1] + ";\nALTER TABLE nowhere ADD COLUMN x")
    monkeypatch.setattr(store_module, "_MIGRATIONS", broken)
    with pytest.raises(StorageError, match="no such table: nowhere"):
        Store(folder)
    assert version(folder) == 0
    db = sqlite3.connect(folder / "history.sqlite3")
    columns = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
    db.close()
    assert "group_id" not in columns  # the earlier statements of the failed migration were rolled back
    monkeypatch.undo()
    assert Store(folder).runs()[0].prompt == "An old fox"
