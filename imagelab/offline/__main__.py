"""``python -m imagelab.offline [--host 127.0.0.1] [--port 0] [--fault SPEC] [--token KEY]``: run the offline server.

``--token`` (or env ``IMAGELAB_OFFLINE_TOKEN``) is the one API key the server accepts; without it
any non-empty key is accepted.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import bind_socket
from .app import create_app
from .faults import FAULT_ENV

TOKEN_ENV = "IMAGELAB_OFFLINE_TOKEN"


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m imagelab.offline",
        description="ImageLab's offline, OpenAI-compatible image server (synthetic pictures).")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    parser.add_argument("--fault", default=os.environ.get(FAULT_ENV),
                        help="faults for every request, e.g. 'latency:0.5' or '429' (see imagelab.offline.faults)")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV) or None,
                        help=f"the only API key accepted (default: env {TOKEN_ENV}; unset: any non-empty key)")
    args = parser.parse_args(argv)

    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"ImageLab offline server (synthetic images): http://{host}:{port}/v1", flush=True)
    config = uvicorn.Config(create_app(faults=args.fault, token=args.token), log_level="info", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
