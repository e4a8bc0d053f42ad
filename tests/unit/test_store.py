import datetime as dt
import os
import sqlite3
import stat
import threading
import time

import pytest

from imagelab.history import schema
from imagelab.store import StorageError, Store, content_hash
from tests.sqlite_faults import failing_sqlite


def test_run_and_images_are_saved_with_files(store):
    run = store.start_run("generate", "gpt-image-2", "a fox", {"n": 2}, {"dollars": 0.2}, "Offline backend")
    a = store.add_image(run, 0, b"\x89PNG first", "png", 10, 20)
    b = store.add_image(run, 1, b"\x89PNG second", "png", 10, 20, parents=[a.hash])
    store.finish_run(run, "ok", usage={"output_tokens": 5}, actual_dollars=0.1, request_id="req_1")
    rec = store.run(run)
    got = (rec.status, rec.request_id, rec.usage, rec.est_dollars, rec.actual_dollars)
    assert got == ("ok", "req_1", {"output_tokens": 5}, 0.2, 0.1)
    assert [i.hash for i in store.images_of_run(run)] == [a.hash, b.hash]
    assert store.read_bytes(a.hash) == b"\x89PNG first"
    assert a.hash == content_hash(b"\x89PNG first")
    assert store.path_for(a.hash, "png").parent.name == a.hash[:2]
    assert store.parents_of(b.id) == [a.hash]
    assert store.recent_images()[0].prompt == "a fox"
    assert not list(store.images_dir.rglob(".tmp-*"))


def test_a_failed_run_keeps_what_the_server_said_scrubbed(store):
    run = store.start_run("generate", "gpt-image-2", "a fox", {"n": 1})
    store.finish_run(run, "failed", request_id="req_9", error="Too many requests for now; wait 1 s and try again.",
                     api_message="Rate limit reached for key sk-proj-abcdefghijkl", api_status=429,
                     api_code="rate_limit_exceeded")
    rec = store.run(run)
    assert (rec.api_message, rec.api_status, rec.api_code) == (
        "Rate limit reached for key [redacted]", 429, "rate_limit_exceeded")
    assert store.runs()[0].api_status == 429


def test_database_uses_wal(tmp_path):
    Store(tmp_path)
    mode = sqlite3.connect(tmp_path / "history.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_paths_cannot_escape_the_data_directory(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd", "png")
    with pytest.raises(ValueError):
        store.read_bytes("../" * 20 + "x" * 4, "png")


def test_concurrent_writers_do_not_lock_each_other_out(store):
    errors = []

    def work(i):
        try:
            for j in range(10):
                run = store.start_run("generate", "m", f"p{i}", {})
                store.add_image(run, 0, f"{i}-{j}".encode(), "png", 1, 1)
                store.finish_run(run, "ok")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count_images() == 80 and all(r.status == "ok" for r in store.runs(100))


def _seed(store, prompt, model="gpt-image-2", page="generate", data=None, parents=None):
    run = store.start_run(page, model, prompt, {"quality": "low"}, {"dollars": 0.01})
    rec = store.add_image(run, 0, data or prompt.encode(), "png", 8, 8, parents=parents)
    store.finish_run(run, "ok", actual_dollars=0.02)
    return rec


def test_search_filters_and_counts(store):
    a = _seed(store, "a red fox")
    _seed(store, "a blue whale", model="gpt-image-1.5")
    _seed(store, "100% red_ish", page="reference_edit")
    store.set_starred(a.id, True)
    assert store.search_images()[1] == 3
    assert [r.prompt for r in store.search_images(text="red")[0]] == ["100% red_ish", "a red fox"]
    assert [r.prompt for r in store.search_images(text="RED FOX")[0]] == ["a red fox"]  # any case, on both engines
    assert [r.prompt for r in store.search_images(text="100%")[0]] == ["100% red_ish"]
    assert store.search_images(text="_")[1] == 1  # a literal underscore, not a wildcard
    assert [r.prompt for r in store.search_images(models=["gpt-image-1.5"])[0]] == ["a blue whale"]
    assert [r.prompt for r in store.search_images(pages=["reference_edit"])[0]] == ["100% red_ish"]
    assert [r.id for r in store.search_images(starred=True)[0]] == [a.id]
    page, total = store.search_images(limit=2, offset=2)
    assert total == 3 and len(page) == 1


def test_lineage_and_delete_keeps_files_still_referred_to(store):
    parent = _seed(store, "parent", data=b"parent-bytes")
    child = _seed(store, "child", page="mask_edit", data=b"child-bytes", parents=[parent.hash])
    assert [c.id for c in store.children_of(parent.hash)] == [child.id]
    assert store.parents_of(child.id) == [parent.hash]
    # the parent is still referred to by the child's lineage: its row goes, its file stays
    assert store.delete_image(parent.id) is False
    assert store.path_for(parent.hash, "png").exists()
    # the child refers to nothing else: its file goes too
    assert store.delete_image(child.id) is True
    assert not store.path_for(child.hash, "png").exists()
    assert store.count_images() == 0


def test_spend_by_day_and_model(store):
    _seed(store, "one")
    _seed(store, "two")
    _seed(store, "three", model="gpt-image-1.5")
    rows = store.spend_by_day_and_model()
    by_model = {r["model"]: r for r in rows}
    assert by_model["gpt-image-2"]["runs"] == 2 and abs(by_model["gpt-image-2"]["dollars"] - 0.04) < 1e-9
    assert by_model["gpt-image-1.5"]["runs"] == 1


def test_spend_is_counted_on_the_local_day_a_run_started(store):
    midnight = dt.datetime(2026, 3, 1).timestamp()  # this machine's local midnight
    for started, dollars in ((midnight - 0.3, 0.01), (midnight + 0.2, 0.02), (midnight + 86_399.9, 0.04)):
        run = store.start_run("generate", "m", "p", {})
        store.finish_run(run, "ok", actual_dollars=dollars)
        with store.database.write() as db:
            db.execute(schema.runs.update().where(schema.runs.c.id == run).values(started_at=started))
    rows = store.spend_by_day_and_model()
    assert [(r["day"], r["runs"], round(r["dollars"], 2)) for r in rows] == [
        ("2026-03-01", 2, 0.06), ("2026-02-28", 1, 0.01)]


def test_settings_table_marks_differences():
    from imagelab.compare import settings_table

    names, values, differs = settings_table([
        {"model": "gpt-image-2", "prompt": "a fox", "params": {"quality": "low", "size": "1024x1024"}},
        {"model": "gpt-image-2", "prompt": "a fox", "params": {"quality": "high", "size": "1024x1024"}},
    ])
    marked = dict(zip(names, differs, strict=True))
    assert marked == {"model": False, "prompt": False, "quality": True, "size": False}


def test_before_after_split_puts_each_side_in_place():
    import io

    import numpy as np
    from PIL import Image

    from imagelab.compare import before_after

    def solid(rgb):
        buf = io.BytesIO()
        Image.new("RGB", (200, 100), rgb).save(buf, "PNG")
        return buf.getvalue()

    out = np.asarray(Image.open(io.BytesIO(before_after(solid((255, 0, 0)), solid((0, 0, 255)), 0.25))).convert("RGB"))
    assert out[50, 10, 0] > 200 and out[50, 10, 2] < 60      # left of the split: before (red)
    assert out[50, 150, 2] > 200 and out[50, 150, 0] < 60    # right of it: after (blue)


# --- storage faults and consistency ---------------------------------------------------------

def test_the_database_is_private_to_its_user(tmp_path):
    store = Store(tmp_path / "fresh")
    assert stat.S_IMODE(store.db_path.stat().st_mode) == 0o600


def test_adding_bytes_while_they_are_being_deleted_never_leaves_a_row_without_its_file(store, monkeypatch):
    """A delete decides the file can go; at that moment the same bytes are added again."""
    run = store.start_run("generate", "m", "p", {})
    data = b"\x89PNG the same bytes twice"
    first = store.add_image(run, 0, data, "png", 1, 1)
    added = []
    real = Store._referenced

    def referenced_while_someone_adds(db, digest):
        decided = real(db, digest)
        worker = threading.Thread(target=lambda: added.append(store.add_image(run, 1, data, "png", 1, 1)))
        worker.start()
        worker.join(0.5)  # the add runs as far as it can between the delete's decision and its commit
        return decided

    monkeypatch.setattr(Store, "_referenced", staticmethod(referenced_while_someone_adds))
    store.delete_image(first.id)
    monkeypatch.undo()
    deadline = time.time() + 10
    while not added and time.time() < deadline:
        time.sleep(0.05)
    assert [r.index for r in store.images_of_run(run)] == [1]
    assert store.read_bytes(added[0].hash, "png") == data  # the new row's file is there


def test_a_full_disk_is_a_sentence_and_leaves_nothing_half_written(store, tmp_path, monkeypatch):
    import errno

    run = store.start_run("generate", "m", "p", {})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("imagelab.history.blobs.os.fsync", full)
    with pytest.raises(StorageError) as caught:
        store.add_image(run, 0, b"\x89PNG not really", "png", 1, 1)
    assert str(tmp_path) in caught.value.sentence and "Free some disk space" in caught.value.sentence
    monkeypatch.undo()
    assert store.images_of_run(run) == [] and not [p for p in store.images_dir.rglob("*") if p.is_file()]


def test_a_database_that_cannot_be_written_is_a_sentence(tmp_path, monkeypatch):
    store = Store(tmp_path)
    failing_sqlite(monkeypatch, "attempt to write a readonly database", writes_only=True)
    with pytest.raises(StorageError) as caught:
        store.start_run("generate", "m", "p", {})
    assert "Make the folder writable" in caught.value.sentence and str(tmp_path) in caught.value.sentence
    monkeypatch.undo()
    assert store.runs() == []


def test_start_up_removes_files_no_row_refers_to_and_keeps_the_rest(store):
    run = store.start_run("generate", "m", "p", {})
    kept = store.add_image(run, 0, b"kept bytes", "png", 1, 1)
    orphan = store.path_for("f" * 64, "png")
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"a file whose row never committed")
    os.utime(orphan, (time.time() - 3600, time.time() - 3600))
    young = store.path_for("e" * 64, "png")
    young.parent.mkdir(exist_ok=True)
    young.write_bytes(b"a write still committing its row")
    store.recover()
    assert not orphan.exists() and young.exists()
    assert store.path_for(kept.hash, "png").exists()
