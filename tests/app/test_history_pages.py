"""Pages on unusual or broken history: SVG and GIF results, pictures deleted or missing on disk, long searches."""

import base64
import io
import re

import pytest
from PIL import Image
from streamlit.elements.lib import image_utils

from components import first_view, shortcuts, state
from components.runs import sending_html
from imagelab.images import DELETED_SENTENCE, MISSING_FILE_SENTENCE
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page, shown

EVIL_SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
            b'xmlns:xlink="http://www.w3.org/1999/xlink" width="120" height="80" onload="alert(1)">'
            b'<script>alert(2)</script><rect width="120" height="80" fill="#2a9d8f"/>'
            b'<image href="https://evil.example/track.png" width="10" height="10"/>'
            b'<use xlink:href="https://evil.example/sprite.svg#a"/></svg>')
DANGER = (b"<script", b"onload", b"evil.example", b"alert(")


def animated_gif(size=(80, 60), frames=4) -> bytes:
    pics = [Image.new("RGB", size, (40 * i, 200 - 40 * i, 90)) for i in range(frames)]
    out = io.BytesIO()
    pics[0].save(out, "GIF", save_all=True, append_images=pics[1:], duration=150, loop=0)
    return out.getvalue()


def seed(store, prompt, data, fmt, width, height, *, page="generate", parents=None):
    run = store.start_run(page, "gpt-image-2", prompt, {"prompt": prompt, "model": "gpt-image-2",
                                                        "output_format": fmt}, {"dollars": 0.01})
    rec = store.add_image(run, 0, data, fmt, width, height, parents=parents)
    store.finish_run(run, "ok", actual_dollars=0.02, usage={"total_tokens": 300})
    return rec


@pytest.fixture
def served(monkeypatch):
    """The bytes and format of every picture st.image hands to the browser."""
    pictures = []
    real = image_utils._ensure_image_size_and_format

    def spy(data, layout, fmt):
        out = real(data, layout, fmt)
        pictures.append((out, fmt))
        return out

    monkeypatch.setattr(image_utils, "_ensure_image_size_and_format", spy)
    return pictures


SENDING_KEYS = [(state.GEN_BUTTON, state.GEN_PROMPT), (state.REF_BUTTON, state.REF_PROMPT),
                (state.MASK_BUTTON, state.MASK_PROMPT), (state.EXT_BUTTON, state.EXT_PROMPT)]


def page_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "code")
             for e in at.get(kind)]
    # the app's own scripts (the keyboard's, the card drawn at a click, the first view's) are the only ones a
    # page may carry; nothing of a picture may add another
    own = {shortcuts.HELP_SCRIPT, first_view.ASK_SCRIPT,
           *(sending_html(button, prompt, until_card=keep) for button, prompt in SENDING_KEYS
             for keep in (False, True))}
    parts += [e.proto.body for e in at.get("html") if e.proto.body not in own]
    return " ".join(str(p) for p in parts)


def assert_safe(at, served):
    assert not at.exception
    text = page_text(at).encode()
    for bad in DANGER:
        assert bad not in text
        for data, _ in served:
            assert bad not in data


def gif_frames(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as img:
        return img.n_frames


@pytest.fixture
def svg_and_gif(data_dir):
    store = Store(data_dir)
    svg = seed(store, "a vector fox", EVIL_SVG, "svg", None, None)
    store.path_for(svg.hash, "svg").write_bytes(EVIL_SVG)  # as saved before the store sanitised SVGs
    return store, svg, seed(store, "a blinking lighthouse", animated_gif(), "gif", 80, 60)


# --- SVG and GIF ---------------------------------------------------------------------------

def test_gallery_grid_and_details_show_svg_as_pixels_and_gif_playing(svg_and_gif, served):
    _, svg, gif = svg_and_gif
    at = open_page("pages/6_Gallery.py").run()
    assert_safe(at, served)
    assert len(at.get("image")) == 2
    formats = sorted(fmt for _, fmt in served)
    assert formats == ["GIF", "PNG"]
    assert max(gif_frames(d) for d, f in served if f == "GIF") == 4  # still animated
    png = next(d for d, f in served if f == "PNG")
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (120, 80)
        assert img.convert("RGB").getpixel((60, 40)) == (0x2a, 0x9d, 0x8f)  # the drawing itself
    for rec in (svg, gif):
        served.clear()
        at.button(key=f"btn_gallery_detail_{rec.id}").click().run()
        assert_safe(at, served)
        assert any(f == ("PNG" if rec.format == "svg" else "GIF") for _, f in served)
        assert f"{rec.format.upper()} ·" in page_text(at)
        assert "None" not in page_text(at)  # an SVG sent without a size reads "vector"
    assert "vector · SVG ·" in page_text(at.button(key=f"btn_gallery_detail_{svg.id}").click().run())


def test_results_column_shows_svg_and_gif(svg_and_gif, served):
    at = open_page("pages/1_Generate.py").run()
    assert_safe(at, served)
    assert sorted(fmt for _, fmt in served) == ["GIF", "PNG"]


def test_compare_shows_svg_and_gif_side_by_side_and_split(svg_and_gif, served):
    _, svg, gif = svg_and_gif
    at = open_page("pages/7_Compare.py")
    at.session_state[state.SELECTION] = {svg.id, gif.id}
    at.run()
    assert_safe(at, served)
    assert len(at.get("image")) == 2  # both pictures ...
    split = at.get("iframe")[0].proto.srcdoc  # ... and the before/after split, drawn in the browser
    assert split.count("data:image/png;base64,") == 1 and split.count("data:image/gif;base64,") == 1
    assert "<svg" not in split  # the SVG goes in drawn as PNG, never as markup
    assert ":orange[output_format]" in page_text(at)


def slides_of(at) -> list[dict]:
    import json

    html = at.get("iframe")[0].proto.srcdoc
    data = re.search(r"const slides = (.*);\nconst interval", html).group(1)
    return json.loads(data)


def test_present_shows_svg_sanitised_and_gif_as_is(svg_and_gif):
    _, svg, gif = svg_and_gif
    at = open_page("pages/8_Present.py")
    at.session_state[state.SELECTION] = {svg.id, gif.id}
    at.run()
    assert not at.exception
    slides = {s["caption"]: s["src"] for s in slides_of(at)}
    svg_src = slides["a vector fox"]
    assert svg_src.startswith("data:image/svg+xml;base64,")
    markup = base64.b64decode(svg_src.split(",", 1)[1])
    assert b"<rect" in markup and not any(bad in markup for bad in DANGER)
    gif_src = slides["a blinking lighthouse"]
    assert gif_src.startswith("data:image/gif;base64,")
    assert gif_frames(base64.b64decode(gif_src.split(",", 1)[1])) == 4


# --- pictures gone from the history --------------------------------------------------------

def png(prompt, i=0):
    return render(prompt, 96, 96, index=i)


def test_conversation_opens_with_its_turn_image_deleted_and_an_attachment_file_missing(data_dir):
    store = Store(data_dir)
    attachment = store.add_input(png("a sketch"), "png", 96, 96, "sketch.png")
    conv = store.new_conversation("a fox")
    rec = seed(store, "a fox", png("a fox"), "png", 96, 96, page="conversation")
    store.add_turn(conv, parent_id=None, run_id=rec.run_id, prompt="a fox", attachments=[attachment],
                   status="ok", image_hash=rec.hash, response_id="resp_1")
    store.delete_image(rec.id)
    store.path_for(attachment, "png").unlink()
    at = open_page("pages/4_Conversation.py").run()
    assert not at.exception
    said = " ".join(shown(at.info))
    assert DELETED_SENTENCE in said and MISSING_FILE_SENTENCE in said


def test_gallery_shows_a_missing_file_and_a_deleted_parent(data_dir):
    store = Store(data_dir)
    parent = seed(store, "a fox", png("a fox"), "png", 96, 96)
    child = seed(store, "the fox in snow", png("snow", 1), "png", 96, 96, page="reference_edit",
                 parents=[parent.hash])
    lost = seed(store, "a whale", png("a whale", 2), "png", 96, 96)
    store.delete_image(parent.id)
    store.path_for(lost.hash, "png").unlink()
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception
    assert MISSING_FILE_SENTENCE in shown(at.info)
    at.button(key=f"btn_gallery_detail_{lost.id}").click().run()
    assert not at.exception
    assert shown(at.info).count(MISSING_FILE_SENTENCE) == 2  # in the grid and in the details
    at.button(key=f"btn_gallery_detail_{child.id}").click().run()
    assert not at.exception
    assert DELETED_SENTENCE in shown(at.info)  # the lineage's "made from"


def test_compare_leaves_out_deleted_pictures_and_marks_missing_ones(data_dir):
    store = Store(data_dir)
    parent = seed(store, "a fox", png("a fox"), "png", 96, 96)
    a = seed(store, "the fox in snow", png("snow", 1), "png", 96, 96, page="reference_edit", parents=[parent.hash])
    b = seed(store, "a whale", png("a whale", 2), "png", 96, 96)
    c = seed(store, "an owl", png("an owl", 3), "png", 96, 96)
    gone = seed(store, "a bee", png("a bee", 4), "png", 96, 96)
    store.delete_image(parent.id)
    store.delete_image(gone.id)
    store.path_for(c.hash, "png").unlink()
    at = open_page("pages/7_Compare.py")
    at.session_state[state.SELECTION] = {a.id, b.id, c.id, gone.id}
    at.run()
    assert not at.exception
    said = " ".join(shown(at.info))
    assert f"{DELETED_SENTENCE} (1 of the selected pictures left out.)" in said
    assert MISSING_FILE_SENTENCE in said
    assert at.selectbox(key="compare_pair").options[:2] == ["the fox in snow — against its input",
                                                           "the fox in snow ◀ ▶ a whale"]
    assert len(at.get("image")) == 2  # a, b
    assert not at.get("iframe")  # the pair with the deleted input is a placeholder
    assert shown(at.info).count(DELETED_SENTENCE) == 1
    at.selectbox(key="compare_pair").set_value(1).run()
    assert not at.exception
    assert len(at.get("iframe")) == 1


def test_present_leaves_out_deleted_and_missing_pictures(data_dir):
    store = Store(data_dir)
    keep = seed(store, "a fox", png("a fox"), "png", 96, 96)
    gone = seed(store, "a whale", png("a whale", 1), "png", 96, 96)
    lost = seed(store, "an owl", png("an owl", 2), "png", 96, 96)
    store.delete_image(gone.id)
    store.path_for(lost.hash, "png").unlink()
    at = open_page("pages/8_Present.py")
    at.session_state[state.SELECTION] = {keep.id, gone.id, lost.id}
    at.run()
    assert not at.exception
    said = " ".join(shown(at.info))
    assert DELETED_SENTENCE in said and MISSING_FILE_SENTENCE in said
    assert [s["caption"] for s in slides_of(at)] == ["a fox"]


def test_present_shows_the_new_pictures_caption_when_a_deleted_ones_id_is_reused(data_dir):
    store = Store(data_dir)
    seed(store, "a fox", png("a fox"), "png", 96, 96)
    old = seed(store, "a whale", png("a whale", 1), "png", 96, 96)
    at = open_page("pages/8_Present.py")
    at.session_state[state.SELECTION] = {old.id}
    at.run()
    assert [s["caption"] for s in slides_of(at)] == ["a whale"]
    store.delete_image(old.id)
    new = seed(store, "an owl", png("an owl", 2), "png", 96, 96)
    assert new.id == old.id  # SQLite hands the freed id out again
    at.run()
    assert not at.exception
    assert [s["caption"] for s in slides_of(at)] == ["an owl"]


def huge_gif_header() -> bytes:
    """A tiny GIF whose header claims 65535×65535 pixels: Pillow refuses it as a decompression bomb."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, "GIF")
    data = bytearray(out.getvalue())
    data[6:10] = b"\xff\xff\xff\xff"
    return bytes(data)


@pytest.mark.parametrize("damage", [b"not a picture at all",
                                    huge_gif_header(),
                                    b"<svg xmlns='http://www.w3.org/2000/svg'><unclosed></svg>"])
def test_gallery_says_when_a_file_is_damaged(data_dir, damage):
    from components.results import UNREADABLE_SENTENCE

    store = Store(data_dir)
    # bytes no other test stores, so no display copy of them is cached from before the damage
    rec = seed(store, "a fox", png(f"a damaged fox {damage[:8]!r}"), "png", 96, 96)
    store.path_for(rec.hash, "png").write_bytes(damage)
    at = open_page("pages/6_Gallery.py").run()
    assert not at.exception
    at.button(key=f"btn_gallery_detail_{rec.id}").click().run()
    assert not at.exception
    assert shown(at.info).count(UNREADABLE_SENTENCE) == 2


def test_results_column_shows_a_missing_file(data_dir):
    store = Store(data_dir)
    rec = seed(store, "a fox", png("a fox"), "png", 96, 96)
    store.path_for(rec.hash, "png").unlink()
    at = open_page("pages/1_Generate.py").run()
    assert not at.exception
    assert MISSING_FILE_SENTENCE in shown(at.info)
    assert not at.get("download_button")  # nothing to download


@pytest.mark.parametrize("how, sentence", [("deleted", DELETED_SENTENCE), ("file missing", MISSING_FILE_SENTENCE)])
@pytest.mark.parametrize("page, key", [("pages/2_Reference_edit.py", state.REF), ("pages/3_Mask_edit.py", state.MASK)])
def test_hand_over_of_a_picture_gone_says_why(data_dir, how, sentence, page, key):
    store = Store(data_dir)
    rec = seed(store, "a fox", png("a fox"), "png", 96, 96)
    if how == "deleted":
        store.delete_image(rec.id)
    else:
        store.path_for(rec.hash, "png").unlink()
    at = open_page(page)
    at.session_state[state.handoff_key(key)] = [rec.hash]
    at.run()
    assert not at.exception
    assert sentence in shown(at.error)


# --- search --------------------------------------------------------------------------------

def test_a_huge_search_is_shortened_and_said_so(data_dir):
    store = Store(data_dir)
    seed(store, "a fox", png("a fox"), "png", 96, 96)
    at = open_page("pages/6_Gallery.py").run()
    at.text_input(key=state.GALLERY_TEXT).input("fox " * 25_000).run()
    assert not at.exception
    assert "The search was shortened to its first 500 characters." in [c.value for c in at.caption]
    assert "0 image(s) match" in " ".join(c.value for c in at.caption)


def test_a_downloaded_svg_is_sanitised(svg_and_gif):
    from components.results import with_settings

    store, svg, gif = svg_and_gif
    data = with_settings(store, svg)
    assert b"<rect" in data and not any(bad in data for bad in DANGER)
    assert with_settings(store, gif) == store.read_bytes(gif.hash, "gif")


def test_gallery_detail_of_a_file_overwritten_with_junk_says_so_and_keeps_the_record(data_dir):
    from components.results import UNREADABLE_SENTENCE

    store = Store(data_dir)
    rec = seed(store, "a fox made to be overwritten", png("a fox made to be overwritten"), "png", 96, 96)
    at = open_page("pages/6_Gallery.py").run()
    at.button(key=f"btn_gallery_detail_{rec.id}").click().run()  # its display copy is made from the good file
    assert not at.exception
    store.path_for(rec.hash, "png").write_bytes(b"junk written over a picture")
    at.run()
    assert not at.exception, at.exception
    assert UNREADABLE_SENTENCE in shown(at.info)
    assert "a fox made to be overwritten" in page_text(at.main)  # the prompt
    assert any('"output_format": "png"' in c.value for c in at.code)  # the parameters
