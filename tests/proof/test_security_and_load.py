"""Security rules that no page shows, and a small load run that must leave the store consistent.
(The upload cap is met in the browser: tests/e2e/test_uploads_browser.py.)"""

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from imagelab.client import Connection, generate
from imagelab.offline import start_server
from imagelab.runs.engine import JobRequest, RunEngine
from imagelab.specs import GenerateSpec
from imagelab.store import Store

ROOT = Path(__file__).resolve().parents[2]


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on ``port``, read from the kernel's tables."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        with open(table) as rows:
            next(rows)
            for row in rows:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    # the kernel writes each 32-bit word of the address in host (little-endian) order
                    raw = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, len(address), 8))
                    found.add(socket.inet_ntop(family, raw))
    return found


def test_offline_backend_listens_on_loopback_only_by_default():
    srv = start_server()
    try:
        assert listening_addresses(srv.port) == {"127.0.0.1"}
        with socket.create_connection(("127.0.0.1", srv.port), timeout=2):
            pass
    finally:
        srv.stop()


def test_offline_backend_command_listens_on_loopback_only_by_default():
    with subprocess.Popen([sys.executable, "-m", "imagelab.offline"], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            line = proc.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:(\d+)/v1", line)
            assert match, line
            assert listening_addresses(int(match.group(1))) == {"127.0.0.1"}
        finally:
            proc.terminate()
            proc.wait(10)


def test_store_paths_cannot_escape(tmp_path):
    store = Store(tmp_path)
    for bad in ("../" * 5 + "etc/passwd", "/etc/passwd", "a" * 63 + "/", "A" * 64):
        with pytest.raises(ValueError):
            store.path_for(bad, "png")
    assert store.path_for("a" * 64, "png").resolve().is_relative_to(tmp_path.resolve())


def test_many_sessions_at_once_leave_the_store_consistent(tmp_path):
    """Ten sessions submitting two runs each at once to one engine (the benchmark runs twenty)."""
    srv = start_server()
    store = Store(tmp_path)
    engine = RunEngine(store)
    conn = Connection(srv.base_url, "sk-offline", label="Offline backend", offline=True, timeout=60, max_retries=0)
    ids: list[int] = []

    def session(n: int) -> None:
        for k in range(2):
            spec = GenerateSpec(prompt=f"session {n} run {k}", size="1024x1024", quality="low", n=2)
            ids.append(engine.submit(JobRequest(spec, generate, conn, page="generate")))

    try:
        threads = [threading.Thread(target=session, args=(n,)) for n in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        engine.wait_all(240)
    finally:
        engine.shutdown()
        srv.stop()
    failures = [store.run(i).error for i in ids if store.run(i).status != "ok"]
    assert failures == []
    runs = store.runs(100)
    assert len(runs) == 20 and all(r.status == "ok" and r.finished_at for r in runs)
    hashes = {r.hash for r in store.recent_images(1000)}
    files = {p.stem for p in store.images_dir.rglob("*.*")}
    assert store.count_images() == 40 and files == hashes
