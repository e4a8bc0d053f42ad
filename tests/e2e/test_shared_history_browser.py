"""The browser paths of a team's ImageLab on a shared history: records in a real PostgreSQL, pictures in a real
S3 server (SeaweedFS), both started by the suite. Generate, a reference edit, a mask edit, and the Gallery's
select-export-compare-present run here exactly as they do on the data folder (the same tests, collected again
with this module's app); the pictures the pages show come from presigned URLs, and no picture file or SQLite
history is made in the data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagelab.store import Store
from tests.e2e.test_edit_browser import (
    test_paint_a_mask_with_the_mouse_and_edit,  # noqa: F401
    test_reference_edit_from_history,  # noqa: F401
)
from tests.e2e.test_gallery_browser import test_select_export_compare_present_and_load_settings  # noqa: F401
from tests.e2e.test_generate_browser import test_generate_in_the_browser  # noqa: F401

from .conftest import launch_app, wait_idle

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app_server(tmp_path_factory, postgres, s3_server):
    """ImageLab on PostgreSQL + S3; the tests' own Store() (seeding, checking) reaches the same history."""
    shared = {"IMAGELAB_DATABASE_URL": postgres.create_database("e2e_shared"),
              "IMAGELAB_STORAGE_URL": f"s3://{s3_server.bucket}/e2e-shared", **s3_server.env}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in shared.items():
            mp.setenv(name, value)
        with launch_app(tmp_path_factory.mktemp("e2e-shared"), env_extra=shared) as server:
            yield server | {"shared": shared}


def test_the_gallery_shows_pictures_from_the_bucket_and_the_folder_holds_none(app_server, page):
    store = Store(app_server["data_dir"])
    assert store.shares_pictures and store.db_path is None
    if not store.recent_images(1):  # run alone: a picture of its own
        run = store.start_run("generate", "gpt-image-2", "A lighthouse kept in the bucket", {}, billed=False)
        from imagelab.offline.render import render

        store.add_image(run, 0, render("A lighthouse kept in the bucket", 256, 256, quality="low"), "png", 256, 256)
        store.finish_run(run, "ok")
    page.goto(app_server["url"] + "/Gallery")
    wait_idle(page)
    endpoint = app_server["shared"]["AWS_ENDPOINT_URL"]
    page.wait_for_function("(e) => [...document.querySelectorAll('[data-testid=\"stMain\"] img')]"
                           ".some(i => i.src.startsWith(e) && i.complete && i.naturalWidth > 0)", arg=endpoint,
                           timeout=30_000)
    sources = page.eval_on_selector_all('[data-testid="stMain"] img', "els => els.map(e => e.src)")
    from_bucket = [s for s in sources if s.startswith(endpoint)]
    assert from_bucket and all("X-Amz-Signature=" in s and "X-Amz-Expires=" in s for s in from_bucket)
    data = Path(app_server["data_dir"])
    assert not (data / "history.sqlite3").exists()
    assert not [p for p in (data / "images").rglob("*") if p.is_file()] if (data / "images").exists() else True
    assert os.environ.get("IMAGELAB_DATABASE_URL", "").split("@")[0].split(":")[-1] not in page.content()
