"""Speed of a shared history (PostgreSQL + S3-compatible storage) beside the single-user one, in one run.

Run: .venv/bin/python tests/bench/bench_shared.py [--check]   (starts its own PostgreSQL and SeaweedFS on loopback;
     --check exits 1 when a figure misses its target)

- The Gallery's first page with 10,000 pictures: PostgreSQL ÷ SQLite (target ≤ 1.5×).
- A picture from the response's bytes to what shows it (saved, its display copy made; with S3 the copy is
  on its way to the bucket): S3 ÷ the data folder (target ≤ 1.2×), measured in turns, 40 pictures each.
- Copying a single-user history of 1,000 pictures into PostgreSQL + S3 (target ≤ 60 s).
- Memory at its peak while a 200 MB export is made: as a zip handed to a download button (before), sent to
  the bucket for a download link (``export_link``, after) and, without shared storage, written to the file
  the Gallery links to (``export_files``, after); traced Python allocations. The issue set no figure; the
  target here is a bound that does not grow with the export: two 8 MB parts on their way up and one picture
  being added, under 40 MB.

``figures()`` gives (name, value, target, unit) rows for ``tests/bench/bench.py``.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from imagelab.client import _final  # noqa: E402
from imagelab.export import embed_metadata, export_files, export_images, export_link, manifest_records  # noqa: E402
from imagelab.history import schema  # noqa: E402
from imagelab.images import display_copy  # noqa: E402
from imagelab.migrate import copy_history  # noqa: E402
from imagelab.offline.render import render  # noqa: E402
from imagelab.store import Store, content_hash  # noqa: E402
from tests.services.postgres import postgres_server  # noqa: E402
from tests.services.seaweed import Seaweed  # noqa: E402

GALLERY_PICTURES = 10_000
COPIED_PICTURES = 1_000
EXPORT_MB = 200
SAVED_ROUNDS = 40  # pictures saved in each place: enough for the median to move by under a few percent


def _fill(store: Store, count: int) -> None:
    """``count`` pictures, each with its run, in one transaction (the files written as the app writes them)."""
    base = Image.new("RGB", (64, 64), (90, 120, 200))
    runs, images = [], []
    for i in range(count):
        buf = io.BytesIO()
        base.putpixel((i % 64, (i // 64) % 64), (i % 255, 0, 0))
        base.save(buf, "PNG", compress_level=1)
        data = buf.getvalue()
        digest = store.write_bytes(data, "png")
        runs.append({"page": "generate", "model": "gpt-image-2" if i % 3 else "gpt-image-1.5",
                     "prompt": f"picture number {i}", "params": "{}", "status": "ok", "est_dollars": 0.01,
                     "actual_dollars": 0.01, "started_at": 1.7e9 + i, "finished_at": 1.7e9 + i, "billed": 1})
        images.append({"idx": 0, "hash": digest, "format": "png", "width": 64, "height": 64, "bytes": len(data),
                       "created_at": 1.7e9 + i})
    with store.database.write() as db:
        ids = [db.execute(schema.runs.insert().values(r).returning(schema.runs.c.id)).scalar_one() for r in runs]
        db.execute(schema.images.insert(), [{**img, "run_id": rid} for img, rid in zip(images, ids, strict=True)])


def _gallery_first_page(data_dir: str, database_url: str) -> float:
    """The Gallery's first page as the app draws it (AppTest), median of 5 warm runs, in ms."""
    from streamlit.testing.v1 import AppTest

    from components import state

    os.environ["IMAGELAB_DATA_DIR"] = data_dir
    os.environ["IMAGELAB_DATABASE_URL"] = database_url
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state[state.VIEW_SEEN] = True
        at.run()
        at.switch_page("pages/6_Gallery.py")
        at.run()  # thumbnails made once, caches filled
        assert not at.exception, at.exception
        times = []
        for _ in range(5):
            t = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)
    finally:
        os.environ.pop("IMAGELAB_DATABASE_URL", None)


def _saved_to_shown(folder: Store, s3: Store, rounds: int = SAVED_ROUNDS, *, one_after_the_other: bool = False
                    ) -> tuple[float, float]:
    """Response bytes → decoded and checked, saved (bytes + row), display copy made and, with shared storage,
    sent on its way beside the picture (``components.results.picture_source``); median ms in the data folder
    and in S3.

    The two are measured in turns, each round with the same new picture and the one that goes first
    alternating, so a machine busy with something else slows both alike and the ratio holds still from one
    run to the next. The copy is made while the picture is saved, as the run engine does
    (``RunEngine._handle``); ``one_after_the_other`` measures the earlier order, saved first and then copied."""
    prompt = "A teal lighthouse on a red cliff at dusk"
    runs = {id(store): store.start_run("generate", "gpt-image-2", prompt, {}) for store in (folder, s3)}
    copier = ThreadPoolExecutor(2)
    times: dict[int, list[float]] = {id(folder): [], id(s3): []}
    for i in range(rounds):
        png = render(f"{prompt} {i} {one_after_the_other}", 1024, 1024, output_format="png", quality="high", index=i)
        # the same picture with a word of its own for each place, so neither finds the other's display copy made
        b64 = {id(store): base64.b64encode(embed_metadata(png, "png", {"prompt": str(store.root)})).decode()
               for store in (folder, s3)}
        for store in ((folder, s3) if i % 2 == 0 else (s3, folder)):
            t = time.perf_counter()
            final = _final(i, b64[id(store)], "png")
            copying = None if one_after_the_other else copier.submit(display_copy, content_hash(final.data),
                                                                     lambda final=final: final.data)
            rec = store.add_image(runs[id(store)], i, final.data, final.output_format, final.width, final.height)
            copy = copying.result() if copying is not None else \
                display_copy(rec.hash, lambda rec=rec, store=store: store.read_bytes(rec.hash, rec.format))
            if store.shares_pictures:  # as the page does: the copy goes up in the background, its bytes are shown
                store.copy_url(f"{rec.hash}-768", lambda copy=copy: (copy, ".jpg"), wait=False)
            times[id(store)].append((time.perf_counter() - t) * 1000)
    copier.shutdown()
    return statistics.median(times[id(folder)]), statistics.median(times[id(s3)])


def _export_peaks(folder: Path, storage_url: str) -> tuple[float, float, float]:
    """Peak traced memory (MB) of a ~200 MB export: the zip as bytes (what a download button is given), the
    same export sent to the storage for a link, and, without shared storage, written to the file the page
    links to (``export_files``). Pictures of noise, so the zip is as large as they are."""
    import tracemalloc

    import numpy as np

    shared = Store(folder / "s3", database_url="", storage_url=storage_url)
    local = Store(folder / "folder", database_url="", storage_url="")
    runs = [store.start_run("generate", "gpt-image-2", "noise, for the export's size", {}) for store in (shared, local)]
    noise = np.random.default_rng(7)
    ids: tuple[list[int], list[int]] = ([], [])
    total = 0
    while total < EXPORT_MB * 1024 * 1024:
        buf = io.BytesIO()
        Image.fromarray(noise.integers(0, 256, (1290, 1290, 3), dtype=np.uint8)).save(buf, "PNG", compress_level=0)
        for store, run, made in zip((shared, local), runs, ids, strict=True):
            made.append(store.add_image(run, len(made), buf.getvalue(), "png", 1290, 1290).id)
        total += len(buf.getvalue())
    shared.close()
    local.close()
    peaks = []
    exports = folder / "static" / "exports"
    for where, make in (("s3", export_images),
                        ("s3", lambda store, chosen: export_link(store, manifest_records(store, chosen))),
                        ("folder", lambda store, ids: export_files(store, manifest_records(store, ids), exports))):
        fresh = Store(folder / where, database_url="", storage_url=storage_url if where == "s3" else "")
        tracemalloc.start()  # after the store is open: nothing of the pictures in memory yet
        try:
            made_export = make(fresh, ids[0] if where == "s3" else ids[1])
            peaks.append(tracemalloc.get_traced_memory()[1] / 1024 / 1024)
        finally:
            tracemalloc.stop()
        del made_export
        fresh.close()
    return peaks[0], peaks[1], peaks[2]


def _single_user_history(folder: Path, count: int) -> None:
    store = Store(folder, database_url="", storage_url="")
    _fill(store, count)
    store.close()


def figures() -> list[tuple[str, float, float, str]]:
    rows: list[tuple[str, float, float, str]] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        pg = stack.enter_context(postgres_server())
        weed = Seaweed(Path(tmp) / "weed").start()
        stack.callback(weed.stop)
        saved_env = {k: os.environ.get(k) for k in weed.env}
        os.environ.update(weed.env)
        stack.callback(lambda: [os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
                                for k, v in saved_env.items()])

        lite_dir, pg_dir = Path(tmp) / "sqlite", Path(tmp) / "pg"
        pg_url = pg.create_database("gallery")
        lite = Store(lite_dir, database_url="", storage_url="")
        shared_records = Store(pg_dir, database_url=pg_url, storage_url="")
        started = time.perf_counter()
        _fill(lite, GALLERY_PICTURES)
        _fill(shared_records, GALLERY_PICTURES)
        print(f"  (two histories of {GALLERY_PICTURES:,} pictures in {time.perf_counter() - started:.1f} s)",
              flush=True)
        lite_ms = _gallery_first_page(str(lite_dir), "")
        pg_ms = _gallery_first_page(str(pg_dir), pg_url)
        rows += [(f"Gallery first page, {GALLERY_PICTURES:,} pictures, SQLite (median)", lite_ms, -1, "ms"),
                 (f"Gallery first page, {GALLERY_PICTURES:,} pictures, PostgreSQL (median)", pg_ms, -1, "ms"),
                 ("Gallery first page, PostgreSQL ÷ SQLite", pg_ms / lite_ms, 1.5, "×")]
        shared_records.close()
        lite.close()

        folder = Store(Path(tmp) / "folder", database_url="", storage_url="")
        s3 = Store(Path(tmp) / "s3", database_url="", storage_url=f"s3://{weed.bucket}/bench")
        folder_then, s3_then = _saved_to_shown(folder, s3, SAVED_ROUNDS // 2, one_after_the_other=True)
        folder_ms, s3_ms = _saved_to_shown(folder, s3)
        rows += [(f"picture saved → shown, 1024x1024 PNG, data folder (median of {SAVED_ROUNDS})", folder_ms, -1,
                  "ms"),
                 (f"picture saved → shown, 1024x1024 PNG, S3 (median of {SAVED_ROUNDS})", s3_ms, -1, "ms"),
                 ("picture saved → shown, S3 ÷ data folder", s3_ms / folder_ms, 1.2, "×"),
                 ("  the same, saved then copied (the earlier order), data folder (median)", folder_then, -1, "ms"),
                 ("  the same, saved then copied (the earlier order), S3 (median)", s3_then, -1, "ms"),
                 ("  the same, saved then copied (the earlier order), S3 ÷ data folder", s3_then / folder_then, -1,
                  "×")]
        folder.close()
        s3.close()

        zipped, linked, served = _export_peaks(Path(tmp) / "export", f"s3://{weed.bucket}/export")
        rows += [(f"peak memory, {EXPORT_MB} MB export, zip for the download button (before)", zipped, -1, "MB"),
                 (f"peak memory, {EXPORT_MB} MB export, sent to S3 for a link (after)", linked, 40, "MB"),
                 (f"peak memory, {EXPORT_MB} MB export, data folder: a served file for a link (after)", served, 40,
                  "MB")]

        source = Path(tmp) / "one-person"
        _single_user_history(source, COPIED_PICTURES)
        summary = copy_history(source, pg.create_database("team"), f"s3://{weed.bucket}/team",
                               work_dir=Path(tmp))
        assert summary.complete, summary.lines()
        rows.append((f"copy a history of {COPIED_PICTURES:,} pictures into PostgreSQL + S3", summary.seconds, 60,
                     "s"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    args = parser.parse_args(argv)
    missed = 0
    for name, value, target, unit in figures():
        ok = target < 0 or value <= target
        missed += not ok
        print(f"{name:<78} {value:>9.2f} {unit:<2} target {'≤ ' + format(target, 'g') if target >= 0 else '—':<6} "
              f"{'' if target < 0 else 'PASS' if ok else 'MISS'}", flush=True)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
