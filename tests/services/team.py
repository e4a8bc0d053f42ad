"""A whole team's ImageLab on one machine, on loopback: PostgreSQL, SeaweedFS S3, an OpenID Connect provider
with test people, the offline backend, workers (``python -m imagelab.worker``) and Streamlit replicas
(``IMAGELAB_WORKERS=0``) behind nginx with the configuration of ``deploy/nginx.conf.template``.

    with team(folder, [ALICE, BOB]) as t:
        t.url                     # http://127.0.0.1:PORT, nginx
        t.replica_at(port).pid    # a replica, to kill it

``python -m tests.services.team`` (what ``scripts/team.sh`` runs) starts one and keeps it up until SIGINT or
SIGTERM, then stops every process it started, by PID. It writes ``team.json`` in its folder: the address,
the people and the PID of each process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from imagelab.offline import start_server
from imagelab.proxy import write_nginx_config
from imagelab.store import Store

from .oidc import ALICE, BOB, _free_port, login_secrets, oidc_provider
from .postgres import postgres_server
from .seaweed import Seaweed

__all__ = ["Team", "Process", "team", "person", "NGINX"]

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def person(name: str) -> dict[str, str]:
    """A test person: ``name`` is their subject (the provider's button) and the local part of their email."""
    return {"sub": name, "email": f"{name}@example.com"}


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    port: int = 0
    log: Path | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@dataclass
class Team:
    folder: Path
    url: str
    issuer: str
    people: list[dict[str, str]]
    env: dict[str, str]                 # what every replica and worker has (database, storage, backend)
    database_url: str
    postgres_pid: int | None
    replicas: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)
    nginx: Process | None = None
    others: list[Process] = field(default_factory=list)   # SeaweedFS

    def replica_at(self, port: int) -> Process:
        return next(r for r in self.replicas if r.port == port)

    def store(self) -> Store:
        """The team's history as a worker sees it (for the tests to look behind the app's back)."""
        saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        try:
            return Store(self.folder / "look", database_url=self.database_url)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def pids(self) -> dict[str, int]:
        every = [*self.replicas, *self.workers, *self.others, *([self.nginx] if self.nginx else [])]
        found = {p.name: p.pid for p in every}
        if self.postgres_pid:
            found["postgres"] = self.postgres_pid
        return found

    def describe(self) -> dict[str, object]:
        return {"url": self.url, "people": [p["email"] for p in self.people], "pids": self.pids(),
                "folder": str(self.folder)}


def _wait_http(url: str, what: str, log: Path | None, proc: subprocess.Popen[bytes] | None = None,
               timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
            shown = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} did not start:\n{shown}")
        time.sleep(0.2)


def _spawn(name: str, args: list[str], env: dict[str, str], log: Path, port: int = 0) -> Process:
    with open(log, "ab") as out:
        # a session of its own: a Ctrl+C in the terminal reaches the team, which stops each part in turn
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    return Process(name, proc, port, log)


@contextlib.contextmanager
def team(folder: Path, people: list[dict[str, str]], *, replicas: int = 2, workers: int = 2,
         latency: float = 0.0, port: int = 0, concurrency: int = 4,
         backend: tuple[str, str] | None = None) -> Iterator[Team]:
    """Start a team in ``folder``; nginx on 127.0.0.1:``port`` (0: a free one). Everything stops afterwards.
    ``backend`` (base URL, key) is an OpenAI-compatible server to use instead of a new offline backend."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        pg = stack.enter_context(postgres_server())
        database_url = pg.create_database("imagelab")
        Store(folder / "migrate", database_url=database_url, storage_url="").close()  # once, before anyone

        weed = Seaweed(folder / "weed")
        weed.start()
        stack.callback(weed.stop)
        issuer = stack.enter_context(oidc_provider(people, folder / "oidc.log"))
        if backend is None:
            team_key = "sk-team-" + secrets.token_hex(16)
            offline = start_server(host="127.0.0.1", port=0, token=team_key,
                                   faults=f"latency:{latency}" if latency else None)
            stack.callback(offline.stop)
            backend = (offline.base_url, team_key)
        base_url, team_key = backend

        port = port or _free_port()
        secrets_file = login_secrets(folder / "secrets", issuer, port)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AWS_", "IMAGELAB_"))}
        env = {**weed.env, "IMAGELAB_DATABASE_URL": database_url, "IMAGELAB_STORAGE_URL": f"s3://{weed.bucket}/team",
               "OPENAI_API_KEY": team_key, "OPENAI_BASE_URL": base_url,
               "IMAGELAB_ADMINS": people[0]["email"]}
        t = Team(folder, f"http://127.0.0.1:{port}", issuer, people, env, database_url, pg.pid())
        if weed.process is not None:
            t.others.append(Process("seaweedfs", weed.process, weed.ports["s3"]))

        def stop_all() -> None:
            for p in [*([t.nginx] if t.nginx else []), *t.replicas, *t.workers]:
                p.stop()

        stack.callback(stop_all)
        for i in range(workers):
            data = folder / f"worker-{i + 1}"
            data.mkdir(exist_ok=True)
            t.workers.append(_spawn(f"worker-{i + 1}", [sys.executable, "-m", "imagelab.worker", "--concurrency",
                                                        str(concurrency)],
                                    {**base, **env, "IMAGELAB_DATA_DIR": str(data)}, folder / f"worker-{i + 1}.log"))
        cookie_secret = secrets.token_hex(32)
        for i in range(replicas):
            data = folder / f"replica-{i + 1}"
            data.mkdir(exist_ok=True)
            replica_port = _free_port()
            args = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                    "--server.port", str(replica_port), "--server.address", "127.0.0.1",
                    "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
                    "--secrets.files", str(secrets_file)]
            t.replicas.append(_spawn(f"replica-{i + 1}", args,
                                     {**base, **env, "IMAGELAB_DATA_DIR": str(data), "IMAGELAB_WORKERS": "0",
                                      "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret},
                                     folder / f"replica-{i + 1}.log", replica_port))
        for r in t.replicas:
            _wait_http(f"http://127.0.0.1:{r.port}/_stcore/health", r.name, r.log, r.proc)
        for w in t.workers:
            if w.proc.poll() is not None:
                raise RuntimeError(f"{w.name} stopped at start-up:\n{w.log.read_text() if w.log else ''}")

        run = folder / "nginx"
        run.mkdir(exist_ok=True)
        config = write_nginx_config(f"127.0.0.1:{port}", [f"127.0.0.1:{r.port}" for r in t.replicas], run)
        t.nginx = _spawn("nginx", [NGINX, "-c", str(config), "-p", str(run), "-e", str(run / "error.log"),
                                   "-g", "daemon off;"], base, folder / "nginx.log", port)
        _wait_http(f"{t.url}/_stcore/health", "nginx", run / "error.log", t.nginx.proc)
        (folder / "team.json").write_text(json.dumps(t.describe(), indent=2))
        yield t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/team.sh", description="A whole team's ImageLab on this machine.")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port on 127.0.0.1 (default 8080; 0: any)")
    parser.add_argument("--folder", help="where everything is kept while it runs (default: a new temporary folder, "
                                         "removed at the end)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the offline backend takes a picture")
    args = parser.parse_args(argv)
    stop = {"asked": False}

    def on_signal(signum: int, frame: object) -> None:
        if not stop["asked"]:
            stop["asked"] = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="imagelab-team-"))
    port = args.port
    if port and not _port_free(port):
        print(f"Port {port} is taken; nginx takes a free one instead.", flush=True)
        port = 0
    print("Starting PostgreSQL, SeaweedFS (S3), the sign-in provider, the offline backend, 2 workers, "
          "2 replicas and nginx (about 30 seconds)…", flush=True)
    try:
        with team(folder, [ALICE, BOB], port=port, latency=args.latency) as t:
            print(f"\nImageLab for a team: {t.url}\n"
                  f"Log in as {ALICE['email']} (an admin) or {BOB['email']}: press their name "
                  f"('{ALICE['sub']}' or '{BOB['sub']}') on the sign-in page.\n"
                  f"Replicas on ports {', '.join(str(r.port) for r in t.replicas)}; logs in {folder}.\n"
                  "Ctrl+C stops all of it.", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopping the team…", flush=True)
    finally:
        if not args.folder:
            shutil.rmtree(folder, ignore_errors=True)
    print("Stopped.", flush=True)
    return 0


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
