"""A board's handout: one PDF page per picture in the board's order, the picture on each, its note as
written; and the board's zip with the notes in its manifest."""

import io
import json
import zipfile

from PIL import Image
from pypdf import PdfReader

from imagelab.export import export_board
from imagelab.handout import board_handout

COLOURS = [(220, 30, 30), (30, 200, 40), (30, 40, 220)]


def png(colour, size=(64, 48)):
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def board_of_three(store):
    run = store.start_run("generate", "gpt-image-2", "three plain colours", {"n": 3})
    recs = [store.add_image(run, i, png(c), "png", 64, 48) for i, c in enumerate(COLOURS)]
    board = store.create_board("Colours")
    for rec in recs:
        store.add_to_board(board, rec.hash, rec.format)
    items = store.board_items(board)
    store.move_item(items[2].id, -1)  # red, blue, green
    store.set_note(items[0].id, "**not bold** <i>kept</i>")
    return board


def test_the_handout_has_one_page_per_picture_in_the_board_order_with_the_picture_on_each(store):
    board = board_of_three(store)
    reader = PdfReader(io.BytesIO(board_handout(store, board)))
    assert len(reader.pages) == 3
    seen = []
    for page in reader.pages:
        (picture,) = page.images
        seen.append(picture.image.convert("RGB").getpixel((10, 10)))
    assert seen == [COLOURS[0], COLOURS[2], COLOURS[1]]
    first = reader.pages[0].extract_text()
    assert "**not bold** <i>kept</i>" in first and "Colours" in first
    assert "three plain colours" not in first  # the prompt only when asked for


def test_the_handout_shows_prompt_model_and_cost_only_when_chosen(store):
    board = board_of_three(store)
    text = PdfReader(io.BytesIO(board_handout(store, board, details=True))).pages[1].extract_text()
    assert "three plain colours" in text and "gpt-image-2" in text


def test_the_board_zip_has_its_pictures_in_order_with_their_notes(store):
    board = board_of_three(store)
    with zipfile.ZipFile(io.BytesIO(export_board(store, board))) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        colours = [Image.open(io.BytesIO(zf.read(row["file"]))).convert("RGB").getpixel((1, 1)) for row in manifest]
    assert colours == [COLOURS[0], COLOURS[2], COLOURS[1]]
    assert manifest[0]["note"] == "**not bold** <i>kept</i>" and "note" not in manifest[1]
