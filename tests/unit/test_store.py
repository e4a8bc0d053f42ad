import sqlite3
import threading

import pytest

from imagelab.store import Store, content_hash


def test_run_and_images_are_saved_with_files(tmp_path):
    store = Store(tmp_path)
    run = store.start_run("generate", "gpt-image-2", "a fox", {"n": 2}, {"dollars": 0.2}, "Offline backend")
    a = store.add_image(run, 0, b"\x89PNG first", "png", 10, 20)
    b = store.add_image(run, 1, b"\x89PNG second", "png", 10, 20, parents=[a.hash])
    store.finish_run(run, "ok", usage={"output_tokens": 5}, actual_dollars=0.1, request_id="req_1")
    rec = store.run(run)
    assert (rec.status, rec.request_id, rec.usage, rec.est_dollars, rec.actual_dollars) == ("ok", "req_1", {"output_tokens": 5}, 0.2, 0.1)
    assert [i.hash for i in store.images_of_run(run)] == [a.hash, b.hash]
    assert store.read_bytes(a.hash) == b"\x89PNG first"
    assert a.hash == content_hash(b"\x89PNG first")
    assert store.path_for(a.hash, "png").parent.name == a.hash[:2]
    assert store.parents_of(b.id) == [a.hash]
    assert store.recent_images()[0].prompt == "a fox"
    assert not list(store.images_dir.rglob(".tmp-*"))


def test_database_uses_wal(tmp_path):
    Store(tmp_path)
    mode = sqlite3.connect(tmp_path / "history.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_same_bytes_are_stored_once(tmp_path):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    store.add_image(run, 0, b"same", "png", 1, 1)
    store.add_image(run, 1, b"same", "png", 1, 1)
    assert len(list(store.images_dir.rglob("*.png"))) == 1
    assert store.count_images() == 2


def test_paths_cannot_escape_the_data_directory(tmp_path):
    store = Store(tmp_path)
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd", "png")
    with pytest.raises(ValueError):
        store.read_bytes("../" * 20 + "x" * 4, "png")


def test_concurrent_writers_do_not_lock_each_other_out(tmp_path):
    store = Store(tmp_path)
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
