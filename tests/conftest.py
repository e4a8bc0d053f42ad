"""Shared fixtures: every test gets its own data directory; no test reaches the internet."""

import os
import sys
from pathlib import Path

import pytest

from imagelab.offline import start_server

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests never use a real key or base URL from the developer's shell.
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
    os.environ.pop(_name, None)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("IMAGELAB_DATA_DIR", str(path))
    return path


@pytest.fixture
def compatible_server():
    """Another OpenAI-compatible server, reached through a custom base URL; faults set per test."""
    servers = []

    def start(faults=None):
        srv = start_server(faults=faults)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()
