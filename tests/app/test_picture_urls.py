"""A team's picture URLs, from the pages as AppTest runs them with the pictures in a real S3 server (SeaweedFS):
a URL copied from a page is unguessable and stops working once its lifetime is over (shortened here through
``IMAGELAB_URL_LIFETIME``; minutes unless set), and a browser that is not logged in is given none."""

import time
import urllib.error
import urllib.request

import pytest

from imagelab.offline.render import render
from imagelab.people import Person
from imagelab.store import Store

from .conftest import open_page
from .test_connection import rendered
from .test_team import AUTH

ALICE = Person("alice", "alice@example.com")


def fetch(url: str) -> tuple[int, bytes]:
    """What a browser (or anyone the URL was sent to) gets for it."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def alices_picture(data_dir):
    store = Store(data_dir)
    run = store.start_run("generate", "gpt-image-2", "Alice's lighthouse", {"n": 1}, owner=ALICE)
    rec = store.add_image(run, 0, render("Alice's lighthouse", 256, 256, index=0), "png", 256, 256)
    store.finish_run(run, "ok")
    return rec


def as_alice(path: str):
    at = open_page(path)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "sub": ALICE.subject, "email": ALICE.email}
    return at


def large_picture_url(at, image_id: int) -> str:
    at.button(key=f"btn_gallery_detail_{image_id}").click().run()
    assert not at.exception
    (url,) = [img.url for el in at.get("image") for img in el.proto.imgs]
    return url


def test_a_picture_url_copied_from_the_gallery_stops_working_when_its_lifetime_is_over(data_dir, s3_storage,
                                                                                       monkeypatch):
    monkeypatch.setenv("IMAGELAB_URL_LIFETIME", "3")  # seconds, for the test; 15 minutes unless set
    rec = alices_picture(data_dir)
    at = as_alice("pages/6_Gallery.py").run()
    url = large_picture_url(at, rec.id)
    assert url.startswith(f"{s3_storage.env['AWS_ENDPOINT_URL']}/{s3_storage.bucket}/") and "X-Amz-Expires=3&" in url
    status, body = fetch(url)
    assert status == 200 and body == Store(data_dir).read_bytes(rec.hash, rec.format)
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    guessed = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert fetch(guessed)[0] == 403  # the signature is what opens it: one character off and it is refused
    time.sleep(4.5)
    status, body = fetch(url)
    assert status == 403 and b"expired" in body.lower()  # the copied URL has stopped working
    fresh = large_picture_url(as_alice("pages/6_Gallery.py").run(), rec.id)
    assert fresh != url and fetch(fresh)[0] == 200  # the page itself hands out a new one


def test_without_the_setting_a_picture_url_lives_fifteen_minutes(data_dir, s3_storage):
    rec = alices_picture(data_dir)
    url = large_picture_url(as_alice("pages/6_Gallery.py").run(), rec.id)
    assert "X-Amz-Expires=900&" in url and fetch(url)[0] == 200


@pytest.mark.parametrize("page", ["app.py", "pages/6_Gallery.py", "pages/10_Boards.py", "pages/8_Present.py",
                                  "pages/1_Generate.py"])
def test_a_browser_not_logged_in_is_given_no_picture_url(data_dir, s3_storage, page):
    rec = alices_picture(data_dir)
    store = Store(data_dir)
    board = store.create_board("Alice's review", owner=ALICE)
    store.add_to_board(board, rec.hash, rec.format, owner=ALICE.subject)
    from components import state

    at = open_page(page)
    at.secrets["auth"] = AUTH  # login configured, nobody logged in (what st.user says to a browser without login)
    at.user = {"is_logged_in": False}
    at.session_state[state.BOARD_OPEN] = board
    at.session_state[state.PRESENT_BOARD] = board
    at.run()
    assert not at.exception
    sent = rendered(at)
    assert "Log in to use ImageLab." in sent
    assert not at.get("image") and "X-Amz-" not in sent and s3_storage.bucket + "/" not in sent
    assert rec.hash not in sent and "lighthouse" not in sent
    # the same page logged in does show it: the test would see a URL if one were sent
    if page == "pages/6_Gallery.py":
        assert "X-Amz-Signature=" in rendered(as_alice(page).run())
