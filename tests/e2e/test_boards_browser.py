"""Boards in a real browser: a board from three results, reordered, noted and shared; the link opened in a fresh
browser with no login shows the board and nothing else of the app; a reaction there reaches the designer's
Gallery; a revoked link and a wrong one answer with the same sentence; the handout PDF follows the board."""

import io
import time

import pytest
from PIL import Image
from pypdf import PdfReader

from components.boards import WRONG_LINK
from imagelab.store import Store

from .conftest import launch_app, screenshot, wait_idle, wait_until

pytestmark = pytest.mark.e2e

RED, GREEN, BLUE = (200, 40, 40), (40, 160, 60), (40, 60, 200)
NOTE = "**not bold** <b>nor this</b> [a link](http://127.0.0.1:9/note) <img src=http://127.0.0.1:9/n.png>"
COMMENT = "*love* it <b>x</b> [more](http://127.0.0.1:9/c) <img src=http://127.0.0.1:9/c.png>"
# Words only the app around a board shows: none of them may reach a share link's viewer.
APP_WORDS = ["ImageLab", "Generate", "Reference edit", "Mask edit", "Conversation", "Sweep", "Gallery", "Compare",
             "Extend", "Boards", "Offline", "Backend", "Spending", "Last run", "This session", "Share", "Handout",
             "plain colour"]
COLOUR_AT = """async (img) => { await img.decode(); const c = document.createElement('canvas'); c.width = 4;
  c.height = 4; const x = c.getContext('2d'); x.drawImage(img, 0, 0, 4, 4);
  return Array.from(x.getImageData(1, 1, 1, 1).data.slice(0, 3)); }"""


def png(colour):
    out = io.BytesIO()
    Image.new("RGB", (1024, 1024), colour).save(out, "PNG")
    return out.getvalue()


def nearest(rgb):
    return min((RED, GREEN, BLUE), key=lambda c: sum((a - b) ** 2 for a, b in zip(c, rgb, strict=True)))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("boards-data")) as server:
        yield server


@pytest.fixture(scope="module")
def made(app):
    store = Store(app["data_dir"])
    recs = {}
    for name, colour in (("red", RED), ("green", GREEN), ("blue", BLUE)):
        run = store.start_run("generate", "gpt-image-2", f"A plain colour: {name}", {"n": 1})
        recs[name] = store.add_image(run, 0, png(colour), "png", 1024, 1024)
        store.finish_run(run, "ok", actual_dollars=0.01)
    return store, recs


def shown_colours(page):
    return [nearest(page.evaluate(COLOUR_AT, img)) for img in page.locator("img").element_handles()]


def open_share_popover(page):
    page.locator(".st-key-board_share button").first.click()
    wait_idle(page)


def shown_link(page) -> str:
    """The link the share popover shows. A rerun of the page can close the popover, before or after the link is
    drawn in it: it is opened again (only while closed, as a click on its button would close it) until the link
    is there."""
    code = page.locator('[data-testid="stCode"]')
    deadline = time.time() + 30
    while not code.count():
        assert time.time() < deadline, "the share popover never showed the link"
        if not page.locator('[data-testid="stPopoverBody"]').count():
            open_share_popover(page)
        page.wait_for_timeout(300)
    return code.first.inner_text().strip()


def test_a_board_from_three_results_shared_reacted_to_and_revoked(app, made, browser, page):
    store, recs = made
    # --- three results on a new board, from a Gallery selection
    page.goto(app["url"] + "/Gallery")
    wait_idle(page)
    for rec in recs.values():
        page.locator(f".st-key-gallery_sel_{rec.id} label").click()
        wait_idle(page)
    page.locator(".st-key-board_add_gallery_selection button").first.click()
    wait_idle(page)
    name = page.locator(".st-key-board_add_gallery_selection_name input")
    name.fill("Client review")
    name.press("Tab")
    wait_idle(page)
    page.locator(".st-key-board_add_gallery_selection_go button").first.click()
    wait_idle(page)
    (board,) = wait_until(lambda: [b for b in store.boards() if b.pictures == 3], what="the board of three")
    items = store.board_items(board.id)
    by_hash = {rec.hash: colour for rec, colour in zip(recs.values(), (RED, GREEN, BLUE), strict=True)}
    assert [by_hash[i.hash] for i in items] == [RED, GREEN, BLUE]

    # --- reorder and note it on its page
    page.goto(app["url"] + "/Boards")
    wait_idle(page)
    page.locator(f".st-key-btn_board_open_{board.id} button").first.click()
    wait_idle(page)
    red, green, blue = items
    page.locator(f".st-key-btn_board_down_{red.id} button").first.click()      # green, red, blue
    wait_until(lambda: [by_hash[i.hash] for i in store.board_items(board.id)] == [GREEN, RED, BLUE],
               what="red moved one place later")
    wait_idle(page)
    page.locator(f".st-key-btn_board_up_{blue.id} button").first.click()       # green, blue, red
    wait_until(lambda: [by_hash[i.hash] for i in store.board_items(board.id)] == [GREEN, BLUE, RED],
               what="blue moved one place earlier")
    wait_idle(page)
    note = page.locator(f".st-key-board_note_{green.id} textarea")
    note.fill(NOTE)
    note.press("Tab")
    wait_until(lambda: store.board_items(board.id)[0].note == NOTE, what="the note saved")
    wait_idle(page)

    # --- share it
    open_share_popover(page)
    page.locator(".st-key-btn_share_make button").first.click()
    wait_idle(page)
    link = shown_link(page)
    assert "?board=" in link and len(link.split("?board=")[1]) >= 43
    token = link.split("?board=")[1]
    screenshot(page, "boards_share_1440")
    page.keyboard.press("Escape")
    wait_idle(page)

    # --- the link, in a browser that has never seen the app
    viewer_context = browser.new_context(viewport={"width": 1440, "height": 900})
    viewer = viewer_context.new_page()
    viewer.goto(link)
    wait_idle(viewer)
    viewer.locator("img").nth(2).wait_for()
    text = viewer.locator("body").inner_text()
    assert "Client review" in text and "3 picture(s)" in text
    assert [w for w in APP_WORDS if w in text] == []
    assert viewer.locator('[data-testid="stSidebar"], [data-testid="stSidebarNav"], [data-testid="stPageLink"]'
                          ).count() == 0
    # no way into the app: no link but the page's own skip-to-content, and Streamlit's header (its menu) hidden
    assert viewer.evaluate("document.querySelectorAll('a[href]:not([href^=\"#\"])').length") == 0
    assert viewer.locator('[data-testid="stHeader"]').is_hidden()
    assert shown_colours(viewer) == [GREEN, BLUE, RED]  # the board's three, in its order, and no other picture
    # the note as written: no bold, no link, no picture fetched from elsewhere
    assert NOTE in text
    assert viewer.locator("strong, b, [src*='127.0.0.1:9'], [href*='127.0.0.1:9']").count() == 0
    for width, height in ((1440, 900), (1280, 720)):
        viewer.set_viewport_size({"width": width, "height": height})
        viewer.wait_for_timeout(300)
        screenshot(viewer, f"boards_viewer_{width}")

    # --- a reaction from the viewer reaches the designer's Gallery and board
    viewer.locator(".st-key-react_1_verdict button").first.click()
    viewer.locator(".st-key-react_1_name input").fill("Ana <i>")
    viewer.locator(".st-key-react_1_comment textarea").fill(COMMENT)
    viewer.locator('.st-key-shared_picture_1 [data-testid="stFormSubmitButton"] button').first.click()
    wait_idle(viewer)
    viewer.get_by_text("Thank you").wait_for()
    (said,) = wait_until(lambda: store.reactions(board.id), what="the reaction saved")
    assert (said.verdict, said.name, said.comment, said.hash) == ("up", "Ana <i>", COMMENT, green.hash)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(app["url"] + "/Gallery")
    wait_idle(page)
    card = page.locator(f".st-key-card_{recs['green'].id}")
    assert COMMENT in card.inner_text() and "Ana <i>" in card.inner_text()
    assert card.locator("strong, em, i, b, [src*='127.0.0.1:9'], [href*='127.0.0.1:9']").count() == 0
    assert "Boards · 1 reaction(s)" in page.locator('[data-testid="stSidebar"]').inner_text()
    screenshot(page, "boards_gallery_reaction")

    # --- the handout follows the board's order, one picture a page
    page.goto(app["url"] + f"/Boards?id={board.id}")
    wait_idle(page)
    assert COMMENT in page.locator("body").inner_text()
    page.mouse.move(5, 5)
    for width, height in ((1440, 900), (1280, 720)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        screenshot(page, f"boards_designer_{width}")
    page.set_viewport_size({"width": 1440, "height": 900})
    with page.expect_download() as download:
        page.locator(".st-key-btn_board_pdf button").first.click()
    reader = PdfReader(download.value.path())
    assert len(reader.pages) == 3
    assert [nearest(p.images[0].image.convert("RGB").getpixel((5, 5))) for p in reader.pages] == [GREEN, BLUE, RED]

    # --- revoked: the same link shows only the sentence; a wrong token answers the same
    open_share_popover(page)
    page.locator("[class*='st-key-btn_share_revoke_'] button").first.click()
    wait_idle(page)
    assert store.open_share(token) is None
    answers = []
    for address in (link, link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")):
        viewer.goto(address)
        wait_idle(viewer)
        answers.append((viewer.locator('[data-testid="stMain"]').inner_text().strip(), viewer.locator("img").count(),
                        viewer.evaluate("document.querySelector('[data-testid=\"stMain\"]').innerHTML.length")))
    assert answers[0] == answers[1] == (WRONG_LINK, 0, answers[0][2])
    screenshot(viewer, "boards_wrong_link_1280")
    viewer_context.close()


def test_a_result_card_puts_its_picture_on_a_new_board(app, made, page):
    store, recs = made
    page.goto(app["url"] + "/Generate")
    wait_idle(page)
    prompt = page.locator(".st-key-gen_prompt textarea")
    prompt.fill("A teal lighthouse on a red cliff")
    prompt.blur()
    page.wait_for_timeout(300)
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").first.click()
    page.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
    wait_idle(page)
    page.locator("[class*='st-key-board_add_'] button").first.click()
    wait_idle(page)
    picker = page.locator("[class*='st-key-board_add_'][class*='_pick']").first
    picker.click()
    page.get_by_role("option", name="New board…").click()
    wait_idle(page)
    name = page.locator("[class*='st-key-board_add_'][class*='_name'] input").first
    name.fill("Lighthouses")
    name.press("Tab")
    wait_idle(page)
    page.locator("[class*='st-key-board_add_'][class*='_go'] button").first.click()
    wait_idle(page)
    (board,) = wait_until(lambda: [b for b in store.boards() if b.name == "Lighthouses"], what="the new board")
    (item,) = store.board_items(board.id)
    assert store.image_by_hash(item.hash).prompt == "A teal lighthouse on a red cliff"


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory, postgres, s3_server):
    """ImageLab on PostgreSQL + S3 (a team's history); the test's own Store reaches the same one."""
    shared = {"IMAGELAB_DATABASE_URL": postgres.create_database("e2e_boards"),
              "IMAGELAB_STORAGE_URL": f"s3://{s3_server.bucket}/e2e-boards", **s3_server.env}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in shared.items():
            mp.setenv(name, value)
        with launch_app(tmp_path_factory.mktemp("e2e-boards-shared"), env_extra=shared) as server:
            yield server | {"store": Store(server["data_dir"]), "endpoint": shared["AWS_ENDPOINT_URL"]}


def test_with_s3_storage_a_share_link_shows_its_pictures_through_expiring_urls(shared_app, browser):
    store = shared_app["store"]
    assert store.shares_pictures
    run = store.start_run("generate", "gpt-image-2", "Three in the bucket", {"n": 3})
    board = store.create_board("In the bucket")
    for i, colour in enumerate((RED, GREEN, BLUE)):
        rec = store.add_image(run, i, png(colour), "png", 1024, 1024)
        store.add_to_board(board, rec.hash, rec.format)
    store.finish_run(run, "ok")
    token = store.create_share(board)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    viewer = context.new_page()
    viewer.goto(f"{shared_app['url']}/?board={token}")
    wait_idle(viewer)
    endpoint = shared_app["endpoint"]
    viewer.wait_for_function("(e) => [...document.querySelectorAll('img')].filter(i => i.src.startsWith(e) "
                             "&& i.complete && i.naturalWidth > 0).length === 3", arg=endpoint, timeout=30_000)
    sources = viewer.eval_on_selector_all("img", "els => els.map(e => e.src)")
    assert len(sources) == 3
    assert all(s.startswith(endpoint) and "X-Amz-Signature=" in s and "X-Amz-Expires=" in s for s in sources)
    context.close()
