"""Security rules that no page shows, and a small load run that must leave the store consistent."""

import socket
import threading
import tomllib
from pathlib import Path

import openai
import pytest

from imagelab.client import generate
from imagelab.offline import start_server
from imagelab.runner import RunResult, execute
from imagelab.specs import GenerateSpec
from imagelab.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_offline_backend_listens_on_loopback_only_by_default():
    srv = start_server()
    try:
        bound = [s.getsockname()[0] for srv_ in srv._server.servers for s in srv_.sockets]
        assert bound and all(addr == "127.0.0.1" for addr in bound)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=2):
            pass
    finally:
        srv.stop()
    # and the command line defaults to loopback too
    import inspect

    from imagelab.offline.__main__ import main

    assert 'default="127.0.0.1"' in inspect.getsource(main)


def test_uploads_are_capped():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 50
    from imagelab.inputs import InputRefused, normalize_input

    with pytest.raises(InputRefused):
        normalize_input(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "x.png", max_bytes=50)


def test_store_paths_cannot_escape(tmp_path):
    store = Store(tmp_path)
    for bad in ("../" * 5 + "etc/passwd", "/etc/passwd", "a" * 63 + "/", "A" * 64):
        with pytest.raises(ValueError):
            store.path_for(bad, "png")
    assert store.path_for("a" * 64, "png").resolve().is_relative_to(tmp_path.resolve())


def test_many_sessions_at_once_leave_the_store_consistent(tmp_path):
    """Ten sessions generating at once (the benchmark runs twenty and prints the overhead)."""
    srv = start_server()
    store = Store(tmp_path)
    failures: list[str] = []

    def session(n: int) -> None:
        client = openai.OpenAI(api_key="sk-offline", base_url=srv.base_url, max_retries=0, timeout=60)
        for k in range(2):
            spec = GenerateSpec(prompt=f"session {n} run {k}", size="1024x1024", quality="low", n=2)
            for ev in execute(lambda spec=spec: generate(client, spec), spec, store, page="generate", backend="load"):
                if isinstance(ev, RunResult) and ev.status != "ok":
                    failures.append(ev.errors[0].sentence)
        client.close()

    try:
        threads = [threading.Thread(target=session, args=(n,)) for n in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        srv.stop()
    assert failures == []
    runs = store.runs(100)
    assert len(runs) == 20 and all(r.status == "ok" and r.finished_at for r in runs)
    hashes = {r.hash for r in store.recent_images(1000)}
    files = {p.stem for p in store.images_dir.rglob("*.*")}
    assert store.count_images() == 40 and files == hashes
