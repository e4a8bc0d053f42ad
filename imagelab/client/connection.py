"""Where requests go: the ``Connection`` settings, their timeouts, and the one SDK client made from them."""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

from imagelab.text import redact_urls_in, scrub

__all__ = ["Connection", "SDKClient", "make_client", "interrupt", "DEFAULT_TIMEOUT", "MIN_TIMEOUT", "DEFAULT_RETRIES"]

# Generation can take over two minutes; a shorter timeout would throw away paid results.
DEFAULT_TIMEOUT = 600.0
MIN_TIMEOUT = 300.0
DEFAULT_RETRIES = 2

# The SDK client type, named here so code outside this package can annotate it without importing openai.
SDKClient = openai.OpenAI


@dataclass(frozen=True)
class Connection:
    """Where requests go. The key is held only in memory; ``__repr__`` never shows it.

    ``label`` is what the page shows and the history stores as the run's backend, so any URL in it
    loses its ``user:password@`` and query string, and anything key-shaped is scrubbed.
    """

    base_url: str | None
    api_key: str = field(repr=False)
    label: str = "OpenAI"
    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_RETRIES

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", scrub(redact_urls_in(self.label), (self.api_key,)))


def _timeout_floor() -> float:
    # read through the package, so ``imagelab.client.MIN_TIMEOUT`` stays the one setting to change
    from imagelab import client

    return float(client.MIN_TIMEOUT)


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings every client shares, made as the SDK would make them (the CA bundle, the
    environment's SSL_CERT_FILE): building them reads the bundle, about 40 ms, once a process rather
    than before every request."""
    return httpx2.create_ssl_context()


def make_client(conn: Connection) -> SDKClient:
    """The SDK client for ``conn``: an explicit timeout (never under the floor for a real API) and retries.

    Each run has a client of its own (closing it is how a run is stopped mid-stream); only the TLS
    settings are shared."""
    return openai.OpenAI(api_key=conn.api_key, base_url=conn.base_url,
                         timeout=conn.timeout if conn.offline else max(conn.timeout, _timeout_floor()),
                         max_retries=conn.max_retries, http_client=openai.DefaultHttpxClient(verify=_tls()))


def interrupt(client: Any) -> None:
    """Cut the client's open connections at their sockets, so a stream waiting in another thread for its next
    event ends now: closing the client alone leaves that read waiting until the server sends something.

    Reaches into the HTTP client's pool (httpx2/httpcore2 keep no public handle on the socket); anything not
    found there is left alone, and ``close`` still follows."""
    pool = getattr(getattr(getattr(client, "_client", None), "_transport", None), "_pool", None)
    for conn in list(getattr(pool, "connections", None) or ()):
        stream = getattr(getattr(conn, "_connection", None), "_network_stream", None)
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
