"""A team's ImageLab in a real browser: people log in through a real OpenID Connect provider
(``oidc-provider-mock``), and someone not logged in is served nothing of it."""

from __future__ import annotations

import re
import secrets

import pytest

from imagelab.offline import start_server
from imagelab.people import Person
from imagelab.store import Store
from tests.services.oidc import ALICE, BOB, CAROL, login_secrets, oidc_provider

from .conftest import GALLERY_FILTERS, _free_port, cut_words, launch_app, screenshot, wait_idle, wait_until

pytestmark = pytest.mark.e2e

ALICE_PROMPT = "Alice's lighthouse under a violet moon"
TEAM_KEY = "sk-team-" + secrets.token_hex(12)  # the server's key: it must never reach a browser
ALICE_KEY = "sk-alice-own-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def team_app(tmp_path_factory):
    """ImageLab with login and a team key in its environment (a billed OpenAI-compatible server that takes only
    that key), Carol as its admin, its history already holding one picture of Alice's."""
    folder = tmp_path_factory.mktemp("team")
    data = folder / "data"
    store = Store(data)
    run_id = store.start_run("generate", "gpt-image-1", ALICE_PROMPT, {"n": 1}, status="ok", requested=1,
                             backend="Offline backend", billed=False, owner=Person("alice", ALICE["email"]))
    store.add_image(run_id, 0, _png(), "png", 64, 64)
    store.close()
    api = start_server(host="127.0.0.1", port=0, token=TEAM_KEY)
    try:
        with oidc_provider([ALICE, BOB, CAROL], folder / "oidc.log") as issuer:
            port = _free_port()
            secrets_file = login_secrets(folder / "secrets", issuer, port)
            env = {"OPENAI_API_KEY": TEAM_KEY, "OPENAI_BASE_URL": api.base_url, "IMAGELAB_ADMINS": CAROL["email"]}
            with launch_app(data, env, port=port, secrets=secrets_file) as server:
                yield server | {"issuer": issuer}
    finally:
        api.stop()


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 40, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def people_pages(browser):
    """A browser context (cookies of its own) per person: ``open_page()`` gives a new one."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, url: str, person: dict[str, str]) -> None:
    """Log ``person`` in through the provider's own page, as a browser does."""
    page.goto(url)
    page.locator(".st-key-btn_login button").click()
    page.get_by_role("button", name=person["sub"], exact=True).click()
    page.wait_for_url(f"{url}/**")
    wait_idle(page)


def _served_nothing(page) -> None:
    html = page.content()
    assert ALICE_PROMPT.split()[1] not in html  # "lighthouse"
    assert page.locator("img").count() == 0
    # Streamlit serves pictures under /media/ (its own fonts are under /static/media/), thumbnails under
    # /app/static/thumbs, shared storage by presigned URL
    assert not re.search(r"(?<!static)/media/|static/thumbs|X-Amz-", html)
    assert "$" not in page.locator('[data-testid="stApp"]').inner_text()  # no spend figure


def test_a_browser_not_logged_in_is_served_a_login_button_and_nothing_else(team_app, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    for where in ("", "/Gallery", "/Generate", "/Present", "/Conversation"):
        page.goto(team_app["url"] + where)
        wait_idle(page)
        assert page.locator(".st-key-btn_login button").is_visible()
        assert "Log in to use ImageLab." in page.locator('[data-testid="stMain"]').inner_text()
        _served_nothing(page)
    screenshot(page, "team_logged_out")
    page.set_viewport_size({"width": 1280, "height": 720})
    screenshot(page, "team_logged_out_1280")


def test_a_person_logs_in_through_the_provider_and_out_from_the_sidebar(team_app, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, team_app["url"], ALICE)
    page.goto(team_app["url"] + "/Gallery")
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "alice@example.com" in sidebar.inner_text()
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=30_000)
    screenshot(page, "team_logged_in_gallery")
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(300)
    assert cut_words(page, GALLERY_FILTERS) == []  # with "Whose" too, each label and placeholder whole ("St…")
    screenshot(page, "team_logged_in_gallery_1280")
    page.locator(".st-key-btn_logout button").click()
    page.get_by_role("button", name="End session").click()  # the provider asks to end its session too
    page.locator(".st-key-btn_login button").wait_for(timeout=30_000)
    wait_idle(page)
    page.goto(team_app["url"] + "/Gallery")
    wait_idle(page)
    _served_nothing(page)


def generate(page, url: str, prompt: str) -> None:
    page.goto(url + "/Generate")
    wait_idle(page)
    area = page.locator(".st-key-gen_prompt textarea")
    area.fill(prompt)
    area.blur()  # commits the text; Ctrl+Enter would press the primary button
    page.wait_for_timeout(300)
    wait_idle(page)
    page.locator(".st-key-btn_gen_run button").click()
    wait_idle(page)


def test_alices_pictures_show_under_everyone_for_bob_who_cannot_delete_them(team_app, people_pages):
    url = team_app["url"]
    alice = people_pages()
    log_in(alice, url, ALICE)
    generate(alice, url, "Alice's red kite over the dunes")
    alice.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
    kite = wait_until(lambda: Store(team_app["data_dir"]).search_images(text="red kite")[0], what="the kite")[0]
    assert (kite.owner, kite.owner_email) == ("alice", "alice@example.com")

    bob = people_pages()
    log_in(bob, url, BOB)
    bob.goto(url + "/Gallery")
    wait_idle(bob)
    main = bob.locator('[data-testid="stMain"]')
    assert "red kite" not in main.inner_text()  # Bob's own pictures first: he has none
    bob.locator(".st-key-gallery_whose").click()
    bob.get_by_role("option", name="Everyone").click()
    main.get_by_text("Alice's red kite over the dunes").first.wait_for(timeout=30_000)
    wait_idle(bob)
    assert "alice@example.com" in main.inner_text()
    bob.locator(f".st-key-btn_gallery_detail_{kite.id} button").first.click()
    wait_idle(bob)
    dialog = bob.locator('[data-testid="stDialog"]')
    dialog.get_by_text("only they or an admin can delete it").wait_for(timeout=30_000)
    assert bob.locator(".st-key-btn_gallery_delete").count() == 0
    screenshot(bob, "team_bob_sees_alices_picture")
    # the one person listed is Alice: Bob picks her by email and sees only hers
    bob.keyboard.press("Escape")
    wait_idle(bob)
    bob.locator(".st-key-gallery_whose").click()
    bob.get_by_role("option", name="alice@example.com").click()
    main.get_by_text("2 image(s) match").wait_for(timeout=30_000)
    assert Store(team_app["data_dir"]).image(kite.id).hash == kite.hash  # still there


def test_bobs_own_limit_stops_bob_and_not_alice(team_app, people_pages):
    url = team_app["url"]
    Store(team_app["data_dir"]).set_person_limit("bob", "day", 0.001)
    bob = people_pages()
    log_in(bob, url, BOB)
    generate(bob, url, "Bob's blue tram in the rain")
    main = bob.locator('[data-testid="stMain"]')
    main.get_by_text("which would cross your daily limit of $0.001").wait_for(timeout=30_000)
    assert "What would fit" in main.inner_text() or "ask an admin to raise it" in main.inner_text()
    assert "Today (yours): $0.00 of $0.001" in bob.locator('[data-testid="stSidebar"]').inner_text()
    screenshot(bob, "team_bob_over_his_limit")
    assert "red kite" not in main.inner_text() and "lighthouse" not in main.inner_text()  # Alice's runs are hers
    assert not Store(team_app["data_dir"]).search_images(text="blue tram")[0]

    alice = people_pages()
    log_in(alice, url, ALICE)
    generate(alice, url, "Alice's green tram in the sun")
    alice.wait_for_selector('[data-testid="stImage"] img', timeout=60_000)
    assert "would cross" not in alice.locator('[data-testid="stMain"]').inner_text()
    made = wait_until(lambda: Store(team_app["data_dir"]).search_images(text="green tram")[0], what="the tram")
    assert made[0].owner == "alice"


def test_bobs_page_never_shows_alices_key_or_limits_nor_the_team_key(team_app, people_pages):
    url = team_app["url"]
    Store(team_app["data_dir"]).set_person_limit("alice", "day", 7.77)
    alice = people_pages()
    log_in(alice, url, ALICE)
    alice.goto(url + "/Generate")
    wait_idle(alice)
    key_box = alice.locator(".st-key-conn_api_key input")
    key_box.fill(ALICE_KEY)  # her own key, for her session only
    key_box.press("Enter")
    wait_idle(alice)
    assert "Today (yours): $" in alice.locator('[data-testid="stSidebar"]').inner_text()
    assert "$7.77" in alice.locator('[data-testid="stSidebar"]').inner_text()
    assert TEAM_KEY not in alice.content()

    bob = people_pages()
    log_in(bob, url, BOB)
    for where in ("", "/Generate", "/Gallery", "/Sweep", "/Conversation"):
        bob.goto(url + where)
        wait_idle(bob)
        html = bob.content()
        assert TEAM_KEY not in html and ALICE_KEY not in html
        assert "7.77" not in bob.locator('[data-testid="stApp"]').inner_text()
    bob.goto(url + "/Generate")
    wait_idle(bob)
    assert bob.locator(".st-key-conn_api_key input").input_value() == ""  # the team key is not put in the box


def test_an_admin_sees_the_team_page_and_may_delete_anyones_picture(team_app, people_pages):
    url = team_app["url"]
    log_in(people_pages(), url, ALICE)  # the Team page lists everyone who has logged in
    bob = people_pages()
    log_in(bob, url, BOB)
    assert "Team" not in bob.locator('[data-testid="stSidebarUserContent"]').inner_text()
    bob.goto(url + "/Team")
    wait_idle(bob)
    main = bob.locator('[data-testid="stMain"]').inner_text()
    assert "The Team page is for admins" in main and "alice@example.com" not in main and "Spent in all" not in main

    carol = people_pages()
    log_in(carol, url, CAROL)
    carol.goto(url + "/Team")
    wait_idle(carol)
    main = carol.locator('[data-testid="stMain"]').inner_text()
    assert "alice@example.com" in main and "bob@example.com" in main
    assert "Set, from the server's environment (OPENAI_API_KEY): it serves everyone" in main
    assert TEAM_KEY not in carol.content()
    screenshot(carol, "team_page")

    picture = Store(team_app["data_dir"]).search_images(text="violet moon")[0][0]
    carol.goto(url + "/Gallery")
    wait_idle(carol)
    carol.locator(".st-key-gallery_whose").click()
    carol.get_by_role("option", name="Everyone").click()
    carol.locator(f".st-key-btn_gallery_detail_{picture.id}").first.wait_for(timeout=30_000)
    wait_idle(carol)
    carol.locator(f".st-key-btn_gallery_detail_{picture.id} button").first.click()
    wait_idle(carol)
    carol.locator('[data-testid="stDialog"] [data-testid="stPopover"] button', has_text="Delete").first.click()
    carol.locator(".st-key-btn_gallery_delete_yes button").click()
    wait_idle(carol)
    wait_until(lambda: not Store(team_app["data_dir"]).search_images(text="violet moon")[0], what="the delete")


def test_bob_opens_alices_board_under_everyone_and_is_shown_no_control_that_changes_it(team_app, people_pages):
    url = team_app["url"]
    store = Store(team_app["data_dir"])
    picture = store.search_images(owner="alice")[0][-1]
    board = store.create_board("Alice's client review", "Round one, for the harbour client",
                               owner=Person("alice", ALICE["email"]))
    store.add_to_board(board, picture.hash, picture.format)
    store.set_note(store.board_items(board)[0].id, "The violet is the client's own")
    bob = people_pages()
    log_in(bob, url, BOB)
    bob.goto(url + "/Boards")
    wait_idle(bob)
    main = bob.locator('[data-testid="stMain"]')
    main.get_by_text("only the person who made a board, or an admin, changes it").wait_for(timeout=30_000)
    bob.locator(".st-key-boards_whose").click()
    bob.get_by_role("option", name="Everyone").click()
    wait_idle(bob)
    bob.locator(f".st-key-btn_board_open_{board} button").click()
    wait_idle(bob)
    main.get_by_text("This board belongs to alice@example.com: you may present it and hand it out").wait_for(
        timeout=30_000)
    main.get_by_text("The violet is the client's own").wait_for()
    bob.locator('[data-testid="stImage"] img').first.wait_for(timeout=30_000)
    assert bob.locator(".st-key-btn_board_present button").first.is_visible()
    for changing in ("btn_board_remove", "btn_board_up", "btn_board_down", "board_note", "board_share",
                     "btn_board_delete"):
        assert bob.locator(f'[class*="st-key-{changing}"]').count() == 0, changing
    screenshot(bob, "team_bob_on_alices_board")
    bob.set_viewport_size({"width": 1280, "height": 720})
    wait_idle(bob)
    screenshot(bob, "team_bob_on_alices_board_1280")
    assert [i.note for i in store.board_items(board)] == ["The violet is the client's own"]
