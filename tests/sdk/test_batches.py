"""Sweeps through the Batch API, and the check before spending: the real openai SDK against the offline server."""

import io
import time

import pytest
from PIL import Image

from imagelab import client as cl
from imagelab.client.batch import moderate
from imagelab.offline import start_server
from imagelab.runs.engine import JobRequest, RunEngine
from imagelab.specs import EditSpec, GenerateSpec, InputImage
from imagelab.store import Store, content_hash


def connection(server, label="Batch test backend"):
    # Not the built-in offline backend's label: these runs stand for billed ones on a compatible server.
    return cl.Connection(server.base_url, "sk-offline", label=label, timeout=30, max_retries=0)


def picture(colour):
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buf, "PNG")
    data = buf.getvalue()
    return InputImage(data, f"{colour}.png", "image/png", 64, 64, content_hash(data))


@pytest.fixture
def paced_server():
    servers = []

    def start(pace):
        srv = start_server(batch_pace=pace)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture
def recording_offline():
    """The offline backend and its own log of the requests it answered (``Sent``)."""
    server = start_server()
    try:
        yield server, server.app.state.requests
    finally:
        server.stop()


def wait_collected(store, group, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = store.batches(group_id=group)
        if rows and all(not r.active for r in rows):
            return rows
        time.sleep(0.05)
    raise TimeoutError(f"the batches of {group} were not collected in {timeout} s")


def colour_at_centre(store, image):
    data = store.read_bytes(image.hash, image.format)
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB").getpixel((img.width // 2, img.height // 2))


def test_six_generations_and_two_edits_land_in_their_cells(paced_server, tmp_path):
    server = paced_server(0.01)
    store = Store(tmp_path)
    engine = RunEngine(store, batch_poll=0.05)
    things = ["kite", "whale", "fern", "forbidden cab", "owl", "moth"]
    items = [(GenerateSpec(prompt=f"A photo of a {t}", model="gpt-image-1.5", size="1024x1024", quality="low"), t)
             for t in things]
    items += [(EditSpec(prompt="Make it glow", model="gpt-image-1.5", images=(picture(c),), size="1024x1024",
                        quality="low"), f"edit {c}") for c in ("red", "blue")]
    group = engine.submit_batch(items, connection(server))
    rows = wait_collected(store, group)
    engine.shutdown()
    assert sorted(r.endpoint for r in rows) == ["/v1/images/edits", "/v1/images/generations"]
    assert all(r.status == "completed" and r.batch_id.startswith("batch_") for r in rows)
    runs = {r.label: r for r in store.runs(20, group_id=group)}
    assert len(runs) == 8
    for label, run in runs.items():
        images = store.images_of_run(run.id)
        if label == "forbidden cab":
            assert run.status == "failed" and "safety system" in run.error and not images
            continue
        assert run.status == "ok", (label, run.error)
        assert len(images) == 1 and images[0].width == 1024
        assert run.usage["output_tokens"] > 0 and run.actual_dollars > 0
        assert run.request_id.startswith("req_")
    # each picture sits with its own cell: an edit keeps its input's colour, a generation is from its prompt
    red = colour_at_centre(store, store.images_of_run(runs["edit red"].id)[0])
    blue = colour_at_centre(store, store.images_of_run(runs["edit blue"].id)[0])
    assert red[0] > red[2] and blue[2] > blue[0]
    assert store.images_of_run(runs["kite"].id)[0].prompt == "A photo of a kite"
    # the batch's cost is the sum of its cells' at half the synchronous price
    gen = next(r for r in rows if r.endpoint.endswith("generations"))
    cells = [runs[t] for t in things if t != "forbidden cab"]
    assert gen.dollars == pytest.approx(sum(r.actual_dollars for r in cells))
    assert gen.completed == 5 and gen.failed == 1


def test_a_cancelled_batch_keeps_what_was_done(paced_server, tmp_path):
    server = paced_server(0.4)
    store = Store(tmp_path)
    engine = RunEngine(store, batch_poll=0.05)
    items = [(GenerateSpec(prompt=f"Card number {i}", size="1024x1024", quality="low"), f"#{i}") for i in range(8)]
    group = engine.submit_batch(items, connection(server))
    deadline = time.monotonic() + 20
    while store.batches(group_id=group)[0].completed < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    engine.cancel_batch(group)
    row = wait_collected(store, group)[0]
    engine.shutdown()
    runs = sorted(store.runs(20, group_id=group), key=lambda r: r.id)
    done = [r for r in runs if r.status == "ok"]
    assert row.status == "cancelled"
    assert 1 <= len(done) < 8
    assert all(len(store.images_of_run(r.id)) == 1 for r in done)
    assert all(r.status == "cancelled" and "cancelled before this cell" in r.error for r in runs if r not in done)


def test_a_batch_survives_a_restart_and_is_collected_after(paced_server, tmp_path):
    server = paced_server(0.1)
    items = [(GenerateSpec(prompt=f"Tile {i}", size="1024x1024", quality="low"), f"#{i}") for i in range(5)]
    first = RunEngine(Store(tmp_path), batch_poll=0.05)
    group = first.submit_batch(items, connection(server))
    deadline = time.monotonic() + 20
    while not first.store.batches(group_id=group)[0].batch_id:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.shutdown()  # the app stops; the batch goes on at the API
    assert all(r.active for r in first.store.runs(10, group_id=group))

    store = Store(tmp_path)
    second = RunEngine(store, batch_poll=0.05)
    assert not second.recovered  # the cells were not marked interrupted
    assert all(r.active for r in store.runs(10, group_id=group))
    second.resume_pending(connection(server))
    row = wait_collected(store, group)[0]
    second.shutdown()
    assert row.status == "completed"
    runs = store.runs(10, group_id=group)
    assert [r.status for r in runs] == ["ok"] * 5
    assert sorted(img.prompt for img in store.recent_images(10)) == [f"Tile {i}" for i in range(5)]


def test_moderation_flags_a_trigger_word(offline_server, client):
    verdict = moderate(client, "a forbidden thing", [(picture("red").data, "image/png")])
    assert verdict.flagged and verdict.categories == ("illicit",)
    assert not moderate(client, "a kind thing").flagged


def test_a_flagged_request_is_not_sent(recording_offline, tmp_path):
    server, log = recording_offline
    store = Store(tmp_path)
    engine = RunEngine(store)
    spec = GenerateSpec(prompt="A forbidden garden", size="1024x1024", quality="low")
    run_id = engine.submit(JobRequest(spec, cl.generate, connection(server), "generate", moderate=True))
    job = engine.wait(run_id)
    engine.shutdown()
    assert job.status == "failed"
    assert "flagged this request (illicit)" in store.run(run_id).error
    assert [r.path for r in log] == ["/v1/moderations"]
    # the same request with a harmless prompt goes on to the image endpoint
    engine = RunEngine(store)
    ok = engine.wait(engine.submit(JobRequest(spec.with_changes(prompt="A quiet garden"), cl.generate,
                                              connection(server), "generate", moderate=True)))
    engine.shutdown()
    assert ok.status == "ok"
    assert [r.path for r in log][1:] == ["/v1/moderations", "/v1/images/generations"]
