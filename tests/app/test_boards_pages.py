"""The Boards page and a share link's view, as AppTest runs them: a link's view holds the board alone, a wrong
link one sentence, and reactions past the link's limit a sentence saying to wait."""

import io
import time

from PIL import Image

from components.boards import WRONG_LINK
from imagelab.history.boards import REACTIONS_PER_MINUTE
from imagelab.store import Store

from .conftest import open_page, page_text


def png(colour):
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "PNG")
    return out.getvalue()


def a_board(data_dir):
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "A secret prompt", {"n": 2})
    board = store.create_board("Review", "For the client")
    for i, colour in enumerate(("red", "blue")):
        rec = store.add_image(run, i, png(colour), "png", 64, 64)
        store.add_to_board(board, rec.hash, rec.format)
    store.finish_run(run, "ok")
    return store, board


def shared_view(token):
    at = open_page("app.py")
    at.query_params["board"] = token
    return at.run()


def test_a_link_shows_its_board_and_nothing_of_the_app(data_dir):
    store, board = a_board(data_dir)
    at = shared_view(store.create_share(board))
    assert not at.exception
    text = page_text(at)
    assert "Review" in text and "For the client" in text and "2 picture(s)" in text
    assert len(at.sidebar) == 0 and "ImageLab" not in text and "secret prompt" not in text
    assert len(at.get("image")) == 2


def test_the_prompt_model_and_cost_show_only_when_the_designer_chose_to(data_dir):
    store, board = a_board(data_dir)
    assert "A secret prompt" in page_text(shared_view(store.create_share(board, show_details=True)))


def test_a_wrong_and_a_revoked_link_show_one_and_the_same_sentence(data_dir):
    store, board = a_board(data_dir)
    token = store.create_share(board)
    store.revoke_share(store.open_share(token).id)
    expired = store.create_share(board, expires_at=time.time() - 1)
    for given in (token, expired, "x" * 43, ""):
        at = shared_view(given)
        assert not at.exception and page_text(at).strip() == WRONG_LINK and len(at.sidebar) == 0


def test_reactions_past_the_links_limit_get_a_sentence_and_are_not_kept(data_dir):
    store, board = a_board(data_dir)
    at = shared_view(store.create_share(board))
    for n in range(REACTIONS_PER_MINUTE + 1):
        at.text_area(key="react_1_comment").set_value(f"comment {n}")
        next(b for b in at.button if b.label == "Send").click()
        at.run()
    assert not at.exception
    assert len(store.reactions(board)) == REACTIONS_PER_MINUTE
    assert f"more than {REACTIONS_PER_MINUTE} reactions in a minute" in page_text(at)


def test_the_boards_page_lists_boards_and_opens_one(data_dir):
    store, board = a_board(data_dir)
    at = open_page("pages/10_Boards.py").run()
    assert not at.exception and "Review" in page_text(at) and "2 picture(s) · 0 reaction(s)" in page_text(at)
    at.button(key=f"btn_board_open_{board}").click().run()
    assert not at.exception and "None yet. Share a link" in page_text(at)
    at.button(key=f"btn_board_down_{store.board_items(board)[0].id}").click().run()
    assert [i.position for i in store.board_items(board)] == [1, 2]
    assert store.image_by_hash(store.board_items(board)[0].hash).index == 1


def test_present_shows_a_board_in_its_order_with_its_notes(data_dir):
    from components import state

    store, board = a_board(data_dir)
    first, second = store.board_items(board)
    store.set_note(second.id, "Look at the *edge*")
    store.move_item(second.id, -1)
    at = open_page("pages/8_Present.py")
    at.session_state[state.PRESENT_BOARD] = board
    at.run()
    assert not at.exception
    assert "2 picture(s) of the board" in page_text(at)
    (stage,) = [e for e in at.get("iframe")]
    html = stage.proto.srcdoc
    assert html.index("Look at the *edge*") < html.index('"caption": ""')


def test_a_boards_zip_is_made_on_a_click_and_downloaded_from_a_link_in_the_boards_order(data_dir):
    import json
    import zipfile
    from pathlib import Path

    from components.exports import EXPORTS

    store, board = a_board(data_dir)
    first, second = store.board_items(board)
    store.set_note(second.id, "The client's favourite")
    store.move_item(second.id, -1)
    at = open_page("pages/10_Boards.py").run()
    at.button(key=f"btn_board_open_{board}").click().run()
    assert not at.get("link_button")  # nothing made yet
    at.button(key="btn_board_zip").click().run()
    assert not at.exception
    (link,) = at.get("link_button")
    assert link.proto.label == "Download the zip" and link.proto.url.startswith("/app/static/exports/")
    made = EXPORTS / Path(link.proto.url.removeprefix("/app/static/exports/"))
    with zipfile.ZipFile(made) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert [m["hash"] for m in manifest] == [second.hash, first.hash]
        assert manifest[0]["note"] == "The client's favourite" and "note" not in manifest[1]
        assert all(zf.read(m["file"]) for m in manifest)
