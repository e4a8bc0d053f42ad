"""``scripts/team.sh`` brings a whole team up on loopback, and Ctrl+C (SIGINT) leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has stopped; only its parent's wait is missing


def _naming(text: str) -> list[str]:
    """Command lines of running processes that name ``text`` (the team's folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in line and _alive(int(entry.name)):
                found.append(f"{entry.name}: {line}")
    return found


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_team_sh_starts_a_team_behind_nginx_and_ctrl_c_stops_every_process(tmp_path):
    folder = tmp_path / "team"
    log = tmp_path / "team.out"
    env = {**os.environ, "PY": sys.executable}
    with open(log, "wb") as out:
        script = subprocess.Popen(["bash", "scripts/team.sh", "--port", "0", "--folder", str(folder)], cwd=ROOT,
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "Ctrl+C stops all of it." not in log.read_text():
            assert script.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        printed = log.read_text()
        described = json.loads((folder / "team.json").read_text())
        assert f"ImageLab for a team: {described['url']}" in printed
        assert "alice@example.com" in printed and "bob@example.com" in printed
        assert set(described["pids"]) == {"postgres", "seaweedfs", "worker-1", "worker-2", "replica-1", "replica-2",
                                          "nginx"}
        with urllib.request.urlopen(described["url"] + "/_stcore/health", timeout=10) as answer:
            assert answer.read() == b"ok"
            assert any(c.startswith("imagelab_replica=") for c in answer.headers.get_all("Set-Cookie"))
        port = int(described["url"].rsplit(":", 1)[1])
        pids = described["pids"].values()
        assert all(_alive(pid) for pid in pids)

        script.send_signal(signal.SIGINT)  # what Ctrl+C in the terminal sends
        script.wait(90)
        assert "Stopped." in log.read_text()
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [name for name, pid in described["pids"].items() if _alive(pid)] == []
        assert _naming(str(folder)) == []
        assert not _listening(port)
    finally:
        if script.poll() is None:  # the test failed midway: stop the team as a person would
            script.send_signal(signal.SIGINT)
            script.wait(90)
