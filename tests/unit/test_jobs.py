"""The run engine with a fake client: statuses, cancel, the pool's bound and recovery after a restart."""

import io
import threading

import pytest
from PIL import Image

from imagelab.client import Connection, Failed, FinalImage, PartialImage, RateLimited, UsageReport
from imagelab.runs.engine import JobRequest, RunEngine
from imagelab.specs import GenerateSpec
from imagelab.store import Store

# Never contacted: the fake calls below answer instead of the SDK client.
NOWHERE = Connection("http://127.0.0.1:9/v1", "sk-test", label="fake", offline=True, max_retries=0)


def png(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (shade, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def spec(n: int = 2, prompt: str = "a fox") -> GenerateSpec:
    return GenerateSpec(prompt=prompt, size="1024x1024", quality="low", n=n)


def images(count: int, *, then=()):
    """A fake call that sends ``count`` images (each after a preview), then the given extra events."""
    def call(client, sp):
        for i in range(count):
            yield PartialImage(i, 0, png(10 + i), "png")
            yield FinalImage(i, png(100 + i), "png", 16, 16)
        yield from then
        yield UsageReport({"input_tokens": 10, "output_tokens": 100, "total_tokens": 110}, "req_1", 0.1)
    return call


@pytest.fixture
def engine(tmp_path):
    eng = RunEngine(Store(tmp_path), workers=2)
    yield eng
    eng.shutdown()


def run(engine, call, n=2):
    run_id = engine.submit(JobRequest(spec(n), call, NOWHERE, page="generate"))
    engine.wait(run_id, 30)
    return engine.store.run(run_id)


def test_ok_only_when_every_requested_image_was_saved(engine):
    done = run(engine, images(2))
    assert done.status == "ok" and done.error is None and done.requested == 2
    assert [i.index for i in engine.store.images_of_run(done.id)] == [0, 1]
    assert done.actual_dollars > 0 and done.request_id == "req_1"


def test_fewer_images_than_asked_is_partial_and_says_so(engine):
    done = run(engine, images(1), n=2)
    assert done.status == "partial"
    assert "1 of 2 images arrived" in done.error
    assert len(engine.store.images_of_run(done.id)) == 1


def test_no_image_is_never_ok(engine):
    done = run(engine, images(0), n=1)
    assert done.status == "failed" and "without any image" in done.error
    failed = run(engine, images(0, then=[Failed(RateLimited("Too many requests for now; wait 1 s and try again."))]))
    assert failed.status == "failed" and "Too many requests" in failed.error


def test_an_exception_in_the_call_is_a_failed_run_not_a_lost_one(engine):
    def boom(client, sp):
        yield FinalImage(0, png(1), "png", 16, 16)
        raise RuntimeError("the wire broke")

    done = run(engine, boom, n=2)
    assert done.status == "partial" and "the wire broke" in done.error
    assert len(engine.store.images_of_run(done.id)) == 1


def test_cancel_while_running_keeps_what_was_saved(engine):
    gate = threading.Event()

    def slow(client, sp):
        yield FinalImage(0, png(1), "png", 16, 16)
        gate.wait(10)
        yield FinalImage(1, png(2), "png", 16, 16)

    run_id = engine.submit(JobRequest(spec(3), slow, NOWHERE, page="generate"))
    while not engine.job(run_id).images:
        engine.wait_for_change(engine.version, 1)
    assert engine.cancel(run_id)
    gate.set()
    engine.wait(run_id)
    done = engine.store.run(run_id)
    # the image that was already on its way when the person cancelled is paid for, so it is kept too
    assert done.status == "cancelled" and "Cancelled; 2 of 3" in done.error
    assert len(engine.store.images_of_run(run_id)) == 2
    assert not engine.cancel(run_id)  # finished runs cannot be cancelled again


def test_a_cancelled_run_says_it_was_cancelled_and_nothing_else(engine):
    """Cancel closes the connection, and the client then reports the closed stream as a network failure:
    that is the cancel's own doing, not news for the person."""
    from imagelab.client import ConnectionFailed

    gate = threading.Event()

    def cut_by_cancel(client, sp):
        yield FinalImage(0, png(1), "png", 16, 16)
        gate.wait(10)
        yield Failed(ConnectionFailed("Could not reach http://127.0.0.1:9/v1. Check the base URL and your network."))

    run_id = engine.submit(JobRequest(spec(2), cut_by_cancel, NOWHERE, page="generate"))
    while not engine.job(run_id).images:
        engine.wait_for_change(engine.version, 1)
    assert engine.cancel(run_id)
    gate.set()
    engine.wait(run_id)
    done = engine.store.run(run_id)
    assert done.status == "cancelled"
    assert done.error == "Cancelled; 1 of 2 image(s) had been saved and are kept."
    assert not engine.job(run_id).errors


def test_cancel_while_queued_sends_nothing(tmp_path):
    engine = RunEngine(Store(tmp_path), workers=1)
    gate = threading.Event()
    sent = []

    def blocking(client, sp):
        sent.append(sp.prompt)
        gate.wait(10)
        yield FinalImage(0, png(1), "png", 16, 16)

    first = engine.submit(JobRequest(spec(1, "first"), blocking, NOWHERE, page="generate"))
    second = engine.submit(JobRequest(spec(1, "second"), blocking, NOWHERE, page="generate"))
    assert engine.store.run(second).status == "queued"
    assert engine.cancel(second)
    gate.set()
    engine.wait_all()
    assert engine.store.run(first).status == "ok" and engine.store.run(second).status == "cancelled"
    assert sent == ["first"]
    engine.shutdown()


def test_the_pool_bounds_how_many_run_at_once(tmp_path):
    engine = RunEngine(Store(tmp_path), workers=2)
    running, most, lock, gate = [0], [0], threading.Lock(), threading.Event()

    def counted(client, sp):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        gate.wait(0.3)
        with lock:
            running[0] -= 1
        yield FinalImage(0, png(1), "png", 16, 16)

    ids = [engine.submit(JobRequest(spec(1, f"p{i}"), counted, NOWHERE, page="sweep")) for i in range(6)]
    engine.wait_all()
    assert most[0] == 2 and all(engine.store.run(i).status == "ok" for i in ids)
    engine.shutdown()


def test_a_restart_marks_unfinished_runs_interrupted_and_clears_temporary_files(tmp_path):
    store = Store(tmp_path)
    running = store.start_run("generate", "gpt-image-2", "left running", {}, status="running", requested=2)
    store.add_image(running, 0, png(5), "png", 16, 16)
    queued = store.start_run("generate", "gpt-image-2", "left queued", {}, status="queued", requested=1)
    done = store.start_run("generate", "gpt-image-2", "finished", {}, status="running", requested=1)
    store.finish_run(done, "ok")
    stray = store.images_dir / "ab" / ".tmp-abc123"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"half a picture")
    engine = RunEngine(Store(tmp_path))  # a new process opening the same data directory
    assert sorted(engine.recovered) == [running, queued]
    assert store.run(running).status == "interrupted" and "1 of 2 image(s) had been saved" in store.run(running).error
    assert store.run(queued).status == "interrupted"
    assert store.run(done).status == "ok"
    assert len(store.images_of_run(running)) == 1
    assert not stray.exists()


def test_a_disk_that_fills_up_mid_run_ends_the_job_and_the_next_start_is_consistent(tmp_path, monkeypatch):
    import errno

    store = Store(tmp_path)
    engine = RunEngine(store)
    real_write = Store.write_bytes
    calls = []

    def fills_up(self, data, fmt):
        calls.append(1)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data, fmt)

    monkeypatch.setattr(Store, "write_bytes", lambda self, data, fmt: _wrap(self, fills_up, data, fmt))
    run_id = engine.submit(JobRequest(spec(3), images(3), NOWHERE, page="sweep"))
    job = engine.wait(run_id)
    monkeypatch.undo()
    assert job.status == "partial" and len(job.images) == 1
    assert any("No space left on device" in e.sentence and "Free some disk space" in e.sentence for e in job.errors)
    done = store.run(run_id)
    assert done.status == "partial" and len(store.images_of_run(run_id)) == 1
    # every row has its file, and no file lacks a row
    files = {p.stem for p in store.images_dir.rglob("*.png")}
    assert files == {i.hash for i in store.images_of_run(run_id)}


def test_a_storage_failure_mid_run_is_said_on_the_run_as_a_storage_failure_not_an_api_error(tmp_path, monkeypatch):
    import errno

    from imagelab.client import RequestFailed
    from imagelab.store import StorageError

    store = Store(tmp_path)
    engine = RunEngine(store)
    real_write = Store.write_bytes

    def read_only_after_the_first(self, data, fmt, seen=[]):  # noqa: B006 - counts the writes of this run
        seen.append(1)
        if len(seen) > 1:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_write(self, data, fmt)

    monkeypatch.setattr(Store, "write_bytes", lambda self, data, fmt: _wrap(self, read_only_after_the_first, data, fmt))
    run_id = engine.submit(JobRequest(spec(2), images(2), NOWHERE, page="generate"))
    job = engine.wait(run_id)
    monkeypatch.undo()
    [err] = job.errors
    assert isinstance(err, StorageError) and not isinstance(err, RequestFailed)
    assert str(err) == err.sentence and err.details() == ""
    shown = store.run(run_id)
    assert shown.status == "partial"
    assert shown.error.startswith("This image could not be saved. ImageLab cannot use its history folder")
    assert "Make the folder writable" in shown.error
    assert shown.api_message is None and shown.api_status is None and shown.api_code is None


def _wrap(store, fn, data, fmt):
    from imagelab.store import StorageError

    try:
        return fn(store, data, fmt)
    except OSError as exc:
        raise StorageError(store.root, exc) from None


def test_a_persons_runs_wake_only_their_own_pages(engine):
    """With login each session waits on its own person's number: Alice's run, from its start to its pictures
    and its end, never wakes a page of Bob's (with 20 people each page redrew for all 20 people's runs)."""
    from imagelab.people import Person

    alice, bob = Person("sub-alice", "alice@example.com"), Person("sub-bob", "bob@example.com")
    before = {who: engine.version_for(who) for who in (alice.subject, bob.subject, None)}
    run_id = engine.submit(JobRequest(spec(2), images(2), NOWHERE, page="generate", owner=alice))
    engine.wait(run_id, 30)
    assert engine.job(run_id).owner == alice.subject
    assert engine.version_for(bob.subject) == before[bob.subject]
    assert engine.version_for(alice.subject) > before[alice.subject]
    assert engine.version_for(None) > before[None]  # without login a page follows every run
    # Bob's wait is not cut short by Alice's next run
    seen = engine.version_for(bob.subject)
    waiting = threading.Thread(target=lambda: engine.wait(
        engine.submit(JobRequest(spec(1), images(1), NOWHERE, page="generate", owner=alice)), 30))
    waiting.start()
    assert engine.wait_for_change(seen, 1.0, bob.subject) == seen
    waiting.join()
    # a change that is no one person's (a sweep's batch, a settled run) still reaches everyone
    engine._bump()
    assert engine.version_for(bob.subject) == seen + 1
