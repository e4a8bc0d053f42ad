"""``python -m imagelab.worker [--concurrency N]``: send queued runs of a shared (PostgreSQL) history.

Run it on any machine with the same configuration as the app (``IMAGELAB_DATABASE_URL``,
``IMAGELAB_STORAGE_URL`` and, for OpenAI, ``OPENAI_API_KEY`` in its own environment). It takes runs
from the queue as soon as they are submitted, settles the runs of workers that died, and stops on
SIGINT or SIGTERM (a run it was sending is then marked as interrupted by the next sweep of another
worker, or when it starts again).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from .history.errors import StorageError
from .runs.engine import DEFAULT_WORKERS
from .runs.queue import QueuedEngine
from .store import Store, _database_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m imagelab.worker",
                                     description="Send the queued runs of a shared ImageLab history.")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_WORKERS,
                        help=f"how many runs this worker sends at once (default {DEFAULT_WORKERS})")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be 1 or more")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not _database_url():
        print("A worker serves a shared history: set IMAGELAB_DATABASE_URL to its PostgreSQL database.",
              file=sys.stderr)
        return 2
    try:
        store = Store()
    except StorageError as exc:
        print(exc.sentence, file=sys.stderr)
        return 1
    engine = QueuedEngine(store, workers=args.concurrency, run_worker=False)
    print(f"Worker ready: sending up to {args.concurrency} run(s) at once from {store.database.shown_url}.",
          flush=True)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        serving = asyncio.create_task(engine.serve(args.concurrency))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, engine.request_stop)
        await serving

    try:
        asyncio.run(serve())
    finally:
        engine.shutdown(wait=False)
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
