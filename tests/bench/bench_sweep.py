"""How much a sweep gains from running its requests concurrently, against the offline backend.

Run: /work/venv/bin/python tests/bench/bench_sweep.py [--latency 2] [--requests 8] [--sequential]

Every request waits ``--latency`` seconds on the server (the ``x-imagelab-fault: latency:N``
header), so the figures measure overlap, not rendering. Prints one request alone, the sweep with
a pool as wide as the sweep (target: wall/single ≤ 1.5), and with ``--sequential`` a pool of 1
for contrast (≈ the number of requests; takes requests × latency seconds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import openai  # noqa: E402

from imagelab import client as cl  # noqa: E402
from imagelab.offline import start_server  # noqa: E402
from imagelab.specs import GenerateSpec  # noqa: E402
from imagelab.store import Store  # noqa: E402
from imagelab.sweeps import Sweep, run_sweep  # noqa: E402


def timed_sweep(client: openai.OpenAI, store: Store, count: int, workers: int, tag: str) -> float:
    values = [f"{tag} {i}" for i in range(count)]
    base = GenerateSpec(size="1024x1024", quality="low")
    items = Sweep("A postcard of {place}", {"place": values}, {}, base).expand()
    started = time.perf_counter()
    results = run_sweep(items, lambda spec: cl.generate(client, spec), store, backend="Offline backend",
                        workers=workers)
    wall = time.perf_counter() - started
    bad = [r for r in results if r.status != "ok"]
    if bad:
        raise SystemExit(f"{len(bad)} requests failed: {bad[0].errors[0].sentence}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--latency", type=float, default=2.0, help="seconds the server waits per request")
    ap.add_argument("--requests", type=int, default=8)
    ap.add_argument("--sequential", action="store_true", help="also run with a pool of 1 (slow: requests × latency)")
    args = ap.parse_args()

    srv = start_server()
    try:
        client = openai.OpenAI(api_key="sk-offline", base_url=srv.base_url, max_retries=0, timeout=60,
                               default_headers={"x-imagelab-fault": f"latency:{args.latency:g}"})
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(tmp)
            single = timed_sweep(client, store, 1, 1, "single")
            rows = [("1 request alone", 1, single, 1.0, "")]
            pooled = timed_sweep(client, store, args.requests, args.requests, "pooled")
            ratio = pooled / single
            rows.append((f"{args.requests} requests, pool of {args.requests}", args.requests, pooled, ratio,
                         f"≤ 1.5  {'OK' if ratio <= 1.5 else 'MISSED'}"))
            if args.sequential:
                seq = timed_sweep(client, store, args.requests, 1, "sequential")
                rows.append((f"{args.requests} requests, pool of 1", 1, seq, seq / single, f"≈ {args.requests}"))
    finally:
        srv.stop()

    print(f"Sweep concurrency, offline backend, {args.latency:g} s injected latency per request")
    print(f"{'run':<28} {'workers':>7} {'wall s':>8} {'wall/single':>12}  target")
    for name, workers, wall, ratio, target in rows:
        print(f"{name:<28} {workers:>7} {wall:>8.2f} {ratio:>12.2f}  {target}")
    if not args.sequential:
        print("(add --sequential for the pool-of-1 contrast; it takes about "
              f"{args.requests * args.latency:.0f} s)")


if __name__ == "__main__":
    main()
