"""The proxy in front of several ImageLab replicas: nginx's configuration, rendered from
``deploy/nginx.conf.template`` (cookie-sticky sessions, WebSockets, long timeouts).

    python -m imagelab.proxy --listen 127.0.0.1:8080 --replica 127.0.0.1:8501 --replica 127.0.0.1:8502 \\
        --run /var/lib/imagelab-nginx > /etc/nginx/imagelab.conf
    nginx -c /etc/nginx/imagelab.conf

``scripts/team.sh`` and the tests render it with the same function.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ImageLabError

__all__ = ["TEMPLATE", "nginx_config", "write_nginx_config"]

TEMPLATE = Path(__file__).resolve().parents[1] / "deploy" / "nginx.conf.template"
TEMP_FOLDERS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")


class ProxySettingError(ImageLabError, ValueError):
    """A listen address or replica address nginx would not take."""


def _address(value: str, what: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c in value for c in " ;{}"):
        raise ProxySettingError(f"{what} {value!r} is not host:port (for example 127.0.0.1:8501).")
    return value


def nginx_config(listen: str, replicas: list[str], run: Path, *, https: bool = False) -> str:
    """nginx's configuration for ``replicas`` (host:port each) behind ``listen`` (host:port); nginx keeps its
    pid, logs and temporary files in ``run``. With ``https`` the replica cookie is marked Secure (put TLS on
    the ``listen`` line or on a load balancer in front)."""
    if not replicas:
        raise ProxySettingError("nginx needs at least one replica to send people to.")
    servers = "\n".join(f"        server {_address(r, 'The replica')} max_fails=1 fail_timeout=10s;" for r in replicas)
    text = TEMPLATE.read_text()
    for name, value in {"listen": _address(listen, "The listen address"), "servers": servers,
                        "run": str(run), "cookie_flags": "; Secure" if https else ""}.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def write_nginx_config(listen: str, replicas: list[str], run: Path, *, https: bool = False) -> Path:
    """Write the configuration to ``run``/nginx.conf with the temporary folders nginx wants; return its path."""
    for name in TEMP_FOLDERS:
        folder = run / "temp" / name
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)  # nginx's workers run as another user when the master is root
    path = run / "nginx.conf"
    path.write_text(nginx_config(listen, replicas, run, https=https))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagelab.proxy",
                                     description="Print nginx's configuration for ImageLab replicas.")
    parser.add_argument("--listen", default="127.0.0.1:8080", help="where nginx listens (host:port)")
    parser.add_argument("--replica", action="append", required=True, help="a replica's host:port (repeat it)")
    parser.add_argument("--run", default="/var/lib/imagelab-nginx", help="nginx's pid, logs and temporary files")
    parser.add_argument("--https", action="store_true", help="mark the replica cookie Secure")
    args = parser.parse_args(argv)
    try:
        print(nginx_config(args.listen, args.replica, Path(args.run), https=args.https), end="")
    except ProxySettingError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
