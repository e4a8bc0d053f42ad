"""Gallery, export, compare, present, load-settings and a sweep in a real browser."""

import io
import json
import zipfile

import pytest

from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import screenshot, wait_idle, wait_until

pytestmark = pytest.mark.e2e


def seed(data_dir):
    store = Store(data_dir)
    recs = []
    for i, (prompt, quality) in enumerate([("A green bottle on a marble shelf", "low"),
                                           ("A green bottle on a marble shelf", "high")]):
        params = {"prompt": prompt, "model": "gpt-image-2", "size": "1024x1024", "quality": quality, "n": 1,
                  "output_format": "png", "background": "auto", "moderation": "auto", "output_compression": 100,
                  "partial_images": 0}
        run = store.start_run("generate", "gpt-image-2", prompt, params, {"dollars": 0.01}, billed=False)
        recs.append(store.add_image(run, 0, render(prompt, 1024, 1024, quality=quality, index=i), "png", 1024, 1024))
        store.finish_run(run, "ok", actual_dollars=0.01 * (i + 1), usage={"total_tokens": 300})
    return store, recs


def exported_zip(page, *, shared: bool) -> bytes:
    """Click Export and take the zip from the link the page shows once it is made: with shared storage a
    presigned URL that downloads it as an attachment, without it a file Streamlit serves from the data
    server's disk (``/app/static/exports/…``, sent in chunks, never held whole)."""
    page.locator(".st-key-btn_gallery_export button").first.click()
    link = page.locator(".st-key-lnk_gallery_export a").first
    link.wait_for(timeout=60_000)
    for width, height in ((1440, 900), (1280, 720)):  # the link beside the button, at both widths
        page.set_viewport_size({"width": width, "height": height})
        link.scroll_into_view_if_needed()
        screenshot(page, f"gallery_export_link_{width}" + ("" if shared else "_folder"))
    page.set_viewport_size({"width": 1440, "height": 1000})
    href = link.get_attribute("href")
    answer = page.request.get(href if shared else page.url.split("/Gallery")[0] + href)
    if shared:
        assert answer.ok and answer.headers["content-disposition"] == 'attachment; filename="imagelab-export.zip"'
    else:
        assert answer.ok and answer.headers["content-type"] == "application/zip"
        assert href.startswith("/app/static/exports/") and href.endswith("/imagelab-export.zip")
    return answer.body()


def test_select_export_compare_present_and_load_settings(app_server, page, tmp_path):
    store, recs = seed(app_server["data_dir"])
    page.goto(app_server["url"] + "/Gallery")
    wait_idle(page)
    for rec in recs:
        page.locator(f".st-key-gallery_sel_{rec.id} label").click()
        wait_idle(page)
    page.wait_for_selector("text=2 selected")
    archive = zipfile.ZipFile(io.BytesIO(exported_zip(page, shared="shared" in app_server)))
    manifest = json.loads(archive.read("manifest.json"))
    assert len(manifest) == 2 and {m["params"]["quality"] for m in manifest} == {"low", "high"}
    assert archive.read("manifest.csv").decode().splitlines()[0].startswith("file,")
    image_name = next(n for n in archive.namelist() if n.startswith("images/"))
    exported = archive.read(image_name)

    page.locator(".st-key-btn_gallery_compare button").first.click()
    page.wait_for_url("**/Compare*")
    wait_idle(page)
    assert "quality" in page.locator('[data-testid="stMarkdown"]').all_inner_texts().__str__()
    screenshot(page, "compare")

    # through the app's own navigation, so the selection (held in the session) comes along
    page.locator('[data-testid="stSidebar"]').get_by_text("Present", exact=True).click()
    page.wait_for_url("**/Present*")
    wait_idle(page)
    frame = page.frame_locator("iframe").first
    frame.locator("#count").wait_for()
    assert frame.locator("#count").inner_text() == "1 / 2"
    frame.locator("#slide").click()  # lets the keys work, and only that
    page.keyboard.press("ArrowRight")
    assert frame.locator("#count").inner_text() == "2 / 2"
    screenshot(page, "present")

    page.goto(app_server["url"] + "/Gallery")
    wait_idle(page)
    page.get_by_text("Load settings from an image").click()
    path = tmp_path / "exported.png"
    path.write_bytes(exported)
    page.locator(".st-key-upl_gallery_settings input[type=file]").set_input_files(str(path))
    wait_idle(page)
    page.locator(".st-key-btn_gallery_load button").first.click()
    page.wait_for_url("**/Generate*")
    wait_idle(page)
    assert page.locator(".st-key-gen_prompt textarea").input_value() == "A green bottle on a marble shelf"


def test_sweep_from_a_preset(app_server, page):
    store = Store(app_server["data_dir"])
    page.goto(app_server["url"] + "/Sweep")
    wait_idle(page)
    page.locator(".st-key-sweep_preset").click()
    page.get_by_role("option", name="Chocolate packaging for a new flavor").click()
    wait_idle(page)
    page.wait_for_selector("text=8 request(s)")
    page.locator(".st-key-btn_sweep_run button").first.click()

    def finished():
        runs = [r for r in store.runs(200) if r.page == "sweep" and not r.active]
        return runs if len(runs) >= 8 else None

    runs = wait_until(finished, what="the sweep to finish")
    assert [r.status for r in runs] == ["ok"] * 8, [(r.status, r.error) for r in runs]
    # four flavours by two qualities: eight different requests, not one eight times
    assert len({(r.prompt, r.params.get("quality")) for r in runs}) == 8
    assert sum(len(store.images_of_run(r.id)) for r in runs) == 8
    wait_idle(page)
    page.wait_for_selector("text=8 of 8 request(s) made pictures")
    assert not page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
    screenshot(page, "sweep")
