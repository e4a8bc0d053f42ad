"""Settings inside image files, loading them back safely, and the zip export."""

import csv
import hashlib
import io
import json
import os
import struct
import time
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from imagelab.export import MANIFEST_COLUMNS, embed_metadata, export_zip, read_metadata, settings_from_metadata
from imagelab.specs import GenerateSpec

SPEC = GenerateSpec(prompt="A teal lighthouse on a red cliff", size="1024x1536", quality="high",
                    output_format="webp", output_compression=80)
RECORD = {"hash": "ab" * 32, "format": "png", "prompt": SPEC.prompt, "model": SPEC.model, "page": "generate",
          "params": SPEC.to_record(), "usage": {"input_tokens": 9, "output_tokens": 272, "total_tokens": 281},
          "est_dollars": 0.25, "actual_dollars": 0.24, "request_id": "req_123", "created_at": 1_760_000_000.0,
          "width": 24, "height": 16}


def picture(mode="RGB", size=(24, 16), seed=1):
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    return Image.fromarray(arr, "RGBA").convert(mode)


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def pixels(data):
    with Image.open(io.BytesIO(data)) as img:
        return img.mode, np.asarray(img.convert("RGBA"))


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L"])
def test_png_round_trip_keeps_pixels_exactly(mode):
    data = encode(picture(mode), "PNG")
    out = embed_metadata(data, "png", RECORD)
    (m1, a1), (m2, a2) = pixels(data), pixels(out)
    assert m1 == m2 and np.array_equal(a1, a2)
    meta = read_metadata(out)
    assert meta["prompt"] == SPEC.prompt and meta["page"] == "generate" and meta["params"] == SPEC.to_record()
    with Image.open(io.BytesIO(out)) as img:  # other tools see it too
        assert json.loads(img.text["imagelab"])["model"] == SPEC.model
        assert img.text["Description"] == SPEC.prompt
    again = embed_metadata(out, "png", {**RECORD, "prompt": "second"})  # replaced, not stacked
    assert read_metadata(again)["prompt"] == "second" and again.count(b"iTXtimagelab") == 1


def test_long_prompt_is_compressed_and_still_reads_back():
    long = {**RECORD, "prompt": "a fox " * 3000}
    out = embed_metadata(encode(picture(), "PNG"), "png", long)
    assert read_metadata(out)["prompt"] == long["prompt"]


@pytest.mark.parametrize("kw", [{"quality": 70}, {"lossless": True}])
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_webp_round_trip_keeps_pixels_exactly(mode, kw):
    data = encode(picture(mode), "WEBP", **kw)
    out = embed_metadata(data, "webp", RECORD)
    assert np.array_equal(pixels(data)[1], pixels(out)[1])
    assert read_metadata(out)["params"]["output_compression"] == 80
    with Image.open(io.BytesIO(out)) as img:
        xmp = img.info["xmp"]
        assert b"imagelab:record" in (xmp if isinstance(xmp, bytes) else xmp.encode())
    again = embed_metadata(out, "webp", {**RECORD, "prompt": "second <&> \"quoted\""})
    assert read_metadata(again)["prompt"] == "second <&> \"quoted\"" and again.count(b"XMP ") == 1


def test_jpeg_round_trip_keeps_the_scan():
    data = encode(picture(), "JPEG", quality=85)
    out = embed_metadata(data, "jpeg", {**RECORD, "prompt": "é" * 70_000})  # needs several COM segments
    assert np.array_equal(pixels(data)[1], pixels(out)[1])
    assert read_metadata(out)["prompt"] == "é" * 70_000


def test_gif_is_left_alone_and_bad_bytes_are_refused():
    gif = encode(picture("P"), "GIF")
    assert embed_metadata(gif, "gif", RECORD) == gif
    with pytest.raises(ValueError):
        embed_metadata(b"\x89PNG\r\n\x1a\nnot really", "png", RECORD)


def test_no_metadata_random_truncated_and_bombs_are_none():
    plain = encode(picture(), "PNG")
    assert read_metadata(plain) is None
    assert read_metadata(encode(picture(), "WEBP")) is None
    assert read_metadata(b"") is None and read_metadata(None) is None
    rng = np.random.default_rng(7)
    for _ in range(200):
        assert read_metadata(rng.bytes(int(rng.integers(0, 400)))) is None
    for fmt in ("png", "webp", "jpeg"):
        full = embed_metadata(encode(picture(), fmt.upper()), fmt, RECORD)
        for cut in (5, 20, len(full) // 2, len(full) - 3):
            meta = read_metadata(full[:cut])  # a JPEG cut inside its scan still has its whole header
            assert meta is None or (fmt == "jpeg" and meta["prompt"] == RECORD["prompt"])
        assert read_metadata(b"\x89PNG\r\n\x1a\n" + os.urandom(64)) is None
    # a PNG whose header claims 100000 x 100000 pixels, with valid metadata: refused without decoding
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = lambda k, p: struct.pack(">I", len(p)) + k + p + struct.pack(">I", zlib.crc32(k + p))  # noqa: E731
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"iTXt", b"imagelab\x00\x00\x00\x00\x00{}")
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    assert read_metadata(bomb) is None
    small = bomb.replace(struct.pack(">II", 100_000, 100_000), struct.pack(">II", 10, 10))
    small = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 10, 8, 2, 0, 0, 0)) + small[33:]
    assert read_metadata(small) == {}
    # a zlib bomb inside a compressed iTXt chunk
    zbomb = small.replace(chunk(b"iTXt", b"imagelab\x00\x00\x00\x00\x00{}"),
                          chunk(b"iTXt", b"imagelab\x00\x01\x00\x00\x00" + zlib.compress(b" " * 50_000_000)))
    assert read_metadata(zbomb) is None


def test_settings_from_metadata_round_trip():
    meta = read_metadata(embed_metadata(encode(picture(), "PNG"), "png", RECORD))
    loaded = settings_from_metadata(meta)
    page, settings = loaded
    assert page == "generate" and loaded.dropped == []
    assert GenerateSpec(**settings) == SPEC


def test_settings_from_metadata_drops_unknown_keys_models_and_values():
    meta = {"page": "generate", "model": "gpt-image-9000", "prompt": "a fox",
            "params": {"model": "gpt-image-9000", "quality": "ultra", "n": True, "size": "1024x1024",
                       "__class__": "os.system", "evil": "x", "output_format": "jpeg", "background": "auto"}}
    loaded = settings_from_metadata(meta)
    page, settings = loaded
    text = " ".join(loaded.dropped)
    assert page == "generate"
    assert settings == {"prompt": "a fox", "size": "1024x1024", "output_format": "jpeg", "background": "auto"}
    assert "gpt-image-9000" in text and "not in ImageLab's catalog" in text
    assert "__class__" in text and "evil" in text and "'ultra'" in text
    GenerateSpec(**settings)


def test_settings_from_metadata_checks_values_against_the_model_and_page():
    meta = {"page": "mask_edit", "params": {"model": "gpt-image-1.5", "size": "1536x864", "input_fidelity": "high",
                                            "images": [{"hash": "x"}], "mainline": "gpt-5", "prompt": "swap"}}
    loaded = settings_from_metadata(meta)
    assert loaded.page == "mask_edit"
    assert loaded.settings == {"model": "gpt-image-1.5", "input_fidelity": "high", "prompt": "swap"}
    text = " ".join(loaded.dropped)
    assert "1536x864" in text and "mainline" in text and "attach them again" in text
    # a retired model, an unknown page, a combination the API refuses
    loaded = settings_from_metadata({"page": "admin", "params": {"model": "dall-e-2", "background": "opaque",
                                                                 "output_compression": 50, "output_format": "png"}})
    assert loaded.page == "generate" and "model" not in loaded.settings
    assert "output_compression" not in loaded.settings and loaded.settings["output_format"] == "png"
    assert any("retired" in s for s in loaded.dropped) and any("admin" in s for s in loaded.dropped)
    with pytest.raises(ValueError):
        settings_from_metadata(["not", "a", "dict"])


def test_export_zip_contents():
    png = encode(picture(), "PNG")
    webp = encode(picture("RGBA"), "WEBP", quality=80)
    gif = encode(picture("P"), "GIF")
    blobs = {"a" * 64: png, "b" * 64: webp, "c" * 64: gif}
    records = [
        {**RECORD, "hash": "a" * 64, "format": "png", "api_key": "sk-proj-SECRETSECRETSECRET1234",
         "params": {**RECORD["params"], "headers": {"Authorization": "Bearer sk-proj-SECRETSECRETSECRET1234"}}},
        {**RECORD, "hash": "b" * 64, "format": "webp", "prompt": "=HYPERLINK(\"x\")", "usage": None},
        {**RECORD, "hash": "c" * 64, "format": "gif", "request_id": None},
        {**RECORD, "hash": "d" * 64, "format": "png"},  # its file is gone
    ]

    def read_bytes(digest, fmt):
        return blobs[digest]

    data = export_zip(records, read_bytes)
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    images = [n for n in names if n.startswith("images/")]
    assert images == ["images/01-aaaaaaaaaaaa.png", "images/02-bbbbbbbbbbbb.webp", "images/03-cccccccccccc.gif"]
    assert {"manifest.json", "manifest.csv", "missing.txt"} <= set(names)
    manifest = json.loads(zf.read("manifest.json"))
    assert len(manifest) == len(images)
    assert [m["file"] for m in manifest] == images
    assert manifest[0]["request_id"] == "req_123" and manifest[0]["actual_dollars"] == 0.24
    assert manifest[0]["usage"]["output_tokens"] == 272
    assert read_metadata(zf.read(images[0]))["prompt"] == SPEC.prompt
    assert read_metadata(zf.read(images[1]))["prompt"] == "=HYPERLINK(\"x\")"
    assert np.array_equal(pixels(zf.read(images[0]))[1], pixels(png)[1])
    rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode())))
    assert tuple(rows[0].keys()) == MANIFEST_COLUMNS and len(rows) == len(images)
    assert json.loads(rows[0]["params"])["quality"] == "high"
    assert rows[0]["output_tokens"] == "272"
    assert rows[1]["prompt"].startswith("'=")  # not run as a formula
    assert "d" * 12 in zf.read("missing.txt").decode()
    everything = b"".join(zf.read(n) for n in names)
    assert b"sk-" not in everything and b"SECRET" not in everything and b"api_key" not in everything


def test_export_zip_of_nothing_is_a_valid_zip():
    zf = zipfile.ZipFile(io.BytesIO(export_zip([], lambda h, f: b"")))
    assert json.loads(zf.read("manifest.json")) == []


def test_exporting_a_selection_from_the_history_carries_each_images_run(tmp_path):
    from imagelab.store import Store

    store = Store(tmp_path)
    first = store.start_run("generate", "gpt-image-1", "A teal lighthouse", SPEC.to_record())
    a = store.add_image(first, 0, encode(picture(seed=1), "PNG"), "png", 24, 16)
    store.finish_run(first, "ok", usage={"input_tokens": 9, "output_tokens": 272, "total_tokens": 281},
                     actual_dollars=0.24, request_id="req_first")
    second = store.start_run("edit", "gpt-image-1.5", "Make it night", {"quality": "low"})
    b = store.add_image(second, 0, encode(picture(seed=2), "PNG"), "png", 24, 16, revised_prompt="Night scene")
    store.finish_run(second, "ok", actual_dollars=0.02, request_id="req_second")
    gone = store.add_image(second, 1, encode(picture(seed=3), "PNG"), "png", 24, 16)
    store.delete_image(gone.id)

    from imagelab.export import export_images
    zf = zipfile.ZipFile(io.BytesIO(export_images(store, [b.id, gone.id, a.id])))
    manifest = json.loads(zf.read("manifest.json"))
    assert [(m["prompt"], m["model"], m["page"], m["request_id"]) for m in manifest] == [
        ("Make it night", "gpt-image-1.5", "edit", "req_second"),
        ("A teal lighthouse", "gpt-image-1", "generate", "req_first")]
    assert manifest[0]["revised_prompt"] == "Night scene" and manifest[1]["usage"]["output_tokens"] == 272
    assert manifest[1]["params"]["quality"] == "high"
    assert np.array_equal(pixels(zf.read(manifest[1]["file"]))[1], pixels(encode(picture(seed=1), "PNG"))[1])
    assert "missing.txt" not in zf.namelist()


def test_a_jpeg_claiming_twenty_million_parts_is_refused_with_bounded_work():
    import tracemalloc

    data = encode(picture(), "JPEG", quality=85)
    body = b"imagelab:1/20000000:{}"
    lying = data[:2] + b"\xff\xfe" + struct.pack(">H", len(body) + 2) + body + data[2:]
    tracemalloc.start()
    try:
        meta = read_metadata(lying)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert meta is None
    assert peak < 2 * 1024 * 1024, f"reading {len(lying):,} bytes took {peak:,} bytes of memory"


def test_a_short_key_in_a_prompt_is_scrubbed_from_the_export_the_page_and_the_error_alike():
    from imagelab.client import RequestFailed
    from imagelab.text import scrub

    short = "sk-ab12cd"  # six characters after "sk-": a key's shape all the same
    record = {**RECORD, "hash": "a" * 64, "format": "png", "prompt": f"a fox, key {short}",
              "params": {**RECORD["params"], "prompt": f"a fox, key {short}"}}
    zf = zipfile.ZipFile(io.BytesIO(export_zip([record], lambda digest, fmt: encode(picture(), "PNG"))))
    everything = b"".join(zf.read(n) for n in zf.namelist())
    assert short.encode() not in everything
    assert read_metadata(zf.read("images/01-aaaaaaaaaaaa.png"))["prompt"] == "a fox, key [redacted]"
    assert scrub(f"a fox, key {short}") == "a fox, key [redacted]"
    assert RequestFailed(f"refused {short}").scrub().sentence == "refused [redacted]"


def noise_png(seed: int, side: int = 700) -> bytes:
    """A PNG as large as its pixels (noise, stored uncompressed): about 1.5 MB at 700 px."""
    buf = io.BytesIO()
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(buf, "PNG", compress_level=0)
    return buf.getvalue()


def test_an_export_without_shared_storage_is_a_served_file_written_one_picture_at_a_time(tmp_path):
    import tracemalloc

    from imagelab.export import export_files, manifest_records
    from imagelab.store import Store

    store = Store(tmp_path / "data")
    run = store.start_run("generate", "gpt-image-1", "Noise for a large export", SPEC.to_record())
    pictures = [noise_png(seed) for seed in range(20)]
    ids = [store.add_image(run, i, data, "png", 700, 700).id for i, data in enumerate(pictures)]
    store.close()
    exports = tmp_path / "static" / "exports"
    stale = exports / "an-hour-old"
    stale.mkdir(parents=True)
    (stale / "imagelab-export.zip").write_bytes(b"old")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))

    fresh = Store(tmp_path / "data")  # nothing of the pictures in memory
    tracemalloc.start()
    try:
        (path,) = export_files(fresh, manifest_records(fresh, ids), exports)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    total = sum(len(p) for p in pictures)
    assert total > 29_000_000 and peak < 8_000_000  # a picture on its way (and its copies), never the 29 MB zip

    assert path.name == "imagelab-export.zip" and path.parent.parent == exports and len(path.parent.name) >= 32
    assert not stale.exists() and [p.name for p in path.parent.iterdir()] == ["imagelab-export.zip"]
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert [m["hash"] for m in manifest] == [hashlib.sha256(p).hexdigest() for p in pictures]
        for m, data in zip(manifest, pictures, strict=True):
            assert np.array_equal(pixels(zf.read(m["file"]))[1], pixels(data)[1])
            assert read_metadata(zf.read(m["file"]))["prompt"] == "Noise for a large export"

    parts = export_files(fresh, manifest_records(fresh, ids), exports, part_bytes=11_000_000)
    assert [p.name for p in parts] == [f"imagelab-export-{n}-of-3.zip" for n in (1, 2, 3)]
    held = []
    for part in parts:
        assert part.stat().st_size < 11_500_000
        with zipfile.ZipFile(part) as zf:
            held += [m["hash"] for m in json.loads(zf.read("manifest.json"))]
    assert held == [hashlib.sha256(p).hexdigest() for p in pictures]
    assert path.exists()  # the first export, made a moment ago, is still there for its link
    fresh.close()
