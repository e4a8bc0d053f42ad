"""ImageLab's speed figures, printed as a table beside their targets.

Run: .venv/bin/python tests/bench/bench.py   (no network; uses the offline backend's renderer)
"""

from __future__ import annotations

import base64
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from imagelab.client import _final  # noqa: E402  (the exact decode-and-check path a response takes)
from imagelab.costs import estimate  # noqa: E402
from imagelab.images import preview_bytes  # noqa: E402
from imagelab.offline.render import render  # noqa: E402
from imagelab.specs import GenerateSpec  # noqa: E402
from imagelab.store import Store  # noqa: E402

ROWS: list[tuple[str, float, str, str]] = []


def report(name: str, value: float, unit: str, target: str) -> None:
    ROWS.append((name, value, unit, target))
    print(f"{name:<58} {value:>10.2f} {unit:<4} target {target}", flush=True)


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
    report("response → saved and shown, 1024x1024 PNG (p95)", sorted(times)[int(len(times) * 0.95) - 1], "ms", "≤ 50 ms")


def bench_estimate() -> None:
    spec = GenerateSpec(prompt="a red fox " * 20, quality="medium", size="1536x1024", n=4, partial_images=2)
    n = 2000
    t = time.perf_counter()
    for _ in range(n):
        estimate(spec)
    report("estimate(spec)", (time.perf_counter() - t) * 1000 / n, "ms", "≤ 1 ms")


def bench_generate_rerun(store: Store) -> None:
    """The Generate page's rerun with 50 results in the session."""
    from streamlit.testing.v1 import AppTest

    from components import state
    from imagelab.runner import RunResult

    spec = GenerateSpec(prompt="A field of orange poppies under a blue sky", size="1024x1024", quality="low")
    results = []
    for i in range(50):
        run_id = store.start_run("generate", spec.model, spec.prompt, spec.to_record())
        png = render(f"{spec.prompt} {i}", 1024, 1024, output_format="png", quality="low", index=i)
        rec = store.add_image(run_id, 0, png, "png", 1024, 1024)
        results.append(RunResult(run_id, "generate", spec.model, spec.prompt, estimate(spec), images=[rec]))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/1_Generate.py")
    at.session_state[state.GEN_RESULTS] = results
    at.run()  # first run makes and caches the previews
    assert not at.exception, at.exception
    times = []
    for _ in range(10):
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
    report("Generate page rerun with 50 results (median)", statistics.median(times), "ms", "≤ 200 ms")


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
    at.run()
    assert not at.exception, at.exception
    times = []
    for _ in range(10):
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
    report("Conversation page rerun, 30-turn conversation (median)", statistics.median(times), "ms", "≤ 300 ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMAGELAB_DATA_DIR"] = tmp
        store = Store(tmp)
        bench_estimate()
        bench_save_and_show(store)
        bench_generate_rerun(store)
        bench_mask()
        bench_sixteen_inputs(store)
        bench_conversation_rerun(store)
    print()
    print("| figure | value | target |")
    print("| --- | --- | --- |")
    for name, value, unit, target in ROWS:
        print(f"| {name} | {value:.2f} {unit} | {target} |")


if __name__ == "__main__":
    main()
