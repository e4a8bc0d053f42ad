"""Boards on both engines: pictures in order with notes, share links that open by token only, reactions
limited per link, a board as a Gallery filter, and pictures on a board that outlive their result."""

import threading

import pytest
from sqlalchemy import select

from imagelab.history.boards import BoardProblem, ReactionsTooFast, token_hash
from imagelab.history.schema import board_shares


def three_pictures(store):
    run = store.start_run("generate", "gpt-image-2", "a fox", {"n": 3})
    return [store.add_image(run, i, b"\x89PNG picture " + str(i).encode(), "png", 10, 10) for i in range(3)]


def test_a_board_keeps_its_pictures_in_the_order_they_were_added_and_moved(store):
    a, b, c = three_pictures(store)
    board = store.create_board("Client review", "Round one")
    for rec in (a, b, c):
        assert store.add_to_board(board, rec.hash, rec.format)
    assert not store.add_to_board(board, b.hash, b.format)  # once only
    items = store.board_items(board)
    assert [i.hash for i in items] == [a.hash, b.hash, c.hash]
    assert store.move_item(items[2].id, -1)        # c before b
    assert not store.move_item(items[0].id, -1)    # a is first already
    assert store.move_item(items[0].id, +1)        # a after c
    assert [i.hash for i in store.board_items(board)] == [c.hash, a.hash, b.hash]
    store.set_note(items[1].id, "  the *one* <b>we</b> like  ")
    assert store.board_items(board)[2].note == "the *one* <b>we</b> like"
    assert [(x.name, x.description, x.pictures) for x in store.boards()] == [("Client review", "Round one", 3)]


def test_a_board_needs_a_name_and_notes_have_a_limit(store):
    with pytest.raises(BoardProblem, match="name"):
        store.create_board("   ")
    board = store.create_board("x")
    (a, *_) = three_pictures(store)
    store.add_to_board(board, a.hash, a.format)
    with pytest.raises(BoardProblem, match="1000 characters"):
        store.set_note(store.board_items(board)[0].id, "n" * 1001)


def test_a_share_link_opens_by_its_token_only_and_keeps_no_token(store):
    board = store.create_board("Shared")
    token = store.create_share(board, show_details=True)
    assert len(token) >= 43  # 32 random bytes
    link = store.open_share(token)
    assert link is not None and link.board_id == board and link.show_details
    with store.database.read() as db:
        kept = db.execute(select(board_shares.c.token_hash)).scalars().all()
    assert kept == [token_hash(token)] and token not in kept[0]
    assert store.open_share(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert store.open_share("") is None


def test_revoked_and_expired_links_answer_like_a_wrong_one(store):
    board = store.create_board("Shared")
    revoked = store.create_share(board)
    expiring = store.create_share(board, expires_at=1000.0)
    assert store.open_share(expiring, now=999.0) is not None
    assert store.open_share(expiring, now=1000.0) is None
    store.revoke_share(store.open_share(revoked).id)
    assert store.open_share(revoked) is None
    assert [s.revoked_at is not None for s in store.shares(board)] == [False, True]


def test_reactions_come_through_an_open_link_newest_first_and_reach_the_gallery_cards(store):
    a, b, _ = three_pictures(store)
    board = store.create_board("Shared")
    store.add_to_board(board, a.hash, a.format)
    store.add_to_board(board, b.hash, b.format)
    first, second = store.board_items(board)
    token = store.create_share(board)
    store.add_reaction(token, first.id, verdict="up", name="Ana", now=100.0)
    store.add_reaction(token, second.id, verdict=None, comment="**bold** <img src=x>", name="Bo", now=200.0)
    got = store.reactions(board)
    assert [(r.verdict, r.comment, r.name, r.hash) for r in got] == [
        (None, "**bold** <img src=x>", "Bo", b.hash), ("up", "", "Ana", a.hash)]
    assert {h: [r.name for r in rs] for h, rs in store.reactions_to([a.hash, b.hash]).items()} == {
        a.hash: ["Ana"], b.hash: ["Bo"]}
    assert store.board(board).reactions == 2
    with pytest.raises(BoardProblem, match="thumb up or thumb down"):
        store.add_reaction(token, first.id, verdict=None, comment="  ")
    with pytest.raises(BoardProblem, match="500 characters"):
        store.add_reaction(token, first.id, verdict="down", comment="c" * 501)
    other = store.create_board("Other")
    with pytest.raises(BoardProblem, match="no longer on the board"):
        store.add_reaction(store.create_share(other), first.id, verdict="up")
    store.revoke_share(store.open_share(token).id)
    with pytest.raises(BoardProblem, match="no longer opens"):
        store.add_reaction(token, first.id, verdict="up")


def test_reactions_through_one_link_are_limited_per_minute_even_when_sent_at_once(store):
    (a, *_) = three_pictures(store)
    board = store.create_board("Shared")
    store.add_to_board(board, a.hash, a.format)
    item = store.board_items(board)[0].id
    token, other = store.create_share(board), store.create_share(board)
    refused = []

    def react():
        try:
            store.add_reaction(token, item, verdict="up", now=500.0, per_minute=3)
        except ReactionsTooFast as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=react) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.reactions(board)) == 3 and len(refused) == 3
    assert "more than 3 reactions in a minute" in refused[0]
    store.add_reaction(other, item, verdict="down", now=500.0, per_minute=3)  # another link counts its own
    store.add_reaction(token, item, verdict="up", now=561.0, per_minute=3)    # a minute later it is taken
    assert len(store.reactions(board)) == 5


def test_a_board_is_a_gallery_filter(store):
    a, b, c = three_pictures(store)
    board = store.create_board("Two of three")
    store.add_to_board(board, a.hash, a.format)
    store.add_to_board(board, c.hash, c.format)
    found, total = store.search_images(board=board)
    assert total == 2 and {r.hash for r in found} == {a.hash, c.hash}
    assert store.boards_of(c.hash) == [board] and store.boards_of(b.hash) == []


def test_a_picture_on_a_board_keeps_its_bytes_when_its_result_is_deleted(store):
    a, b, _ = three_pictures(store)
    board = store.create_board("Keep")
    store.add_to_board(board, a.hash, a.format)
    assert store.delete_image(a.id) is False
    assert store.read_bytes(a.hash, "png") == b"\x89PNG picture 0"
    assert a.hash in store._known_hashes()
    store.delete_board(board)
    assert store.boards() == [] and store.delete_image(b.id) is True


def test_a_token_is_judged_by_a_constant_time_comparison_of_hashes(store, monkeypatch):
    from imagelab.history import boards as boards_module

    board = store.create_board("Shared")
    token = store.create_share(board)
    compared = []

    def spy(a, b):
        compared.append((a, b))
        return False  # the comparison alone decides: a row found by its hash still does not open

    monkeypatch.setattr(boards_module.hmac, "compare_digest", spy)
    assert store.open_share(token) is None
    assert compared == [(token_hash(token), token_hash(token))]


def test_a_board_is_its_makers_and_only_they_or_an_admin_change_it(store):
    from imagelab.history.boards import NotYourBoard
    from imagelab.people import Person

    alice, bob = Person("alice", "alice@example.com"), Person("bob", "bob@example.com")
    a, b, _ = three_pictures(store)
    board = store.create_board("Alice's review", owner=alice)
    store.create_board("Bob's review", owner=bob)
    assert store.add_to_board(board, a.hash, a.format, owner="alice")
    assert store.add_to_board(board, b.hash, b.format, owner="alice")
    assert [(x.name, x.owner, x.owner_email) for x in store.boards(owner="alice")] == [
        ("Alice's review", "alice", "alice@example.com")]
    assert [x.name for x in store.boards()] == ["Bob's review", "Alice's review"]  # everyone sees every board
    first, second = store.board_items(board)
    token = store.create_share(board, owner="alice")
    link = store.open_share(token)
    refused = [lambda: store.describe_board(board, name="Bob's now", owner="bob"),
               lambda: store.add_to_board(board, _.hash, _.format, owner="bob"),
               lambda: store.move_item(second.id, -1, owner="bob"),
               lambda: store.set_note(first.id, "Bob was here", owner="bob"),
               lambda: store.remove_from_board(first.id, owner="bob"),
               lambda: store.create_share(board, owner="bob"),
               lambda: store.revoke_share(link.id, owner="bob"),
               lambda: store.delete_board(board, owner="bob")]
    for change in refused:
        with pytest.raises(NotYourBoard, match="only the person who made it, or an admin, can change it"):
            change()
    assert [(x.name, x.pictures) for x in store.boards(owner="alice")] == [("Alice's review", 2)]
    assert [i.hash for i in store.board_items(board)] == [a.hash, b.hash] and not store.board_items(board)[0].note
    assert len(store.shares(board)) == 1 and store.open_share(token) is not None
    store.move_item(second.id, -1, owner="alice")  # hers to change
    store.describe_board(board, name="Alice's final", owner=None)  # an admin changes anyone's
    store.delete_board(board)
    assert [x.name for x in store.boards()] == ["Bob's review"]


def test_a_board_made_before_login_is_nobodys_and_only_an_admin_changes_it(store):
    from imagelab.history.boards import NotYourBoard

    old = store.create_board("From the single-user days")
    assert store.board(old).owner is None
    with pytest.raises(NotYourBoard):
        store.describe_board(old, name="Taken over", owner="bob")
    store.describe_board(old, name="Tidied by an admin")
    assert store.board(old).name == "Tidied by an admin" and store.boards(owner="bob") == []
