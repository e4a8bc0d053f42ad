"""Two app processes on one data folder: a run belongs to the process that runs it. Starting a second engine
leaves the first one's live run alone; a killed process's run is interrupted once its lease is dead."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imagelab.offline import start_server
from imagelab.runs.engine import RunEngine
from imagelab.runs.leases import HEARTBEAT_SECONDS, STALE_BEATS, EngineLease, live_claims
from imagelab.store import Store

ROOT = Path(__file__).resolve().parents[2]

# Process A: an engine on the data folder sending one generation; prints the run id, then "done" when it ends.
PROCESS_A = """
import sys
from imagelab.client import Connection, generate
from imagelab.runs.engine import JobRequest, RunEngine
from imagelab.specs import GenerateSpec
from imagelab.store import Store

engine = RunEngine(Store(sys.argv[1]))
conn = Connection(sys.argv[2], "sk-offline", label="Offline backend", offline=True, max_retries=0)
spec = GenerateSpec(prompt="a slow lighthouse", size="1024x1024", quality="low")
run_id = engine.submit(JobRequest(spec, generate, conn, page="generate"))
print(run_id, flush=True)
engine.wait(run_id, 60)
print("done", flush=True)
engine.shutdown()
"""


@pytest.fixture
def slow_server():
    servers = []

    def start(seconds):
        srv = start_server(faults=f"latency:{seconds}")
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def start_process_a(data_dir, base_url):
    proc = subprocess.Popen([sys.executable, "-c", PROCESS_A, str(data_dir), base_url], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    run_id = int(proc.stdout.readline())
    store = Store(data_dir)
    deadline = time.monotonic() + 20
    while store.run(run_id).status != "running":
        assert time.monotonic() < deadline, "process A's run never started"
        time.sleep(0.05)
    return proc, run_id


def test_a_second_engine_leaves_the_first_ones_live_run_alone(tmp_path, slow_server):
    proc, run_id = start_process_a(tmp_path, slow_server(3).base_url)
    try:
        second = RunEngine(Store(tmp_path))  # process B opens the same data folder
        assert run_id not in second.recovered
        assert second.store.run(run_id).status == "running"
        assert run_id not in second.pending  # nor does B take it up
        assert proc.stdout.readline().strip() == "done"
        assert proc.wait(30) == 0
        done = second.store.run(run_id)
        assert done.status == "ok" and len(second.store.images_of_run(run_id)) == 1
        second.shutdown()
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


def test_a_killed_processs_run_is_interrupted_by_the_next_engine(tmp_path, slow_server):
    proc, run_id = start_process_a(tmp_path, slow_server(30).base_url)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    engine = RunEngine(Store(tmp_path))
    assert engine.recovered == [run_id]
    assert engine.store.run(run_id).status == "interrupted"
    engine.shutdown()


def test_a_lease_from_another_host_holds_until_it_misses_three_heartbeats(tmp_path):
    folder = tmp_path / "engines"
    folder.mkdir()
    lease = folder / "4242-cafe"
    lease.write_text(json.dumps({"pid": 4242, "host": socket.gethostname() + "-elsewhere", "runs": [7],
                                 "batches": [], "starting": None, "heartbeat": HEARTBEAT_SECONDS}))
    assert live_claims(tmp_path).holds(7, time.time())
    old = time.time() - STALE_BEATS * HEARTBEAT_SECONDS - 1
    os.utime(lease, (old, old))
    assert not live_claims(tmp_path).holds(7, time.time())
    assert not lease.exists()  # a dead lease is cleared away


def test_a_run_row_being_written_is_held_before_its_id_is_known(tmp_path):
    lease = EngineLease(tmp_path)
    try:
        with lease.starting():
            assert live_claims(tmp_path).holds(99, time.time())
        assert not live_claims(tmp_path).holds(99, time.time())
        lease.hold(99)
        assert live_claims(tmp_path).holds(99, 0.0)
        assert not live_claims(tmp_path, own=lease).holds(99, 0.0)
    finally:
        lease.close()
    assert not live_claims(tmp_path).holds(99, 0.0)
