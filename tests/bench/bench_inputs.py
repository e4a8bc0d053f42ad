"""Big uploads on the edit pages: peak memory and time, each measured in a fresh process.

Run: .venv/bin/python tests/bench/bench_inputs.py [--check]

- Mask edit with a 48-megapixel photo (an 8000x6000 JPEG with photo-like gradients and grain)
  and an 800x600 black-and-white mask, both uploaded through the page's own uploaders in
  Streamlit's AppTest: the peak resident memory of the process running the page, the time from
  the photo's upload until the canvas and the mask preview are on the page, and a later rerun
  (typing in the prompt).
- Reference edit with a 9000x9000 16-bit grayscale PNG (a smooth gradient, about 200 KB): the
  peak resident memory of the process running the page.

``figures()`` returns ``(name, value, target, unit)`` rows for the main benchmark; ``--check``
exits non-zero when a figure misses its target. No network: nothing is sent to a model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1.element_tree import FileUploader

ROOT = Path(__file__).resolve().parents[2]

PHOTO_SIZE = (8000, 6000)
MASK_SIZE = (800, 600)
SIXTEEN_BIT_SIDE = 9000

TARGETS = {
    "mask_peak": 600.0,
    "mask_ready": 3000.0,
    "mask_rerun": 300.0,
    "ref_peak": 600.0,
}


# --------------------------------------------------------------------------- test pictures


def make_photo(path: Path, size: tuple[int, int] = PHOTO_SIZE) -> None:
    """A JPEG that compresses like a photo: a sky-to-ground gradient, soft blobs of colour,
    and per-pixel grain, written band by band so making it stays small in memory."""
    import numpy as np
    from PIL import Image, ImageFilter

    w, h = size
    rng = np.random.default_rng(7)
    small = Image.fromarray(rng.integers(0, 256, (h // 40, w // 40, 3), dtype=np.uint8))
    blobs = small.filter(ImageFilter.GaussianBlur(6)).resize((w, h), Image.Resampling.BILINEAR)
    out = Image.new("RGB", (w, h))
    band = 500
    ys = np.arange(band, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    for top in range(0, h, band):
        rows = min(band, h - top)
        blob = np.asarray(blobs.crop((0, top, w, top + rows)), dtype=np.int16)
        t = (top + ys[:rows]) / h
        sky = np.stack([90 + 100 * t + 20 * xs / w, 140 + 60 * t + 0 * xs, 220 - 120 * t + 0 * xs], axis=-1)
        grain = rng.integers(-12, 13, (rows, w, 3), dtype=np.int16)
        px = (sky.astype(np.int16) * 2 + blob) // 3 + grain
        out.paste(Image.fromarray(np.clip(px, 0, 255).astype(np.uint8)), (0, top))
    out.save(path, "JPEG", quality=90)


def make_mask(path: Path, size: tuple[int, int] = MASK_SIZE) -> None:
    """Black, with a white ellipse in the middle (the part to edit)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", size, 0)
    w, h = size
    ImageDraw.Draw(img).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=255)
    img.convert("1").save(path, "PNG")


def make_sixteen_bit(path: Path, side: int = SIXTEEN_BIT_SIDE) -> None:
    """A 16-bit grayscale PNG: a diagonal gradient, which compresses to a few hundred KB."""
    import numpy as np
    from PIL import Image

    row = (np.arange(side, dtype=np.uint32) * 65535 // (side - 1)).astype(np.uint16)
    arr = np.empty((side, side), dtype=np.uint16)
    for y in range(side):
        arr[y] = np.roll(row, y // 64)
    Image.fromarray(arr).save(path, "PNG", compress_level=9)  # uint16 opens as I;16


# --------------------------------------------------------------------------- measured in a child


def _peak_mb() -> float:
    """This process's peak resident memory. On Linux from VmHWM: ``ru_maxrss`` survives exec, so a
    child started by a big parent would report the parent's size, not its own."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KB on Linux


def _open_page(page: str) -> AppTest:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def _uploader(at: AppTest, key_prefix: str) -> FileUploader:
    for up in at.file_uploader:
        if (up.key or "").startswith(key_prefix):
            return up
    raise AssertionError(f"no uploader {key_prefix!r} on the page")


def _has_canvas(at: AppTest) -> bool:
    """The canvas is a custom component (an unknown element to AppTest); its caption follows it."""
    return any("Paint over what should change" in c.value for c in at.caption)


def _worker_mask(photo: Path, mask: Path) -> dict[str, float]:
    from components import state

    at = _open_page("pages/3_Mask_edit.py")
    started = time.perf_counter()
    _uploader(at, f"upl_{state.MASK}_").set_value((photo.name, photo.read_bytes(), "image/jpeg"))
    at.run()
    assert not at.exception, at.exception
    assert _has_canvas(at), "the canvas is not on the page"
    canvas_ms = (time.perf_counter() - started) * 1000
    at.button_group(key=state.MASK_MODE).set_value("Upload a mask")
    at.run()
    at.file_uploader(key=state.MASK_UPLOAD).set_value((mask.name, mask.read_bytes(), "image/png"))
    at.run()
    assert not at.exception, at.exception
    assert any("Mask preview" in (getattr(img, "caption", "") or "") for img in _images(at)), \
        "the mask preview is not on the page"
    ready_ms = (time.perf_counter() - started) * 1000
    times = []
    for i in range(6):
        at.text_area(key=state.MASK_PROMPT).input(f"A calm lake at dawn with {i + 1} rowing boats")
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1000)
        assert not at.exception, at.exception
    return {"canvas_ms": canvas_ms, "ready_ms": ready_ms, "rerun_ms": statistics.median(times[1:]),
            "peak_mb": _peak_mb()}


def _images(at: AppTest) -> list[Any]:
    """The page's images with their captions (st.image is an ``imgs`` element in AppTest)."""
    return [img for el in at.get("image") for img in el.proto.imgs]


def _worker_reference(png: Path) -> dict[str, float]:
    from components import state

    at = _open_page("pages/2_Reference_edit.py")
    started = time.perf_counter()
    _uploader(at, f"upl_{state.REF}_").set_value([(png.name, png.read_bytes(), "image/png")])
    at.run()
    assert not at.exception, at.exception
    staged = at.session_state[f"{state.REF}_images"]
    assert len(staged) == 1, [e.value for e in at.error]
    return {"ready_ms": (time.perf_counter() - started) * 1000, "peak_mb": _peak_mb(),
            "width": staged[0].width, "height": staged[0].height}


def _child(args: list[str], data_dir: str) -> dict[str, float]:
    env = dict(os.environ, IMAGELAB_DATA_DIR=data_dir, PYTHONPATH=str(ROOT))
    env.pop("OPENAI_API_KEY", None)
    proc = subprocess.run([sys.executable, __file__, "--worker", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the measured page failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- figures


def figures() -> list[tuple[str, float, float, str]]:
    """``(name, value, target, unit)`` for each figure, every page run in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        photo, mask, sixteen = tmpdir / "photo.jpg", tmpdir / "mask.png", tmpdir / "sixteen.png"
        # Made in a child of their own, so this process stays small while it starts the measured ones.
        subprocess.run([sys.executable, __file__, "--make", tmp], cwd=ROOT, check=True, timeout=600)
        (tmpdir / "data1").mkdir()
        (tmpdir / "data2").mkdir()
        m = _child(["mask", str(photo), str(mask)], str(tmpdir / "data1"))
        r = _child(["reference", str(sixteen)], str(tmpdir / "data2"))
        photo_mb = photo.stat().st_size / 1e6
        sixteen_kb = sixteen.stat().st_size / 1e3
    w, h = PHOTO_SIZE
    mw, mh = MASK_SIZE
    s = SIXTEEN_BIT_SIDE
    return [
        (f"Mask edit, {w}x{h} JPEG ({photo_mb:.0f} MB) + {mw}x{mh} mask: peak RSS", m["peak_mb"],
         TARGETS["mask_peak"], "MB"),
        ("Mask edit, upload until canvas and mask preview are shown", m["ready_ms"], TARGETS["mask_ready"], "ms"),
        ("Mask edit with that photo and mask: rerun after typing (median)", m["rerun_ms"], TARGETS["mask_rerun"],
         "ms"),
        (f"Reference edit, {s}x{s} 16-bit PNG ({sixteen_kb:.0f} KB): peak RSS", r["peak_mb"], TARGETS["ref_peak"],
         "MB"),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit non-zero when a figure misses its target")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--make", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make:
        folder = Path(args.make)
        make_photo(folder / "photo.jpg")
        make_mask(folder / "mask.png")
        make_sixteen_bit(folder / "sixteen.png")
        return 0
    if args.worker:
        sys.path.insert(0, str(ROOT))
        kind, *paths = args.worker
        result = _worker_mask(Path(paths[0]), Path(paths[1])) if kind == "mask" else _worker_reference(Path(paths[0]))
        print(json.dumps(result))
        return 0
    rows = figures()
    print(f"{'figure':<72} {'value':>9}  {'target':>9}  result")
    missed = 0
    for name, value, target, unit in rows:
        ok = value <= target
        missed += not ok
        print(f"{name:<72} {value:>6.0f} {unit:<2}  ≤ {target:>5.0f} {unit:<2}  {'PASS' if ok else 'MISS'}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
