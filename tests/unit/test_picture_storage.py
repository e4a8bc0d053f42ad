"""Picture bytes behind one interface: every test runs with the data folder and with S3 (a real SeaweedFS
server, tests/services/seaweed.py), and looks at what is really stored: files, or objects in the bucket."""

import threading
import time
import urllib.error
import urllib.request

import pytest

from imagelab.store import Store, content_hash


def stored_hashes(store, place) -> set[str]:
    """The hashes whose bytes are really kept: files in the folder, or objects in the bucket."""
    if place is None:
        return {p.stem for p in store.images_dir.rglob("*.*") if not p.name.startswith(".")}
    listed = place.server.client().list_objects_v2(Bucket=place.bucket, Prefix=f"{place.prefix}/sha256/")
    return {obj["Key"].rsplit("/", 1)[-1].split(".")[0] for obj in listed.get("Contents", [])}


def object_bytes(place, key: str) -> bytes:
    return place.server.client().get_object(Bucket=place.bucket, Key=key)["Body"].read()


def test_a_picture_is_kept_once_under_its_hash_and_read_back(tmp_path, picture_storage):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "a fox", {})
    a = store.add_image(run, 0, b"\x89PNG first", "png", 1, 1)
    store.add_image(run, 1, b"\x89PNG first", "png", 1, 1)
    b = store.add_image(run, 2, b"\x89PNG second", "png", 1, 1)
    assert store.read_bytes(a.hash) == b"\x89PNG first" and store.read_bytes(b.hash, "png") == b"\x89PNG second"
    assert stored_hashes(store, picture_storage) == {content_hash(b"\x89PNG first"), content_hash(b"\x89PNG second")}
    assert store.has_bytes(a.hash, "png") and not store.has_bytes("c" * 64, "png")
    with pytest.raises(ValueError):
        store.has_bytes("../" * 20 + "x" * 4, "png")
    with pytest.raises(ValueError):
        store.read_bytes("../../etc/passwd", "png")
    with pytest.raises(FileNotFoundError):
        store.read_bytes("c" * 64, "png")


def test_with_s3_the_picture_is_the_object_named_by_its_hash_and_nothing_stays_on_disk(tmp_path, s3_storage):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    rec = store.add_image(run, 0, b"GIF89a the bytes", "gif", 1, 1)
    assert object_bytes(s3_storage, f"{s3_storage.prefix}/sha256/{rec.hash}.gif") == b"GIF89a the bytes"
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix == ".gif"]
    assert store.spooled_count() == 0 and store.storage_problem() is None


def test_delete_keeps_bytes_still_referred_to_and_removes_the_rest(tmp_path, picture_storage):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    parent = store.add_image(run, 0, b"parent-bytes", "png", 1, 1)
    child = store.add_image(run, 1, b"child-bytes", "png", 1, 1, parents=[parent.hash])
    assert store.delete_image(parent.id) is False  # the child's lineage still names it
    assert store.read_bytes(parent.hash, "png") == b"parent-bytes"
    assert store.delete_image(child.id) is True
    assert child.hash not in stored_hashes(store, picture_storage)
    assert not store.has_bytes(child.hash, "png")


def test_adding_bytes_while_they_are_being_deleted_keeps_the_new_rows_bytes(tmp_path, picture_storage, monkeypatch):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    data = b"\x89PNG the same bytes twice"
    first = store.add_image(run, 0, data, "png", 1, 1)
    added = []
    real = Store._referenced

    def referenced_while_someone_adds(db, digest):
        worker = threading.Thread(target=lambda: added.append(store.add_image(run, 1, data, "png", 1, 1)))
        worker.start()
        worker.join(0.5)  # the add runs as far as it can while the delete is deciding
        return real(db, digest)

    with monkeypatch.context() as patched:
        patched.setattr(Store, "_referenced", staticmethod(referenced_while_someone_adds))
        store.delete_image(first.id)
    deadline = time.time() + 10
    while not added and time.time() < deadline:
        time.sleep(0.05)
    assert [r.index for r in store.images_of_run(run)] == [1]
    assert Store(tmp_path).read_bytes(added[0].hash, "png") == data  # a fresh store: from the storage itself


def test_bytes_set_aside_by_a_delete_go_back_or_go_for_good(tmp_path, picture_storage):
    """A delete takes the bytes out of sight before it commits: back if it does not, gone if it does."""
    store = Store(tmp_path)
    digest = store.write_bytes(b"\x89PNG keep me", "png")
    aside = store.blobs.set_aside(digest, "png")
    assert not store.has_bytes(digest, "png") and digest not in stored_hashes(store, picture_storage)
    store.blobs.put_back(aside)
    assert Store(tmp_path).read_bytes(digest, "png") == b"\x89PNG keep me"
    store.blobs.discard(store.blobs.set_aside(digest, "png"))
    assert not Store(tmp_path).has_bytes(digest, "png") and digest not in stored_hashes(store, picture_storage)


def test_a_process_that_dies_between_setting_bytes_aside_and_committing_the_delete_loses_nothing(
        tmp_path, picture_storage):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    rec = store.add_image(run, 0, b"\x89PNG still named by its row", "png", 1, 1)
    store.blobs.set_aside(rec.hash, "png")  # ... and the process dies: the row was never deleted
    assert rec.hash not in stored_hashes(store, picture_storage)
    Store(tmp_path).recover()
    assert rec.hash in stored_hashes(store, picture_storage)
    assert Store(tmp_path).read_bytes(rec.hash, "png") == b"\x89PNG still named by its row"


def test_start_up_removes_bytes_no_row_names_once_they_are_old_enough(tmp_path, picture_storage):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    kept = store.add_image(run, 0, b"kept bytes", "png", 1, 1)
    orphan = store.write_bytes(b"bytes whose row never committed", "png")
    store.remove_orphans(min_age=3600)  # young: perhaps a write still committing its row
    assert stored_hashes(store, picture_storage) == {kept.hash, orphan}
    time.sleep(2.1)  # the storage's clock counts whole seconds
    store.remove_orphans(min_age=1)
    assert stored_hashes(store, picture_storage) == {kept.hash}
    assert store.read_bytes(kept.hash, "png") == b"kept bytes"


def test_the_orphan_sweep_removes_only_what_imagelab_names_under_its_prefix(tmp_path, s3_storage):
    store = Store(tmp_path)
    kept = store.write_bytes(b"kept", "png")
    run = store.start_run("generate", "m", "p", {})
    store.add_image(run, 0, b"kept", "png", 1, 1)
    client = s3_storage.server.client()
    notes, thumb = f"{s3_storage.prefix}/notes.txt", f"{s3_storage.prefix}/thumbs/{'f' * 64}-360.jpg"
    for key in (notes, thumb, f"{s3_storage.prefix}/thumbs/{kept}-360.jpg"):
        client.put_object(Bucket=s3_storage.bucket, Key=key, Body=b"x")
    time.sleep(2.1)
    assert store.remove_orphans(min_age=1) == [thumb]
    left = {o["Key"] for o in client.list_objects_v2(Bucket=s3_storage.bucket, Prefix=s3_storage.prefix)["Contents"]}
    assert left == {notes, f"{s3_storage.prefix}/thumbs/{kept}-360.jpg", f"{s3_storage.prefix}/sha256/{kept}.png"}


def test_concurrent_writers_all_keep_their_pictures(tmp_path, picture_storage):
    store = Store(tmp_path)
    errors = []

    def work(i):
        try:
            for j in range(5):
                run = store.start_run("generate", "m", f"p{i}", {})
                store.add_image(run, 0, f"{i}-{j}".encode(), "png", 1, 1)
                store.finish_run(run, "ok")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert stored_hashes(store, picture_storage) == {content_hash(f"{i}-{j}".encode()) for i in range(6)
                                                      for j in range(5)}


# --- what browsers are given ----------------------------------------------------------------

def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(), dict(refused.headers)


def test_the_folder_gives_no_url_and_s3_a_presigned_one_that_serves_the_picture(tmp_path, picture_storage):
    store = Store(tmp_path)
    digest = store.write_bytes(b"\x89PNG shown by URL", "png")
    url = store.picture_url(digest, "png")
    if picture_storage is None:
        assert url is None
        return
    status, body, headers = fetch(url)
    assert (status, body, headers["Content-Type"]) == (200, b"\x89PNG shown by URL", "image/png")
    assert "immutable" in headers.get("Cache-Control", "")
    assert store.picture_url(digest, "png") == url  # the same URL while young, so the browser keeps it
    assert "X-Amz-Expires=900" in url and picture_storage.env["AWS_SECRET_ACCESS_KEY"] not in url


def test_a_presigned_url_stops_working_after_its_lifetime(tmp_path, s3_storage, monkeypatch):
    monkeypatch.setenv("IMAGELAB_URL_LIFETIME", "1")
    store = Store(tmp_path)
    url = store.picture_url(store.write_bytes(b"\x89PNG short-lived", "png"), "png")
    assert "X-Amz-Expires=1&" in url
    time.sleep(2.5)
    status, _, _ = fetch(url)
    assert status == 403


@pytest.mark.parametrize("value", ["soon", "0", "99999999"])
def test_a_url_lifetime_that_is_no_number_of_seconds_is_a_sentence(tmp_path, s3_storage, monkeypatch, value):
    from imagelab.store import StorageError

    monkeypatch.setenv("IMAGELAB_URL_LIFETIME", value)
    with pytest.raises(StorageError) as caught:
        Store(tmp_path)
    assert "IMAGELAB_URL_LIFETIME must be a whole number of seconds" in caught.value.sentence


def test_a_copy_for_pages_is_made_once_and_kept_in_the_bucket_beside_the_picture(tmp_path, s3_storage):
    from imagelab.thumbnails import thumbnail_bytes

    store = Store(tmp_path)
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(buf, "PNG")
    digest = store.write_bytes(buf.getvalue(), "png")
    made = []

    def make():
        made.append(1)
        return thumbnail_bytes(store.read_bytes(digest, "png"))

    url = store.copy_url(f"{digest}-360", make)
    assert Store(tmp_path).copy_url(f"{digest}-360", make) is not None  # another server finds it made
    assert made == [1]
    status, body, headers = fetch(url)
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(body)).size == (360, 270)
    assert object_bytes(s3_storage, f"{s3_storage.prefix}/thumbs/{digest}-360.jpg") == body
    store.forget_copies(digest)
    assert fetch(url)[0] == 404


def test_a_picture_goes_up_in_one_exchange_without_waiting_for_a_100_continue(tmp_path, s3_storage):
    store = Store(tmp_path)
    sent = []
    store.blobs._client.meta.events.register("before-send.s3.PutObject",
                                             lambda request, **_: sent.append(dict(request.headers)))
    run = store.start_run("generate", "m", "a fox", {})
    rec = store.add_image(run, 0, b"\x89PNG sent at once", "png", 1, 1)
    assert len(sent) == 1 and "Expect" not in sent[0]
    assert object_bytes(s3_storage, f"{s3_storage.prefix}/sha256/{rec.hash}.png") == b"\x89PNG sent at once"


def test_a_picture_goes_up_with_its_content_hash_for_the_server_to_check_and_is_hashed_no_more_on_the_way(
        tmp_path, s3_storage):
    import base64

    store = Store(tmp_path)
    sent = []
    store.blobs._client.meta.events.register("before-send.s3.PutObject",
                                             lambda request, **_: sent.append(dict(request.headers)))
    run = store.start_run("generate", "m", "a heron", {})
    rec = store.add_image(run, 0, b"\x89PNG checked by the server", "png", 1, 1)
    headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in sent[0].items()}
    # the hash it is named by, which the server checks the body against; no other hash of the body is made
    assert headers["x-amz-checksum-sha256"] == base64.b64encode(bytes.fromhex(rec.hash)).decode()
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert not [k for k in headers if k.startswith("x-amz-checksum-") and k != "x-amz-checksum-sha256"]
    assert object_bytes(s3_storage, f"{s3_storage.prefix}/sha256/{rec.hash}.png") == b"\x89PNG checked by the server"
