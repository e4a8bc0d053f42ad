"""Shared fixtures: every test gets its own data directory; no test reaches the internet or the
developer's settings (environment or Streamlit secrets)."""

import email.policy
import json
import os
import sys
import tempfile
import threading
from dataclasses import dataclass
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import streamlit as st
from streamlit import config as st_config

from imagelab.client import Connection
from imagelab.offline import start_server
from imagelab.runs.engine import JobRequest, RunEngine
from imagelab.store import Store
from tests.services.postgres import PostgresNotInstalled, postgres_server

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests never use a real key or base URL from the developer's shell, nor the team's picture storage.
for _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "IMAGELAB_STORAGE_URL",
              "IMAGELAB_URL_LIFETIME", *(n for n in os.environ if n.startswith("AWS_"))):
    os.environ.pop(_name, None)
# Nor the developer's team database: a test that wants PostgreSQL asks for ``pg_url``.
os.environ.pop("IMAGELAB_DATABASE_URL", None)

# Nor one from a secrets.toml (~/.streamlit/, the project's .streamlit/): Streamlit looks only here,
# a file that never exists (nor its folder). The browser suite passes the same path to `streamlit run`.
NO_SECRETS = Path(tempfile.gettempdir()) / f"imagelab-no-secrets-{os.getpid()}" / "secrets.toml"
PROJECT_SECRETS = ROOT / ".streamlit" / "secrets.toml"


@pytest.fixture(autouse=True)
def no_secrets():
    st_config.set_option("secrets.files", [str(NO_SECRETS)])
    st.secrets._reset()
    yield
    st.secrets._reset()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "data"
    monkeypatch.setenv("IMAGELAB_DATA_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def postgres():
    """One throwaway PostgreSQL server for the whole session (see ``tests/services/postgres.py``).

    Without PostgreSQL installed the tests that need it are skipped, except under CI, where they fail."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresNotInstalled as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc}: CI must run the PostgreSQL tests")
        pytest.skip(str(exc))


@pytest.fixture
def pg_url(postgres):
    """A fresh, empty database of the session's server, as the URL a person would give."""
    return postgres.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """Where the store under test keeps its records: "" for the data folder's SQLite file, or a fresh
    PostgreSQL database. A test taking it (or ``store``) runs once on each engine."""
    return "" if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def store(tmp_path, database_url):
    """A new history in ``tmp_path``, its records in SQLite or PostgreSQL (``database_url``)."""
    opened = Store(tmp_path, database_url=database_url)
    yield opened
    opened.close()


@pytest.fixture
def compatible_server():
    """Another OpenAI-compatible server, reached through a custom base URL; faults (and the one key it
    accepts, if any) set per test."""
    servers = []

    def start(faults=None, token=None):
        srv = start_server(faults=faults, token=token)
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, bytes]:
        """The parts of a multipart/form-data body by field name (the last one of each name)."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in message.iter_parts()}


class RecordingServer:
    """A local HTTP server that writes down every request it gets and answers each with a 500."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                recorded.append(Received(self.command, self.path, headers, self.rfile.read(length)))
                body = json.dumps({"error": {"message": "recording server", "type": "server_error"}}).encode()
                self.send_response(500)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _record

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def sent_with(self, key: str) -> list[Received]:
        """The requests that carried ``key``: those from the app under test (another process on this
        machine may still knock on a port it once used)."""
        return [r for r in self.requests if key in r.headers.get("authorization", "")]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def recording_server():
    srv = RecordingServer()
    yield srv
    srv.stop()


SECRET_KEY = "sk-from-the-secrets-file-3b1d"


@pytest.fixture
def project_secrets(recording_server, monkeypatch):
    """A key and a base URL (the recording server) in the project's .streamlit/secrets.toml, as a
    developer might keep them; the file is put back as it was afterwards."""
    saved = PROJECT_SECRETS.read_bytes() if PROJECT_SECRETS.exists() else None
    # Streamlit copies top-level secrets into os.environ when it reads them: undo that too
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    PROJECT_SECRETS.write_text(f'OPENAI_API_KEY = "{SECRET_KEY}"\nOPENAI_BASE_URL = "{recording_server.base_url}"\n')
    try:
        yield PROJECT_SECRETS
    finally:
        if saved is None:
            PROJECT_SECRETS.unlink(missing_ok=True)
        else:
            PROJECT_SECRETS.write_bytes(saved)


# Never contacted: a test's own call answers instead of the engine's SDK client.
NOWHERE = Connection("http://127.0.0.1:9/v1", "sk-nowhere", label="test", offline=True, max_retries=0)


def engine_run(store, call, spec, *, page: str = "generate", connection=None):
    """Run one request through the run engine, as the app does, and return its finished ``JobState``."""
    engine = RunEngine(store)
    try:
        return engine.wait(engine.submit(JobRequest(spec, call, connection or NOWHERE, page=page)), 120)
    finally:
        engine.shutdown()


# --- shared picture storage: a real S3 server (tests/services/seaweed.py) ---------------------

@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One SeaweedFS S3 server for the session; each test keeps its pictures under its own prefix."""
    from tests.services.seaweed import Seaweed

    server = Seaweed(tmp_path_factory.mktemp("seaweed")).start()
    yield server
    server.stop()


@dataclass(frozen=True)
class S3Place:
    url: str                 # IMAGELAB_STORAGE_URL
    env: dict[str, str]      # AWS_* as a team sets them
    server: object           # the Seaweed it lives on (its ``client()`` looks behind the store's back)
    bucket: str
    prefix: str


_S3_PREFIXES = iter(range(1, 1_000_000))


def s3_place(server, monkeypatch) -> S3Place:
    """Point IMAGELAB_STORAGE_URL and AWS_* at ``server``, under a prefix no other test uses."""
    prefix = f"t{os.getpid()}-{next(_S3_PREFIXES)}/pictures"
    url = f"s3://{server.bucket}/{prefix}"
    for name, value in {**server.env, "IMAGELAB_STORAGE_URL": url}.items():
        monkeypatch.setenv(name, value)
    return S3Place(url, server.env, server, server.bucket, prefix)


@pytest.fixture
def s3_storage(s3_server, monkeypatch) -> S3Place:
    """Pictures of this test in S3: IMAGELAB_STORAGE_URL and AWS_* set for it alone."""
    return s3_place(s3_server, monkeypatch)


@pytest.fixture(params=["folder", "s3"])
def picture_storage(request, monkeypatch):
    """Each picture-storage test twice: with the data folder (no setting) and with S3."""
    monkeypatch.delenv("IMAGELAB_STORAGE_URL", raising=False)
    if request.param == "s3":
        return s3_place(request.getfixturevalue("s3_server"), monkeypatch)
    return None
