"""Shared picture storage that refuses, stops or already holds a picture: a sentence, never a secret,
and never a lost picture. A SeaweedFS server of this module's own (tests/services/seaweed.py) is
stopped and started again on the same folder and ports."""

import pytest

from imagelab.store import PictureStorageError, Store
from tests.app.conftest import open_page
from tests.conftest import s3_place
from tests.services.seaweed import Seaweed


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    server = Seaweed(tmp_path_factory.mktemp("seaweed-faults")).start()
    yield server
    server.stop()


@pytest.fixture
def place(own_server, monkeypatch):
    yield s3_place(own_server, monkeypatch)
    if own_server.process is None:  # a test stopped it: the next one finds it running
        own_server.start()


def test_a_wrong_secret_is_a_sentence_naming_the_settings_and_never_the_secret(tmp_path, place, monkeypatch):
    saved = Store(tmp_path).write_bytes(b"\x89PNG saved with the right secret", "png")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-d41d8cd98f00")
    store = Store(tmp_path)
    with pytest.raises(PictureStorageError) as caught:
        store.read_bytes(saved, "png")
    sentence = caught.value.sentence
    assert f"The picture storage at {place.server.endpoint} refused ImageLab's credentials" in sentence
    assert "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY." in sentence
    assert "wrong-secret" not in sentence and place.env["AWS_SECRET_ACCESS_KEY"] not in sentence
    # a picture made meanwhile waits on this machine: paid for, so never dropped
    digest = store.write_bytes(b"\x89PNG made while refused", "png")
    assert store.spooled_count() == 1 and store.read_bytes(digest, "png") == b"\x89PNG made while refused"
    assert "refused ImageLab's credentials" in store.storage_problem()


def test_a_page_says_the_storage_refused_and_how_many_pictures_wait(tmp_path, place, monkeypatch, data_dir):
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "a lighthouse", {"n": 1})
    store.add_image(run, 0, b"\x89PNG a picture in the bucket", "png", 8, 8)
    store.finish_run(run, "ok")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-d41d8cd98f00")
    Store(data_dir).write_bytes(b"\x89PNG waiting", "png")
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception, at.exception
    warnings = " ".join(w.value for w in at.warning)
    infos = " ".join(i.value for i in at.info)
    assert "1 picture(s) wait on this server to be uploaded to the picture storage" in warnings
    assert "refused ImageLab's credentials" in warnings + infos
    page = " ".join(str(e.value) for e in [*at.warning, *at.info, *at.error, *at.markdown, *at.caption])
    assert "wrong-secret" not in page and place.env["AWS_SECRET_ACCESS_KEY"] not in page


def test_pictures_saved_while_the_storage_is_down_wait_in_the_spool_and_go_up_when_it_is_back(tmp_path, place):
    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    before = store.add_image(run, 0, b"\x89PNG before the outage", "png", 1, 1)
    place.server.stop()
    during = [store.add_image(run, i, b"\x89PNG during the outage %d" % i, "png", 1, 1) for i in (1, 2)]
    assert store.spooled_count() == 2
    assert f"cannot reach the picture storage at {place.server.endpoint}" in store.storage_problem()
    spooled = sorted(p.name for p in (tmp_path / "spool").rglob("*.png"))
    assert spooled == sorted(f"{rec.hash}.png" for rec in during)
    assert [store.read_bytes(r.hash, "png") for r in during] == [b"\x89PNG during the outage 1",
                                                                 b"\x89PNG during the outage 2"]
    assert store.read_bytes(before.hash, "png") == b"\x89PNG before the outage"  # just sent from here: kept
    with pytest.raises(PictureStorageError) as caught:  # for another server it is only in the bucket: a sentence
        Store(tmp_path).read_bytes(before.hash, "png")
    assert place.server.endpoint in caught.value.sentence and place.env["AWS_SECRET_ACCESS_KEY"] not in \
        caught.value.sentence

    place.server.start()  # the same folder and ports
    Store(tmp_path).recover()  # start-up sends what waits
    client = place.server.client()
    for rec, body in zip(during, (b"\x89PNG during the outage 1", b"\x89PNG during the outage 2"), strict=True):
        key = f"{place.prefix}/sha256/{rec.hash}.png"
        assert client.get_object(Bucket=place.bucket, Key=key)["Body"].read() == body
    assert not list((tmp_path / "spool").rglob("*.png")) and Store(tmp_path).spooled_count() == 0
    assert store.read_bytes(before.hash, "png") == b"\x89PNG before the outage"


def test_the_next_write_sends_what_waits_once_the_storage_is_back(tmp_path, place, monkeypatch):
    store = Store(tmp_path)
    monkeypatch.setattr(store.blobs, "RETRY_SECONDS", 0.0)
    place.server.stop()
    waiting = store.write_bytes(b"\x89PNG waiting", "png")
    assert store.spooled_count() == 1
    place.server.start()
    store.write_bytes(b"\x89PNG the next picture", "png")
    assert store.spooled_count() == 0 and store.storage_problem() is None
    key = f"{place.prefix}/sha256/{waiting}.png"
    assert place.server.client().get_object(Bucket=place.bucket, Key=key)["Body"].read() == b"\x89PNG waiting"


def test_a_write_never_replaces_an_object_already_under_its_key(tmp_path, place):
    """If-None-Match: * — whatever is under a key stays; a second write of the same name is a no-op."""
    store = Store(tmp_path)
    data = b"\x89PNG the picture"
    digest = store.write_bytes(data, "png")
    key = f"{place.prefix}/sha256/{digest}.png"
    client = place.server.client()
    client.delete_object(Bucket=place.bucket, Key=key)
    client.put_object(Bucket=place.bucket, Key=key, Body=b"someone else's bytes under the same name")
    assert Store(tmp_path).write_bytes(data, "png") == digest  # 412 from the storage: no error
    assert client.get_object(Bucket=place.bucket, Key=key)["Body"].read() == b"someone else's bytes under the same name"
    assert Store(tmp_path).spooled_count() == 0


def test_a_bucket_that_is_not_there_and_a_storage_url_that_is_no_s3_url_are_sentences(tmp_path, place, monkeypatch):
    from imagelab.store import StorageError

    monkeypatch.setenv("IMAGELAB_STORAGE_URL", "s3://no-such-bucket/pictures")
    with pytest.raises(PictureStorageError) as caught:
        Store(tmp_path).read_bytes("a" * 64, "png")
    assert caught.value.sentence == (f"The picture storage at {place.server.endpoint} has no bucket no-such-bucket: "
                                     "create it, or correct IMAGELAB_STORAGE_URL.")
    for wrong in ("https://bucket/prefix", "s3://user:secret-in-url@bucket/prefix"):
        monkeypatch.setenv("IMAGELAB_STORAGE_URL", wrong)
        with pytest.raises(StorageError) as caught:
            Store(tmp_path)
        assert "IMAGELAB_STORAGE_URL" in caught.value.sentence and "secret-in-url" not in caught.value.sentence


def test_a_storage_stopped_in_the_middle_of_a_run_of_writes_loses_no_picture(tmp_path, place):
    import threading
    import time

    store = Store(tmp_path)
    run = store.start_run("generate", "m", "p", {})
    pictures = [b"\x89PNG %d " % i + bytes([i]) * 400_000 for i in range(16)]
    saved = []

    def write_all():
        for i, data in enumerate(pictures):
            saved.append(store.add_image(run, i, data, "png", 1, 1))

    writer = threading.Thread(target=write_all)
    writer.start()
    deadline = time.monotonic() + 60
    while len(saved) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    place.server.stop()  # while the writer goes on
    writer.join(120)
    assert len(saved) == 16 and store.spooled_count() > 0
    place.server.start()
    Store(tmp_path).recover()
    client = place.server.client()
    for rec, data in zip(saved, pictures, strict=True):
        key = f"{place.prefix}/sha256/{rec.hash}.png"
        assert client.get_object(Bucket=place.bucket, Key=key)["Body"].read() == data
    assert Store(tmp_path).spooled_count() == 0
