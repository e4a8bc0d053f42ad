"""Two people of a team on PostgreSQL, as AppTest runs their pages (``at.user``, ``[auth]`` in the secrets): whose
boards, pictures, stars and conversations are whose, and who may change or delete them. Carol is the admin."""

import io

import pytest
from PIL import Image

from components import state
from imagelab.people import Person
from imagelab.store import Store

from .conftest import open_page, page_text
from .test_team import AUTH

ALICE = Person("alice", "alice@example.com")
BOB = Person("bob", "bob@example.com")
CAROL = Person("carol", "carol@example.com")


@pytest.fixture
def team(data_dir, pg_url, monkeypatch):
    """A team's history in PostgreSQL, as every page of the app finds it, with Carol as the admin."""
    monkeypatch.setenv("IMAGELAB_DATABASE_URL", pg_url)
    monkeypatch.setenv("IMAGELAB_ADMINS", CAROL.email)
    store = Store(data_dir)
    for person in (ALICE, BOB, CAROL):
        store.note_person(person)
    yield store
    store.close()


def as_person(person: Person, path: str):
    at = open_page(path)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "sub": person.subject, "email": person.email}
    return at


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "PNG")
    return out.getvalue()


def pictures_of(store: Store, person: Person | None, prompt: str, colours=("red", "blue")):
    run = store.start_run("generate", "gpt-image-2", prompt, {"n": len(colours)}, status="ok", owner=person,
                          backend="Offline backend")
    made = [store.add_image(run, i, png(c), "png", 64, 64) for i, c in enumerate(colours)]
    store.finish_run(run, "ok")
    return made


def widget_keys(at) -> set[str]:
    """The keys of every element drawn: main, sidebar and an open dialog."""
    found = set()
    stack = [at._tree]
    while stack:
        here = stack.pop()
        if getattr(here, "key", None):
            found.add(str(here.key))
        stack.extend(getattr(here, "children", {}).values())
    return found


def read(at) -> str:
    """All a person reads: main, sidebar and an open dialog (``page_text`` reads the first two)."""
    return " ".join(page_text(part) for part in at._tree.children.values())


# --- boards ----------------------------------------------------------------------------------

def alices_board(store: Store) -> int:
    board = store.create_board("Alice's review", "For the client", owner=ALICE)
    for rec in pictures_of(store, ALICE, "Alice's harbour"):
        store.add_to_board(board, rec.hash, rec.format, owner=ALICE.subject)
    store.set_note(store.board_items(board)[0].id, "Alice's note on the first")
    return board


def test_bob_finds_alices_board_under_everyone_and_may_present_it_but_not_change_it(team):
    board = alices_board(team)
    at = as_person(BOB, "pages/10_Boards.py").run()
    assert not at.exception
    text = page_text(at)
    assert "only the person who made a board, or an admin, changes it" in text  # the page says the rule
    assert "No boards of yours yet" in text and "Alice's review" not in text  # Mine first, as in the Gallery
    at.selectbox(key=state.BOARDS_WHOSE).select("everyone").run()
    text = page_text(at)
    assert "Alice's review" in text and "2 picture(s) · 0 reaction(s) · alice@example.com" in text
    at.button(key=f"btn_board_open_{board}").click().run()
    assert not at.exception
    text = page_text(at)
    assert "This board belongs to alice@example.com: you may present it and hand it out" in text
    assert "Alice's note on the first" in text  # read, not edited
    drawn = widget_keys(at)
    assert {"btn_board_present", "btn_board_pdf", "btn_board_zip"} <= drawn
    changing = {k for k in drawn if k.startswith(("btn_board_up", "btn_board_down", "btn_board_remove", "board_note",
                                                  "btn_board_delete", "board_share", "btn_share"))}
    assert changing == set() and not at.get("text_area") and not at.get("form")
    assert [i.note for i in team.board_items(board)] == ["Alice's note on the first", ""]


def test_the_maker_and_an_admin_change_a_board_and_an_admin_who_stops_being_one_changes_nothing(team, monkeypatch):
    board = alices_board(team)
    first, second = team.board_items(board)
    alice = as_person(ALICE, "pages/10_Boards.py")
    alice.session_state[state.BOARD_OPEN] = board
    alice.run()
    assert "you may present it" not in page_text(alice)
    alice.button(key=f"btn_board_down_{first.id}").click().run()
    assert [i.id for i in team.board_items(board)] == [second.id, first.id]

    carol = as_person(CAROL, "pages/10_Boards.py")
    carol.session_state[state.BOARD_OPEN] = board
    carol.run()
    assert f"btn_board_remove_{first.id}" in widget_keys(carol)  # an admin may change anyone's board
    monkeypatch.setenv("IMAGELAB_ADMINS", "")  # Carol is an admin no more, her page still shows the buttons
    carol.button(key=f"btn_board_remove_{first.id}").click().run()
    assert not carol.exception
    assert [i.id for i in team.board_items(board)] == [second.id, first.id]  # the click changed nothing
    assert "This board belongs to alice@example.com" in page_text(carol)


def test_a_board_made_before_login_is_nobodys_and_bob_only_looks_at_it(team):
    old = team.create_board("From the single-user days")
    at = as_person(BOB, "pages/10_Boards.py")
    at.session_state[state.BOARD_OPEN] = old
    at.run()
    assert not at.exception
    assert "This board was made before login: you may present it and hand it out; only an admin can change it." \
        in page_text(at)
    assert "btn_board_delete" not in widget_keys(at)
    carol = as_person(CAROL, "pages/10_Boards.py")
    carol.session_state[state.BOARD_OPEN] = old
    carol.run()
    assert "btn_board_delete" in widget_keys(carol) and "made before login" not in page_text(carol)


# --- pictures: Everyone, deleting, Undo --------------------------------------------------------

def open_detail(at, image_id: int):
    at.button(key=f"btn_gallery_detail_{image_id}").click().run()
    return at


def test_alices_pictures_show_under_everyone_for_bob_who_cannot_delete_them(team):
    alice_red, _ = pictures_of(team, ALICE, "Alice's red kite")
    at = as_person(BOB, "pages/6_Gallery.py").run()
    assert not at.exception
    assert "Alice's red kite" not in page_text(at)  # Mine: Bob has none
    at.selectbox(key=state.GALLERY_WHOSE).select("everyone").run()
    assert "2 image(s) match" in page_text(at) and "alice@example.com" in page_text(at)
    at.selectbox(key=state.GALLERY_WHOSE).select("alice").run()
    assert "2 image(s) match" in page_text(at)
    open_detail(at, alice_red.id)
    assert not at.exception
    assert "This picture is alice@example.com's: only they or an admin can delete it." in read(at)
    assert "btn_gallery_delete_yes" not in widget_keys(at)
    assert team.image(alice_red.id).hash == alice_red.hash


def test_a_delete_is_asked_again_as_it_happens_and_undo_puts_back_the_owner_and_stars(team, monkeypatch):
    alice_red, _ = pictures_of(team, ALICE, "Alice's red kite")
    team.set_star(alice_red.id, "alice", True)
    carol = as_person(CAROL, "pages/6_Gallery.py").run()
    carol.selectbox(key=state.GALLERY_WHOSE).select("everyone").run()
    open_detail(carol, alice_red.id)
    assert "btn_gallery_delete_yes" in widget_keys(carol)  # an admin may delete anyone's picture
    monkeypatch.setenv("IMAGELAB_ADMINS", "")  # no longer an admin, with the Delete button still on her page
    carol.button(key="btn_gallery_delete_yes").click().run()
    assert not carol.exception
    assert team.image(alice_red.id).hash == alice_red.hash  # still there
    monkeypatch.setenv("IMAGELAB_ADMINS", CAROL.email)
    carol = as_person(CAROL, "pages/6_Gallery.py").run()
    carol.selectbox(key=state.GALLERY_WHOSE).select("everyone").run()
    open_detail(carol, alice_red.id)
    carol.button(key="btn_gallery_delete_yes").click().run()
    assert not carol.exception
    assert not team.search_images(text="red kite", owner="alice")[0][1:]  # one of her two is gone
    carol.button(key="btn_gallery_undo").click().run()
    assert not carol.exception
    back = [r for r in team.search_images(text="red kite")[0] if r.hash == alice_red.hash]
    assert [(r.owner, r.owner_email) for r in back] == [("alice", "alice@example.com")]
    assert back[0].id in team.stars_of("alice")  # her star came back with it


def test_bobs_undo_puts_back_only_his_own_picture_as_his(team):
    (mine,) = pictures_of(team, BOB, "Bob's tram", ("green",))
    pictures_of(team, ALICE, "Alice's red kite")
    at = as_person(BOB, "pages/6_Gallery.py").run()
    open_detail(at, mine.id)
    at.button(key="btn_gallery_delete_yes").click().run()
    assert not at.exception and not team.search_images(text="tram")[0]
    at.button(key="btn_gallery_undo").click().run()
    (back,) = team.search_images(text="tram")[0]
    assert back.owner == "bob" and team.search_images(owner="alice")[1] == 2


# --- stars made before login ----------------------------------------------------------------

def test_stars_made_before_login_are_nobodys_in_the_team_and_kept_for_the_single_user(team, monkeypatch, data_dir):
    old, _ = pictures_of(team, None, "A fox from the single-user days")
    team.set_starred(old.id, True)
    at = as_person(BOB, "pages/6_Gallery.py").run()
    at.selectbox(key=state.GALLERY_WHOSE).select("everyone").run()
    assert f"card_{old.id}" in widget_keys(at) and f"card_starred_{old.id}" not in widget_keys(at)
    at.toggle(key=state.GALLERY_STARRED).set_value(True).run()
    assert "0 image(s) match" in page_text(at)  # not Bob's star
    at.toggle(key=state.GALLERY_STARRED).set_value(False).run()
    at.button(key=f"btn_gallery_star_{old.id}").click().run()
    assert team.stars_of("bob") == {old.id}
    at.button(key=f"btn_gallery_star_{old.id}").click().run()  # Bob's own star, taken off again
    assert team.stars_of("bob") == set() and team.image(old.id).starred  # the old star is still there
    single = open_page("pages/6_Gallery.py").run()  # without [auth]: the one person's star, as before
    single.toggle(key=state.GALLERY_STARRED).set_value(True).run()
    assert not single.exception and "1 image(s) match" in page_text(single)
    assert f"card_starred_{old.id}" in widget_keys(single)


# --- conversations --------------------------------------------------------------------------

def test_bob_can_neither_pick_nor_open_nor_continue_alices_conversation(team):
    chat = team.new_conversation("Alice's harbour chat", ALICE)
    turn = team.add_turn(chat, parent_id=None, run_id=None, prompt="Alice's secret harbour turn", attachments=[],
                         status="ok", reply="A harbour at dawn, as Alice asked")
    alice = as_person(ALICE, "pages/4_Conversation.py").run()
    assert "Alice's secret harbour turn" in page_text(alice)  # hers: her page opens it
    at = as_person(BOB, "pages/4_Conversation.py")
    at.session_state[state.CONV_ID] = chat  # a session that somehow holds her conversation and turn
    at.session_state[state.CONV_HEAD] = turn
    at.run()
    assert not at.exception
    assert not any("Alice" in str(o) for o in at.selectbox(key=state.CONV_PICKER).options)
    assert at.session_state[state.CONV_ID] is None and "secret harbour" not in page_text(at)


# --- money and keys -------------------------------------------------------------------------

def test_bobs_limit_stops_bob_not_alice_and_his_pages_never_show_her_key_or_limit(team, monkeypatch,
                                                                                compatible_server):
    from .test_connection import generate, rendered
    from .test_team import TEAM_KEY

    alice_key = "sk-alice-own-4c0ffee-for-her-session"
    api = compatible_server(token=TEAM_KEY)  # billed: it is no offline backend
    monkeypatch.setenv("OPENAI_API_KEY", TEAM_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    team.set_person_limit("bob", "day", 0.001)
    team.set_person_limit("alice", "day", 7.77)

    bob = generate(as_person(BOB, "pages/1_Generate.py"), "Bob's blue tram in the rain")
    assert "Today (yours): $0.00 of $0.0010 · this request $0.0059 :red[— over the limit]" in read(bob)
    assert not team.search_images(text="blue tram")[0] and not team.runs(owner="bob")

    alice = generate(as_person(ALICE, "pages/1_Generate.py"), "Alice's green tram in the sun")
    assert "over the limit" not in read(alice)
    (made,) = team.search_images(text="green tram")[0]
    assert made.owner == "alice" and "$7.77" in read(alice)
    alice.sidebar.text_input(key=state.API_KEY).input(alice_key).run()  # her own key, for her session only

    for page in ("pages/1_Generate.py", "pages/6_Gallery.py", "pages/4_Conversation.py", "pages/11_Team.py"):
        seen = rendered(as_person(BOB, page).run())
        assert alice_key not in seen and TEAM_KEY not in seen and "7.77" not in seen, page
