"""PostgreSQL stopped in the middle of a run: the picture is already in storage; its row and the run's finish
are written again for a bounded time (``Database.patience``), then the run says so in a sentence and the rows
wait on this machine until the database is back. Nothing is lost. Each test runs with pictures in the data
folder and in S3."""

import io
import threading
import time

import pytest
from PIL import Image

from imagelab.client import Connection, FinalImage, UsageReport
from imagelab.offline import start_server
from imagelab.runs.engine import JobRequest, RunEngine
from imagelab.specs import GenerateSpec
from imagelab.store import Store, content_hash
from tests.services.postgres import TEST_PASSWORD, PostgresNotInstalled, postgres_server

NOWHERE = Connection("http://127.0.0.1:9/v1", "sk-test", label="fake", offline=True, max_retries=0)


@pytest.fixture
def own_postgres(postgres):
    """A server of this test's own, to stop and start (``postgres`` only decides skip or fail when missing)."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresNotInstalled:  # pragma: no cover - the session fixture has already judged that
        pytest.skip("PostgreSQL is not installed")


def png(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (shade, 40, 90)).save(buf, "PNG")
    return buf.getvalue()


def two_pictures_with_the_database_stopped_between(server, *, back_after: float | None, starts: list):
    """The first picture arrives, then the server stops; the second arrives while it is away (and, with
    ``back_after``, the server starts again that many seconds later, in a thread put in ``starts``)."""
    def call(client, spec):
        yield FinalImage(0, png(10), "png", 32, 32)
        server.stop()
        if back_after is not None:
            starts.append(threading.Timer(back_after, server.start))
            starts[-1].start()
        yield FinalImage(1, png(20), "png", 32, 32)
        yield UsageReport({"input_tokens": 10, "output_tokens": 100, "total_tokens": 110}, "req_db_lost", 0.1)
    return call


def run_once(store, call):
    engine = RunEngine(store, workers=1)
    try:
        run_id = engine.submit(JobRequest(GenerateSpec(prompt="a harbour at dawn", size="1024x1024", quality="low",
                                                       n=2), call, NOWHERE, page="generate"))
        return engine.wait(run_id, 120)
    finally:
        engine.shutdown()


def test_a_database_back_within_the_window_finishes_the_run_with_every_row(tmp_path, own_postgres, picture_storage):
    store = Store(tmp_path, database_url=own_postgres.create_database("history"))
    store.database.patience = 30
    starts: list[threading.Timer] = []
    try:
        job = run_once(store, two_pictures_with_the_database_stopped_between(own_postgres, back_after=2.0,
                                                                             starts=starts))
    finally:
        for start in starts:
            start.join(60)
    assert job.status == "ok" and job.errors == []
    run = store.run(job.run_id)
    assert run.status == "ok" and run.error is None and run.request_id == "req_db_lost"
    saved = store.images_of_run(job.run_id)
    assert [(rec.index, rec.hash) for rec in saved] == [(0, content_hash(png(10))), (1, content_hash(png(20)))]
    assert all(store.read_bytes(rec.hash, rec.format) == png(10 + 10 * rec.index) for rec in saved)
    assert store.unrecorded_count() == 0
    store.close()


def test_a_database_away_past_the_window_is_a_sentence_and_the_rows_are_written_once_it_is_back(
        tmp_path, own_postgres, picture_storage):
    url = own_postgres.create_database("history")
    store = Store(tmp_path, database_url=url)
    store.database.patience = 2
    job = run_once(store, two_pictures_with_the_database_stopped_between(own_postgres, back_after=None, starts=[]))

    sentence = "; ".join(e.sentence for e in job.errors)
    assert sentence.startswith("1 picture(s) of this run are stored, but their record could not be written: "
                               "the database did not answer for 2 s. ImageLab cannot reach its database at "
                               f"127.0.0.1:{own_postgres.port}")
    assert "Check that the PostgreSQL server is running" in sentence
    assert TEST_PASSWORD not in sentence
    # the second picture is in storage, though no row names it yet
    assert store.read_bytes(content_hash(png(20)), "png") == png(20)
    assert store.unrecorded_count() == 2  # its row and the run's finish

    own_postgres.start()
    store.close()
    again = Store(tmp_path, database_url=url)  # the next start-up writes what waited, and sweeps no picture away
    RunEngine(again).shutdown()
    run = again.run(job.run_id)
    assert run.status == "ok" and run.request_id == "req_db_lost"
    assert run.finished_at is not None and run.finished_at <= time.time()  # the Gallery counts it finished
    assert [(rec.index, rec.hash) for rec in again.images_of_run(job.run_id)] == [
        (0, content_hash(png(10))), (1, content_hash(png(20)))]
    assert again.remove_orphans(min_age=0) == []
    assert again.read_bytes(content_hash(png(20)), "png") == png(20)
    assert again.unrecorded_count() == 0
    again.close()


def one_picture(client, spec):
    yield FinalImage(0, png(30), "png", 32, 32)


def second_run_with_the_database_stopped_at_its_start(store, server, *, back_after: float | None, starts: list):
    """Two runs on one worker: as the first finishes (its ``on_finish``, on the worker, before the second is
    taken) the server stops, so the second's start is the write that meets it away."""
    sent: list[int] = []

    def stop_server(job):
        server.stop()
        if back_after is not None:
            starts.append(threading.Timer(back_after, server.start))
            starts[-1].start()

    def counted(client, spec):
        sent.append(1)
        yield from one_picture(client, spec)

    spec = GenerateSpec(prompt="a harbour at noon", size="1024x1024", quality="low", n=1)
    engine = RunEngine(store, workers=1)
    try:
        gate = threading.Event()

        def first_call(client, spec):
            gate.wait(30)  # the second run is queued (its row written) while the first is still going
            yield from one_picture(client, spec)

        first = engine.submit(JobRequest(spec, first_call, NOWHERE, page="generate", on_finish=stop_server))
        second = engine.submit(JobRequest(spec, counted, NOWHERE, page="generate"))
        gate.set()
        assert engine.wait(first, 60).status == "ok"
        return engine.wait(second, 60), sent
    finally:
        engine.shutdown()


def test_a_database_lost_as_a_run_starts_is_waited_for_and_the_run_goes_on(tmp_path, own_postgres, picture_storage):
    store = Store(tmp_path, database_url=own_postgres.create_database("history"))
    store.database.patience = 30
    starts: list[threading.Timer] = []
    try:
        job, sent = second_run_with_the_database_stopped_at_its_start(store, own_postgres, back_after=2.0,
                                                                      starts=starts)
    finally:
        for start in starts:
            start.join(60)
    assert job.status == "ok" and job.errors == [] and sent == [1]
    run = store.run(job.run_id)
    assert run.status == "ok" and run.error is None
    assert [rec.hash for rec in store.images_of_run(job.run_id)] == [content_hash(png(30))]
    store.close()


def test_a_database_away_past_the_window_at_a_runs_start_sends_nothing_and_says_so(
        tmp_path, own_postgres, picture_storage):
    url = own_postgres.create_database("history")
    store = Store(tmp_path, database_url=url)
    store.database.patience = 2
    job, sent = second_run_with_the_database_stopped_at_its_start(store, own_postgres, back_after=None, starts=[])
    assert sent == [] and job.status == "failed"
    sentence = "; ".join(e.sentence for e in job.errors)
    assert sentence.startswith("This run was not sent: the database did not answer for 2 s as it started, so "
                               "nothing was spent. ImageLab cannot reach its database at "
                               f"127.0.0.1:{own_postgres.port}")
    assert "The run's record could not be written" in sentence and TEST_PASSWORD not in sentence
    assert store.unrecorded_count() == 1  # the run's finish waits on this machine

    own_postgres.start()
    store.close()
    again = Store(tmp_path, database_url=url)
    RunEngine(again).shutdown()
    run = again.run(job.run_id)
    assert run.status == "failed" and run.error.startswith("This run was not sent")
    assert again.images_of_run(job.run_id) == [] and again.unrecorded_count() == 0
    again.close()


# --- a Batch API group: nothing is asked of the API before its rows are written ---------------------------------

@pytest.fixture
def logged_offline():
    """The offline backend (batches done at once) and its own log of the requests it answered (``Sent``)."""
    server = start_server(batch_pace=0.01)
    try:
        yield server, server.app.state.requests
    finally:
        server.stop()


def batch_cells():
    return [(GenerateSpec(prompt=f"A {colour} kite over dunes", size="1024x1024", quality="low"), colour)
            for colour in ("red", "blue", "green")]


def losing_the_database_once_the_group_is_recorded(store, server, *, back_after: float | None, starts: list):
    """``store.start_runs`` writes the group's rows, then the server stops (and starts ``back_after`` s later)."""
    recorded = store.start_runs

    def start_runs(rows):
        ids = recorded(rows)
        server.stop()
        if back_after is not None:
            starts.append(threading.Timer(back_after, server.start))
            starts[-1].start()
        return ids

    store.start_runs = start_runs


def test_a_batch_whose_database_goes_away_as_it_starts_is_sent_once_when_it_is_back(tmp_path, own_postgres,
                                                                                      logged_offline):
    backend, log = logged_offline
    store = Store(tmp_path, database_url=own_postgres.create_database("history"))
    store.database.patience = 30
    starts: list[threading.Timer] = []
    losing_the_database_once_the_group_is_recorded(store, own_postgres, back_after=2.0, starts=starts)
    engine = RunEngine(store, batch_poll=0.05)
    try:
        group = engine.submit_batch(batch_cells(), Connection(backend.base_url, "sk-offline", label="Batch backend",
                                                              timeout=30, max_retries=0))
        deadline = time.monotonic() + 60
        while not (rows := store.batches(group_id=group)) or any(r.active for r in rows):
            assert time.monotonic() < deadline, "the batch was not collected"
            time.sleep(0.05)
    finally:
        engine.shutdown()
        for start in starts:
            start.join(60)
    runs = store.runs(10, group_id=group)
    assert sorted(r.label for r in runs) == ["blue", "green", "red"]  # the group recorded once
    assert [r.status for r in runs] == ["ok", "ok", "ok"]
    assert all(len(store.images_of_run(r.id)) == 1 for r in runs)
    assert len(rows) == 1 and rows[0].completed == 3
    assert [r.path for r in log if r.method == "POST" and r.path.endswith("/batches")] == ["/v1/batches"]
    store.close()


def test_a_batch_whose_database_stays_away_sends_nothing_and_its_cells_say_so_once_it_is_back(
        tmp_path, own_postgres, logged_offline):
    from imagelab.runs.engine import BatchNotSent

    backend, log = logged_offline
    url = own_postgres.create_database("history")
    store = Store(tmp_path, database_url=url)
    store.database.patience = 1
    losing_the_database_once_the_group_is_recorded(store, own_postgres, back_after=None, starts=[])
    engine = RunEngine(store, batch_poll=0.05)
    try:
        with pytest.raises(BatchNotSent) as refused:
            engine.submit_batch(batch_cells(), Connection(backend.base_url, "sk-offline", label="Batch backend",
                                                          timeout=30, max_retries=0))
    finally:
        engine.shutdown()
        store.close()
    assert refused.value.sentence.startswith("Nothing was sent. ImageLab cannot reach its database at 127.0.0.1:")
    assert TEST_PASSWORD not in refused.value.sentence
    assert not [r.path for r in log if r.method == "POST"]  # no file uploaded, no batch made
    own_postgres.start()
    again = Store(tmp_path, database_url=url)
    RunEngine(again).shutdown()  # the next start writes what waited on this machine
    runs = again.runs(10)
    assert len(runs) == 3
    assert all(r.status == "cancelled" and r.finished_at and "Not sent: the history's database could not be reached"
               in r.error for r in runs)
    assert again.unrecorded_count() == 0
    again.close()
