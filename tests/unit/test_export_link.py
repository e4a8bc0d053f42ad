"""Exports with shared storage: the zip goes to the bucket in parts and the person downloads it from a presigned
link (``export_link``), so the server never holds it whole. Against a real S3 server (SeaweedFS)."""

import io
import json
import time
import urllib.request
import zipfile

import numpy as np
from PIL import Image

from imagelab.export import export_link, manifest_records
from imagelab.store import Store


def picture(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (shade, 100, 200 - shade)).save(buf, "PNG")
    return buf.getvalue()


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - the test's own S3 server
        return answer.headers, answer.read()


def exports_in_bucket(place) -> list[str]:
    listed = place.server.client().list_objects_v2(Bucket=place.bucket, Prefix=f"{place.prefix}/exports/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_the_export_link_downloads_a_zip_with_its_manifest_and_pictures(tmp_path, s3_storage):
    store = Store(tmp_path, database_url="")
    run = store.start_run("generate", "gpt-image-2", "A lighthouse, two ways", {"quality": "high"})
    saved = [store.add_image(run, i, picture(40 * i), "png", 40, 30) for i in range(2)]
    store.finish_run(run, "ok", actual_dollars=0.02, request_id="req_export")

    url = export_link(store, manifest_records(store, [rec.id for rec in saved]))
    assert url.startswith(s3_storage.env["AWS_ENDPOINT_URL"]) and "X-Amz-Signature=" in url
    headers, body = fetch(url)
    assert headers["Content-Disposition"] == 'attachment; filename="imagelab-export.zip"'
    assert headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body))
    manifest = json.loads(archive.read("manifest.json"))
    assert [(m["hash"], m["prompt"], m["request_id"]) for m in manifest] == [
        (rec.hash, "A lighthouse, two ways", "req_export") for rec in saved]
    for row, rec in zip(manifest, saved, strict=True):  # the pictures themselves (their settings embedded)
        shown = np.asarray(Image.open(io.BytesIO(archive.read(row["file"]))))
        assert np.array_equal(shown, np.asarray(Image.open(io.BytesIO(picture(40 * rec.index)))))
    assert archive.read("manifest.csv").decode().splitlines()[0].startswith("file,hash,")
    # nothing of the zip is left on this machine
    assert not [p for p in tmp_path.rglob("*.zip")]
    store.close()


def test_the_next_export_removes_those_whose_links_have_expired(tmp_path, s3_storage, monkeypatch):
    monkeypatch.setenv("IMAGELAB_URL_LIFETIME", "1")
    store = Store(tmp_path, database_url="")
    run = store.start_run("generate", "gpt-image-2", "A bottle", {})
    rec = store.add_image(run, 0, picture(7), "png", 40, 30)
    store.finish_run(run, "ok")

    export_link(store, manifest_records(store, [rec.id]))
    first = exports_in_bucket(s3_storage)
    assert len(first) == 1
    time.sleep(2.2)  # its link has expired
    export_link(store, manifest_records(store, [rec.id]))
    second = exports_in_bucket(s3_storage)
    assert len(second) == 1 and second != first
    store.close()
