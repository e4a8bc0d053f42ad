"""The offline backend: an OpenAI-compatible local server with synthetic pictures.

    from imagelab.offline import start_server
    srv = start_server(token=secrets.token_urlsafe(32))   # 127.0.0.1, a free port, a daemon thread
    client = openai.OpenAI(api_key=srv.token, base_url=srv.base_url)
    ...
    srv.stop()

Modules, in import order (each imports only the ones above it): ``render`` (synthetic
pictures), ``protocol`` (request ids, error bodies, usage, capped request bodies), ``auth`` (API
keys), ``sse`` (server-sent events), ``faults`` (fault injection), ``validation`` (shared request
checks, moderation triggers), ``workload`` (how many pictures are drawn at once), ``uploads``
(multipart bodies, uploaded images), ``images`` (what the ``/v1/images`` endpoints share), then
one module per endpoint family – ``models``, ``generations``, ``edits``, ``files``, ``edits_json``
(an edit's JSON body), ``background`` (responses that outlive their connection), ``responses`` –
then ``app`` (``create_app``, routes, middleware, error handlers), and this package
(``OfflineServer``, ``start_server``). Every request needs ``Authorization: Bearer <key>``: the
server's ``token`` when it has one, any non-empty key when it has none (see ``auth``). See
``app`` for the endpoints, ``faults`` for fault injection and ``validation`` for the moderation
triggers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .app import create_app
from .faults import FAULT_ENV, FAULT_HEADER, Faults, parse_faults

__all__ = ["OfflineServer", "start_server", "create_app", "parse_faults", "Faults", "FAULT_HEADER", "FAULT_ENV"]


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


@dataclass
class OfflineServer:
    host: str
    port: int
    _server: object = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    token: str | None = field(default=None, repr=False)  # the API key requests must carry; None: any key
    app: Any = field(default=None, repr=False)  # its Starlette app: ``app.state.render_gate`` says how busy it is

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout)


def start_server(host: str = "127.0.0.1", port: int = 0, *, faults: str | Faults | None = None,
                 timeout: float = 10.0, token: str | None = None, batch_pace: float | None = None,
                 render_workers: int | None = None, render_queue: int | None = None,
                 wrap: Callable[[Any], Any] | None = None) -> OfflineServer:
    """Run the offline server in a daemon thread; return once it accepts connections. With ``token``
    only requests carrying that API key are answered; without, any non-empty key is accepted. ``wrap``: an
    ASGI app around the server's (a test's or a benchmark's log of what it was asked)."""
    import uvicorn

    sock = bind_socket(host, port)
    actual_port = sock.getsockname()[1]
    app = create_app(faults=faults, token=token, batch_pace=batch_pace, render_workers=render_workers,
                     render_queue=render_queue)
    config = uvicorn.Config(wrap(app) if wrap else app, log_level="warning",
                            lifespan="off", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"imagelab-offline-{actual_port}")
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the offline server failed to start")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError("the offline server did not start in time")
        time.sleep(0.01)
    return OfflineServer(host=host, port=actual_port, _server=server, _thread=thread, token=token, app=app)
