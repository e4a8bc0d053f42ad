"""A throwaway OpenID Connect provider for the tests (``oidc-provider-mock``): test people, a free
loopback port, stopped by PID.

    with oidc_provider(PEOPLE) as issuer:        # http://127.0.0.1:PORT
        secrets = login_secrets(tmp_path, issuer, app_port)

Its authorization page lists each predefined person as a button named after their subject; pressing it
logs that person in (no password). ``--user-claims`` gives each one an email.
"""

from __future__ import annotations

import json
import secrets as token
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["oidc_provider", "login_secrets", "ALICE", "BOB", "CAROL"]

ALICE = {"sub": "alice", "email": "alice@example.com"}
BOB = {"sub": "bob", "email": "bob@example.com"}
CAROL = {"sub": "carol", "email": "carol@example.com"}  # the tests make her an admin


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def oidc_provider(people: list[dict[str, str]], log: Path) -> Iterator[str]:
    """Start the provider with ``people`` (claims with ``sub`` and ``email``); yields its issuer URL."""
    port = _free_port()
    claims = [arg for person in people for arg in ("--user-claims", json.dumps(person))]
    with open(log, "wb") as out, subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port), *claims],
            stdout=out, stderr=subprocess.STDOUT) as proc:
        issuer = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    if time.time() > deadline or proc.poll() is not None:
                        raise RuntimeError("the OIDC provider did not start: " + log.read_text()) from None
                    time.sleep(0.2)
            yield issuer
        finally:
            proc.terminate()
            proc.wait(10)


def login_secrets(folder: Path, issuer: str, app_port: int, extra: str = "") -> Path:
    """A secrets.toml in ``folder`` with Streamlit's ``[auth]`` section pointing at ``issuer``, for an app on
    ``app_port``; ``extra`` is more TOML put before it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secrets.toml"
    path.write_text(f"""{extra}
[auth]
redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"
cookie_secret = "{token.token_hex(24)}"
client_id = "imagelab"
client_secret = "{token.token_hex(12)}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
""")
    return path
