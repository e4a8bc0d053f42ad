"""ImageLab's speed figures, printed as a table beside their targets.

Run: .venv/bin/python tests/bench/bench.py [--check]   (no network; uses the offline backend's renderer)
With --check it exits 1 when a figure misses its target. It is not part of the test suite: timings
on a shared machine are not pass/fail material for every run.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from imagelab.client import _final  # noqa: E402  (the exact decode-and-check path a response takes)
from imagelab.costs import estimate  # noqa: E402
from imagelab.history import schema  # noqa: E402
from imagelab.images import preview_bytes  # noqa: E402
from imagelab.offline.render import render  # noqa: E402
from imagelab.specs import GenerateSpec  # noqa: E402
from imagelab.store import Store  # noqa: E402

ROWS: list[tuple[str, float, str, str, str]] = []


def verdict(value: float, target: str) -> str:
    """PASS or MISS against a target written "≤ N unit"; "—" (no target) when there is none."""
    match = re.match(r"≤\s*([0-9][0-9,]*(?:\.[0-9]+)?)", target)
    if not match:
        return "—"
    return "PASS" if value <= float(match.group(1).replace(",", "")) else "MISS"


def report(name: str, value: float, unit: str, target: str) -> None:
    outcome = verdict(value, target)
    ROWS.append((name, value, unit, target, outcome))
    print(f"{name:<58} {value:>10.2f} {unit:<4} target {target:<10} {outcome}", flush=True)


def median_rerun(at, runs: int = 10) -> float:
    """A page's rerun time in ms (median), after a first run that fills the caches."""
    at.run()
    assert not at.exception, at.exception
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_save_and_show(store: Store) -> None:
    """Response bytes → decoded, checked, saved (file + row) and a display preview made."""
    spec = GenerateSpec(prompt="A teal lighthouse on a red cliff at dusk", size="1024x1024", quality="high")
    times = []
    run = store.start_run("generate", spec.model, spec.prompt, spec.to_record())
    for i in range(20):
        png = render(f"{spec.prompt} {i}", 1024, 1024, output_format="png", quality="high", index=i)
        b64 = base64.b64encode(png).decode()
        t = time.perf_counter()
        final = _final(i, b64, "png")
        rec = store.add_image(run, i, final.data, final.output_format, final.width, final.height)
        preview_bytes(store.read_bytes(rec.hash, rec.format))
        times.append((time.perf_counter() - t) * 1000)
    report("response → saved and shown, 1024x1024 PNG (median)", statistics.median(times), "ms", "≤ 50 ms")
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    report("response → saved and shown, 1024x1024 PNG (p95)", p95, "ms", "≤ 50 ms")


def bench_estimate() -> None:
    spec = GenerateSpec(prompt="a red fox " * 20, quality="medium", size="1536x1024", n=4, partial_images=2)
    n = 2000
    t = time.perf_counter()
    for _ in range(n):
        estimate(spec)
    report("estimate(spec)", (time.perf_counter() - t) * 1000 / n, "ms", "≤ 1 ms")


def bench_generate_rerun(store: Store) -> None:
    """The Generate page's rerun with 50 runs of its own in the history (it shows the newest 8)."""
    from streamlit.testing.v1 import AppTest

    spec = GenerateSpec(prompt="A field of orange poppies under a blue sky", size="1024x1024", quality="low")
    for i in range(50):
        run_id = store.start_run("generate", spec.model, spec.prompt, spec.to_record(), requested=1)
        png = render(f"{spec.prompt} {i}", 1024, 1024, output_format="png", quality="low", index=i)
        store.add_image(run_id, 0, png, "png", 1024, 1024)
        store.finish_run(run_id, "ok")
    from components import state

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/1_Generate.py")
    at.session_state[state.VIEW_SEEN] = True  # past the session's brief first view: the whole page reruns
    report("Generate page rerun with 50 runs in the history (median)", median_rerun(at), "ms", "≤ 200 ms")


def bench_mask() -> None:
    """Canvas strokes (a 640x427 canvas) to the API mask of a 1536x1024 picture."""
    import numpy as np

    from imagelab.masks import mask_from_strokes

    strokes = np.zeros((427, 640, 4), np.uint8)
    strokes[80:220, 100:400] = (255, 0, 80, 153)
    times = []
    for _ in range(30):
        t = time.perf_counter()
        mask_from_strokes(strokes, (1536, 1024))
        times.append((time.perf_counter() - t) * 1000)
    report("mask from strokes, 1536x1024 (median)", statistics.median(times), "ms", "≤ 30 ms")


def bench_sixteen_inputs(store: Store) -> None:
    """Normalising and staging 16 uploads of 1024x1024, then building the edit request."""
    from imagelab.inputs import stage_input
    from imagelab.specs import EditSpec

    uploads = [render(f"reference {i}", 1024, 1024, output_format="png", quality="low", index=i) for i in range(16)]
    t = time.perf_counter()
    images = tuple(stage_input(store, data, f"ref{i}.png")[0] for i, data in enumerate(uploads))
    spec = EditSpec(prompt="all sixteen things in one basket", images=images)
    assert not spec.problems()
    spec.to_sdk_kwargs()
    estimate(spec)
    report("16 inputs of 1024x1024: staged, checked, request built", (time.perf_counter() - t) * 1000, "ms", "—")


def bench_conversation_rerun(store: Store) -> None:
    """The Conversation page's rerun with a 30-turn conversation open."""
    from streamlit.testing.v1 import AppTest

    from components import state

    conv = store.new_conversation("a long conversation")
    parent = None
    for i in range(30):
        run_id = store.start_run("conversation", "gpt-image-2.6-sunburst", f"turn {i}", {})
        png = render(f"turn {i}", 1024, 1024, output_format="png", quality="low", index=i)
        rec = store.add_image(run_id, 0, png, "png", 1024, 1024)
        store.finish_run(run_id, "ok", usage={"total_tokens": 300}, actual_dollars=0.01)
        parent = store.add_turn(conv, parent_id=parent, run_id=run_id, prompt=f"turn {i}: make it bluer",
                                attachments=[], status="ok", response_id=f"resp_{i}", image_call_id=f"ig_{i}",
                                image_hash=rec.hash, image_format="png", revised_prompt=f"a bluer picture {i}",
                                reply="Here it is.")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/4_Conversation.py")
    at.session_state[state.CONV_ID] = conv
    at.session_state[state.CONV_PICKER] = conv
    at.session_state[state.CONV_HEAD] = parent
    report("Conversation page rerun, 30-turn conversation (median)", median_rerun(at), "ms", "≤ 300 ms")


def bench_gallery(tmp: str) -> None:
    """The Gallery's first and next page with 10,000 images in the store."""
    import io as _io

    from PIL import Image
    from streamlit.testing.v1 import AppTest

    store = Store(tmp)
    started = time.perf_counter()
    base = Image.new("RGB", (64, 64), (90, 120, 200))
    with store.database.write() as db:  # bulk rows in one transaction; files written as the app writes them
        for i in range(10_000):
            buf = _io.BytesIO()
            base.putpixel((i % 64, (i // 64) % 64), (i % 255, 0, 0))
            base.save(buf, "PNG", compress_level=1)
            data = buf.getvalue()
            digest = store.write_bytes(data, "png")
            run_id = db.execute(schema.runs.insert().values(
                page="generate", model="gpt-image-2" if i % 3 else "gpt-image-1.5", prompt=f"picture number {i}",
                params="{}", status="ok", est_dollars=0.01, actual_dollars=0.01, started_at=1.7e9 + i,
                finished_at=1.7e9 + i).returning(schema.runs.c.id)).scalar_one()
            db.execute(schema.images.insert().values(run_id=run_id, idx=0, hash=digest, format="png", width=64,
                                                     height=64, bytes=len(data), created_at=1.7e9 + i))
    print(f"  (filled the store with 10,000 images in {time.perf_counter() - started:.1f} s)", flush=True)
    os.environ["IMAGELAB_DATA_DIR"] = tmp
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/6_Gallery.py")
    t = time.perf_counter()
    at.run()
    first = (time.perf_counter() - t) * 1000
    assert not at.exception, at.exception
    t = time.perf_counter()
    at.button(key="btn_gallery_next_top").click().run()
    nxt = (time.perf_counter() - t) * 1000
    report("Gallery first page, 10,000 images in the store", first, "ms", "≤ 1000 ms")
    report("Gallery next page, 10,000 images in the store", nxt, "ms", "≤ 300 ms")


def bench_others() -> None:
    """The engine's, the big-input, the batch, the shared history's, the queue's, the browser and the team figures, from
    their own scripts."""
    from tests.bench import (
        bench_batch,
        bench_browser,
        bench_engine,
        bench_inputs,
        bench_queue,
        bench_shared,
        bench_team,
    )

    for name, value, target, unit in [*bench_engine.figures(), *bench_inputs.figures(), *bench_batch.figures(),
                                      *bench_shared.figures(), *bench_queue.figures(), *bench_browser.figures(),
                                      *bench_team.figures()]:
        report(name, value, unit, f"≤ {target:g}" if 0 <= target != bench_browser.NO_TARGET else "—")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMAGELAB_DATA_DIR"] = tmp
        store = Store(tmp)
        bench_estimate()
        bench_save_and_show(store)
        bench_generate_rerun(store)
        bench_mask()
        bench_sixteen_inputs(store)
        bench_conversation_rerun(store)
    with tempfile.TemporaryDirectory() as tmp:
        bench_gallery(tmp)
    bench_others()
    print()
    print("| figure | value | target | |")
    print("| --- | --- | --- | --- |")
    for name, value, unit, target, outcome in ROWS:
        print(f"| {name} | {value:.2f} {unit} | {target} | {outcome} |")
    missed = [name for name, *_, outcome in ROWS if outcome == "MISS"]
    if missed:
        print(f"\n{len(missed)} figure(s) missed their target: " + "; ".join(missed))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
