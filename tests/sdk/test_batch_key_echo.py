"""A compatible server whose Batch API result lines echo the caller's key back: in request ids, line
errors, error files and revised prompts. The key must reach neither the history nor a page.

The server is a real HTTP server on loopback, so the lines go through the SDK, the engine's batch
follower and the store exactly as they would from a misbehaving proxy.
"""

import base64
import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from components import state
from imagelab import client as cl
from imagelab.runs.engine import RunEngine
from imagelab.specs import GenerateSpec
from imagelab.store import Store
from tests.app.conftest import open_page
from tests.app.test_connection import rendered
from tests.sdk.test_batches import wait_collected

KEY = "team-key-7f3a9c2b1d55"  # not key-shaped: only being the connection's own key gets it scrubbed


def _png() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 120, 200)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


class EchoingBatchServer:
    """Just enough of the Files and Batches API to run one batch; every text it makes up carries the key."""

    def __init__(self) -> None:
        self.custom_ids: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, payload, status=200, content_type="application/json"):
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.send_header("x-request-id", f"req_{self.headers.get('Authorization', '')}")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path.startswith("/v1/files"):
                    server.custom_ids = [json.loads(line)["custom_id"]
                                         for line in body.split(b"\n") if line.startswith(b"{")]
                    return self._send({"id": "file-in", "object": "file", "bytes": len(body), "created_at": 1,
                                       "filename": "in.jsonl", "purpose": "batch", "status": "processed"})
                return self._send(server.batch())

            def do_GET(self):
                if self.path.startswith("/v1/batches/"):
                    return self._send(server.batch())
                if self.path == "/v1/files/file-out/content":
                    return self._send(server.output_lines(), content_type="application/jsonl")
                if self.path == "/v1/files/file-err/content":
                    return self._send(server.error_lines(), content_type="application/jsonl")
                return self._send({"error": {"message": f"no such thing, {KEY}"}}, status=404)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def batch(self):
        return {"id": "batch_echo", "object": "batch", "endpoint": "/v1/images/generations",
                "completion_window": "24h", "created_at": 1, "input_file_id": "file-in", "status": "completed",
                "output_file_id": "file-out", "error_file_id": "file-err",
                "request_counts": {"total": 3, "completed": 1, "failed": 2},
                "errors": {"object": "list", "data": [{"code": "echo", "message": f"batch note for {KEY}"}]}}

    def output_lines(self) -> bytes:
        ok, refused, _ = self.custom_ids
        lines = [
            {"custom_id": ok, "response": {"status_code": 200, "request_id": f"req_{KEY}", "body": {
                "created": 1, "output_format": "png",
                "data": [{"b64_json": _png(), "revised_prompt": f"A lake, as asked by {KEY}"}],
                "usage": {"input_tokens": 10, "output_tokens": 100, "total_tokens": 110}}}},
            {"custom_id": refused, "response": {"status_code": 400, "request_id": f"req_{KEY}", "body": {
                "error": {"message": f"Your key {KEY} may not do that.", "type": "invalid_request_error",
                          "code": KEY, "param": KEY}}}},
        ]
        return "".join(json.dumps(line) + "\n" for line in lines).encode()

    def error_lines(self) -> bytes:
        line = {"custom_id": self.custom_ids[2], "response": None,
                "error": {"code": f"code-{KEY}", "message": f"Line failed for {KEY}"}}
        return (json.dumps(line) + "\n").encode()

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def echoing_server():
    server = EchoingBatchServer()
    yield server
    server.stop()


def test_batch_lines_that_echo_the_key_never_reach_the_history_or_the_page(echoing_server, data_dir, caplog):
    caplog.set_level(logging.INFO)
    store = Store(data_dir)
    engine = RunEngine(store, batch_poll=0.05)
    connection = cl.Connection(echoing_server.base_url, KEY, label="Echoing proxy", timeout=10, max_retries=0)
    items = [(GenerateSpec(prompt=f"A lake {i}", size="1024x1024", quality="low"), f"lake {i}") for i in range(3)]
    group = engine.submit_batch(items, connection)
    wait_collected(store, group)
    engine.shutdown()

    runs = sorted(store.runs(10, group_id=group), key=lambda r: r.id)
    assert [r.status for r in runs] == ["ok", "failed", "failed"], [(r.status, r.error) for r in runs]
    # what the server said is still there, with the key taken out
    assert runs[0].request_id == "req_[redacted]"
    image = store.images_of_run(runs[0].id)[0]
    assert image.revised_prompt == "A lake, as asked by [redacted]"
    assert "may not do that" in runs[1].error and "Line failed for [redacted]" in runs[2].error
    # nowhere in the history's files, nor in a log line
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in caplog.text

    # the Sweep page showing this batch's grid (pictures, line errors, request ids) and the Gallery
    for path in ("pages/5_Sweep.py", "pages/6_Gallery.py"):
        at = open_page(path)
        at.session_state[state.SWEEP_GROUP] = group
        at.run()
        assert not at.exception, path
        page = rendered(at)
        assert KEY not in page, path
    assert "may not do that" in page_of_sweep(group)


def page_of_sweep(group):
    at = open_page("pages/5_Sweep.py")
    at.session_state[state.SWEEP_GROUP] = group
    return rendered(at.run())
