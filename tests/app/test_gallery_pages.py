"""Gallery, Compare and Present through AppTest, with the history in SQLite and in PostgreSQL."""

import pytest

from components import state
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page


@pytest.fixture
def filled(data_dir, database_url, monkeypatch):
    """Three finished runs, their records in SQLite or (a team's) PostgreSQL, as the app will find them."""
    if database_url:
        monkeypatch.setenv("IMAGELAB_DATABASE_URL", database_url)
    store = Store(data_dir)
    recs = []
    for i, (prompt, model, quality) in enumerate([("a red fox", "gpt-image-2", "low"),
                                                   ("a red fox", "gpt-image-2", "high"),
                                                   ("a blue whale", "gpt-image-1.5", "low")]):
        params = {"prompt": prompt, "model": model, "size": "1536x864" if model == "gpt-image-2" else "1024x1024",
                  "quality": quality, "n": 1, "output_format": "png"}
        run = store.start_run("generate", model, prompt, params, {"dollars": 0.01})
        recs.append(store.add_image(run, 0, render(prompt, 256, 256, index=i), "png", 256, 256))
        store.finish_run(run, "ok", actual_dollars=0.02, usage={"total_tokens": 400})
    return store, recs


def captions(at):
    return " ".join(c.value for c in at.caption)


def test_filters_find_by_prompt_model_and_star(filled):
    store, recs = filled
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception
    assert "3 image(s) match" in captions(at)
    at.text_input(key=state.GALLERY_TEXT).input("whale").run()
    assert "1 image(s) match" in captions(at)
    at.text_input(key=state.GALLERY_TEXT).input("").run()
    at.multiselect(key=state.GALLERY_MODELS).select("gpt-image-2").run()
    assert "2 image(s) match" in captions(at)
    at.button(key=f"btn_gallery_star_{recs[0].id}").click().run()
    at.toggle(key=state.GALLERY_STARRED).set_value(True).run()
    assert "1 image(s) match" in captions(at)
    assert store.image(recs[0].id).starred


def test_detail_shows_parameters_and_runs_again(filled):
    store, recs = filled
    at = open_page("pages/6_Gallery.py").run()
    at.button(key=f"btn_gallery_detail_{recs[1].id}").click().run()
    assert not at.exception
    assert any('"quality": "high"' in c.value for c in at.code)
    assert "request id" in captions(at)
    at.button(key="btn_gallery_again").click().run()
    assert not at.exception
    # now on Generate, with the run's settings
    assert at.text_area(key=state.GEN_PROMPT).value == "a red fox"
    assert at.selectbox(key=f"{state.GEN_OPTS}_quality").value == "high"
    assert at.selectbox(key=f"{state.GEN_OPTS}_size").value == "custom…"
    assert at.number_input(key=f"{state.GEN_OPTS}_width").value == 1536


def test_delete_asks_beside_its_button_then_removes_and_undo_puts_it_back(filled):
    store, recs = filled
    at = open_page("pages/6_Gallery.py").run()
    at.button(key=f"btn_gallery_detail_{recs[1].id}").click().run()
    # the question sits in the popover that opens over the Delete… button itself
    ask = next(b for b in at.get("popover") if b.proto.popover.label == "Delete…")
    assert "Delete this picture from the history?" in " ".join(m.value for m in ask.get("markdown"))
    assert store.count_images() == 3
    at.button(key="btn_gallery_delete_yes").click().run()
    assert not at.exception
    assert store.count_images() == 2
    assert not store.path_for(recs[1].hash, "png").exists()
    assert "Deleted “a red fox”" in [t.value for t in at.get("text")]
    at.button(key="btn_gallery_undo").click().run()
    assert not at.exception
    assert store.count_images() == 3
    assert store.read_bytes(recs[1].hash) == render("a red fox", 256, 256, index=1)
    listed, _ = store.search_images()
    assert [r.hash for r in listed] == [recs[2].hash, recs[1].hash, recs[0].hash]  # back in its place
    assert not [t for t in at.get("text") if t.value.startswith("Deleted")]


def test_compare_marks_the_differing_setting(filled):
    store, recs = filled
    at = open_page("pages/6_Gallery.py").run()
    at.checkbox(key=f"gallery_sel_{recs[0].id}").check().run()
    at.checkbox(key=f"gallery_sel_{recs[1].id}").check().run()
    at.button(key="btn_gallery_compare").click().run()
    assert not at.exception
    table = " ".join(m.value for m in at.markdown)
    # the differing setting's name in orange, its values as stored (never inside a colour directive)
    assert "| **:orange[quality]** | ` low ` | ` high ` |" in table
    assert "prompt" not in table  # same in both, hidden while only differences are shown
    assert len(at.get("image")) == 2 and len(at.get("iframe")) == 1  # two images and the before/after split


def test_present_builds_a_slideshow_of_the_selection(filled):
    store, recs = filled
    at = open_page("pages/8_Present.py")
    at.session_state[state.SELECTION] = {recs[0].id, recs[2].id}
    at.run()
    assert not at.exception
    assert "2 picture(s) from your selection" in captions(at)


def test_spend_table_is_drawn_only_once_opened(filled):
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception
    assert not at.dataframe  # folded: the table is not even sent
    at.session_state[state.GALLERY_SPEND_OPEN] = True  # what a click on the fold does
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["model"]) == ["gpt-image-1.5", "gpt-image-2"]
    assert table["runs"].sum() == 3
    assert "Total:" in captions(at)


def test_with_shared_storage_the_gallery_shows_thumbnails_kept_in_the_bucket_by_presigned_url(data_dir, s3_storage):
    import io
    import urllib.request
    from pathlib import Path

    from PIL import Image

    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "a red fox", {"n": 1}, {"dollars": 0.01})
    rec = store.add_image(run, 0, render("a red fox", 512, 384, index=0), "png", 512, 384)
    store.finish_run(run, "ok")
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("![a red fox](")]
    assert len(shown) == 1
    url = shown[0].removeprefix("![a red fox](").removesuffix(")")
    endpoint = s3_storage.env["AWS_ENDPOINT_URL"]
    assert url.startswith(f"{endpoint}/{s3_storage.bucket}/{s3_storage.prefix}/thumbs/{rec.hash}-360.jpg?")
    with urllib.request.urlopen(url, timeout=10) as answer:  # what the browser fetches, from any server
        assert Image.open(io.BytesIO(answer.read())).size == (360, 270)
    static = Path(__file__).resolve().parents[2] / "static" / "thumbs"
    assert not list(static.glob(f"{rec.hash}-*"))  # nothing of it only on this server's disk
    at.button(key=f"btn_gallery_detail_{rec.id}").click().run()  # the large view: the picture itself
    large = [img.url for el in at.get("image") for img in el.proto.imgs]
    assert len(large) == 1
    assert large[0].startswith(f"{endpoint}/{s3_storage.bucket}/{s3_storage.prefix}/sha256/{rec.hash}.png?")


@pytest.fixture
def many(data_dir):
    """Fifty offline pictures, the newest named "picture 49"."""
    store = Store(data_dir)
    recs = []
    for i in range(50):
        run = store.start_run("generate", "gpt-image-2", f"picture {i}", {"n": 1, "prompt": f"picture {i}"},
                              billed=False)
        recs.append(store.add_image(run, 0, render(f"picture {i}", 64, 64), "png", 64, 64))
        store.finish_run(run, "ok")
    return store, recs


def alts(at) -> list[str]:
    """The grid's pictures in reading order, by their alt text (the prompt)."""
    return [m.value[2:m.value.index("]")] for m in at.main.markdown if m.value.startswith("![")]


def texts(at) -> list[str]:
    return [t.value for t in at.get("text")]


def test_paging_is_previous_and_next_and_dense_shows_eight_columns(many):
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception and not at.main.number_input
    assert "Page 1 of 3" in texts(at) and alts(at)[:2] == ["picture 49", "picture 48"] and len(alts(at)) == 24
    at.button(key="btn_gallery_next_top").click().run()
    assert "Page 2 of 3" in texts(at) and alts(at)[0] == "picture 25"
    at.button(key="btn_gallery_previous_top").click().run()
    assert "Page 1 of 3" in texts(at) and at.button(key="btn_gallery_previous_top").disabled
    at.button(key="btn_gallery_next_top").click().run()
    at.segmented_control(key=state.GALLERY_DENSITY).set_value("Dense").run()
    assert not at.exception
    # 48 a page, eight to a row, and the page still starts with the picture that was first
    assert "Page 1 of 2" in texts(at) and len(alts(at)) == 48
    assert sum(1 for column in at.main.columns if column.weight == 1 / 8) == 48


def test_the_detail_walks_to_the_previous_and_next_picture_across_pages(many):
    store, recs = many
    at = open_page("pages/6_Gallery.py").run()
    at.button(key=f"btn_gallery_detail_{recs[26].id}").click().run()  # the last card of page 1
    assert at.button(key="btn_gallery_detail_previous").disabled is False
    at.button(key="btn_gallery_detail_next").click().run()
    assert not at.exception
    assert at.session_state[state.GALLERY_DETAIL] == recs[25].id
    assert any('"prompt": "picture 25"' in c.value for c in at.code) or "picture 25" in texts(at)
    assert "Page 2 of 3" in texts(at)  # the grid turned to the picture's page
    at.button(key="btn_gallery_detail_previous").click().run()
    assert "Page 1 of 3" in texts(at)
    at.button(key=f"btn_gallery_detail_{recs[49].id}").click().run()
    assert at.button(key="btn_gallery_detail_previous").disabled  # the newest has nothing before it


def test_a_kept_exact_picture_is_one_card_with_its_raw_output_behind_a_switch(data_dir):
    store = Store(data_dir)
    run = store.start_run("mask_edit", "gpt-image-2", "a hat on the fox", {"n": 1}, billed=False)
    raw = store.add_image(run, 0, render("raw", 64, 64), "png", 64, 64)
    store.mark_raw(raw.id)
    kept = store.add_image(run, 0, render("kept", 64, 64), "png", 64, 64, parents=[raw.hash], variant="kept")
    store.finish_run(run, "ok")
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception
    assert "1 image(s) match · 0 selected" in captions(at)
    assert alts(at) == ["a hat on the fox"]
    shown = [m.value for m in at.main.markdown if m.value.startswith("![")]
    assert kept.hash in shown[0]
    at.toggle(key=f"{state.GALLERY_RAW}_{kept.id}").set_value(True).run()
    shown = [m.value for m in at.main.markdown if m.value.startswith("![")]
    assert len(shown) == 1 and raw.hash in shown[0]
