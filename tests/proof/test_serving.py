"""Who can reach ImageLab: `bash scripts/start.sh` listens on this computer only, and a page served on the
network without login says so on every page."""

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit import config as st_config

from components.pages import PAGES
from imagelab.serving import serves_network
from tests.app.conftest import open_page
from tests.conftest import NO_SECRETS, ROOT

WARNING_START = "ImageLab is listening on the network"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on ``port``, read from the kernel's tables (/proc/net)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)
                # the kernel writes each 32-bit word in host (little-endian) order
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words))
    return found


@pytest.mark.timeout(180)
def test_start_script_listens_on_loopback_only(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["IMAGELAB_DATA_DIR"] = str(tmp_path / "data")
    log = tmp_path / "start.log"
    with open(log, "wb") as out, subprocess.Popen(
            ["bash", "scripts/start.sh", "--server.port", str(port), "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--secrets.files", str(NO_SECRETS)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True) as proc:
        try:
            deadline = time.monotonic() + 150
            while not _listening_addresses(port):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as answer:
                assert answer.read() == b"ok"
            assert _listening_addresses(port) == {"127.0.0.1"}
            assert "Network URL" not in log.read_text()
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(20)


@pytest.mark.parametrize(("address", "exposed"), [
    ("", True), ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("imagelab.example", True),
    ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("[::1]", False), ("localhost", False)])
def test_which_addresses_serve_the_network(address, exposed):
    assert serves_network(address) is exposed


@pytest.fixture
def served_on_every_interface():
    st_config.set_option("server.address", "0.0.0.0")
    yield
    st_config.set_option("server.address", "127.0.0.1")


@pytest.mark.parametrize("path", ["app.py", *(p.path for p in PAGES if p.path != "app.py")])
def test_every_page_warns_when_served_on_the_network_without_login(path, data_dir, served_on_every_interface):
    at = open_page(path).run()
    assert not at.exception
    warnings = [w.value for w in at.warning if w.value.startswith(WARNING_START)]
    assert len(warnings) == 1 and "0.0.0.0" in warnings[0] and "[auth]" in warnings[0]


def test_no_warning_on_loopback_or_with_login(data_dir, served_on_every_interface):
    at = open_page("pages/1_Generate.py")
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32}
    at.run()
    assert not [w for w in at.warning if w.value.startswith(WARNING_START)]
    st_config.set_option("server.address", "127.0.0.1")
    at = open_page("pages/1_Generate.py").run()
    assert not [w for w in at.warning if w.value.startswith(WARNING_START)]
