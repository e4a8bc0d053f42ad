"""`python -m imagelab.migrate` against a real PostgreSQL and a real S3 server: a single-user history is
copied whole, a second run copies nothing, a killed copy goes on, the source is untouched, and two people's
histories merge without id clashes, boards (pictures, links, reactions) and owners (stars, people, limits)
included."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from imagelab.migrate import copy_history
from imagelab.offline.render import render
from imagelab.people import Person
from imagelab.store import Store
from tests.conftest import ROOT


def make_history(folder: Path, who: str, pictures: int = 3) -> Store:
    """A single-user history: runs with pictures (owned by ``who``), an edit with its lineage, a conversation, a
    library entry, a star, a spending limit of ``who``'s own, and a board of two pictures with a share link and
    two reactions through it."""
    store = Store(folder, database_url="", storage_url="")
    person = Person(f"{who.lower()}-subject", f"{who.lower()}@example.com")
    store.note_person(person)
    first = None
    for i in range(pictures):
        prompt = f"{who}'s picture {i}: a lighthouse"
        run = store.start_run("generate", "gpt-image-2", prompt, {"prompt": prompt}, billed=False, requested=1,
                              owner=person)
        rec = store.add_image(run, 0, render(prompt, 64, 64, quality="low", index=i), "png", 64, 64)
        store.finish_run(run, "ok", usage={"total_tokens": 10}, actual_dollars=0.01)
        first = first or rec
    edit = store.start_run("reference_edit", "gpt-image-2", f"{who}'s edit", {}, billed=False, requested=1)
    store.add_image(edit, 0, render(f"{who} edit", 64, 64, quality="low"), "png", 64, 64, parents=[first.hash])
    store.finish_run(edit, "ok")
    conv = store.new_conversation(f"{who}'s chat")
    store.add_turn(conv, parent_id=None, run_id=None, prompt=f"{who} says hello", attachments=[first.hash],
                   status="ok")
    store.save_prompt(f"{who}'s prompt", "A teal lighthouse")
    store.set_star(first.id, person.subject, True)
    store.set_person_limit(person.subject, "day", 5.0)
    board = store.create_board(f"{who}'s board", "for the review")
    picked = store.recent_images(2)
    for rec in picked:
        store.add_to_board(board, rec.hash, rec.format)
    token = store.create_share(board)
    items = store.board_items(board)
    store.add_reaction(token, items[0].id, verdict="up", name=f"{who}'s client")
    store.add_reaction(token, items[1].id, verdict=None, comment=f"{who}: brighter, please")
    return store


def board_of(store: Store, name: str) -> tuple[list[str], dict[str, list[str]]]:
    """The board called ``name``: its pictures' hashes in order, and the words of each picture's reactions."""
    board = next(b for b in store.boards() if b.name == name)
    hashes = [item.hash for item in store.board_items(board.id)]
    words = {h: sorted(f"{r.verdict or ''}|{r.comment}|{r.name}" for r in found)
             for h, found in store.reactions_to(hashes).items()}
    return hashes, words


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_a_history_is_copied_whole_once_and_the_source_is_untouched(tmp_path, pg_url, s3_storage):
    source = make_history(tmp_path / "alice", "Alice")
    alice_board = board_of(source, "Alice's board")
    source.close()
    before = tree_digest(tmp_path / "alice")
    summary = copy_history(tmp_path / "alice", pg_url, s3_storage.url, work_dir=tmp_path)
    assert summary.complete, summary.lines()
    assert summary.copied["runs"] == 4 and summary.copied["images"] == 4 and summary.pictures_sent == 4
    assert {kind: summary.copied[kind] for kind in ("boards", "board_items", "board_shares", "board_reactions",
                                                    "stars", "people", "person_limits")} == {
        "boards": 1, "board_items": 2, "board_shares": 1, "board_reactions": 2, "stars": 1, "people": 1,
        "person_limits": 1}
    said = "\n".join(summary.lines())
    assert "board_reactions: 2 in the source, 2 copied now, 0 copied before, 2 held." in said
    assert tree_digest(tmp_path / "alice") == before

    shared = Store(tmp_path / "server", database_url=pg_url, storage_url=s3_storage.url)
    images = shared.recent_images(10)
    assert len(images) == 4
    for rec in images:
        assert hashlib.sha256(shared.read_bytes(rec.hash, rec.format)).hexdigest() == rec.hash
    edit = next(r for r in images if r.page == "reference_edit")
    assert shared.parents_of(edit.id) == [images[-1].hash]
    assert board_of(shared, "Alice's board") == alice_board
    first = images[-1]
    assert shared.stars_of("alice-subject") == {first.id}
    assert shared.people() == [("alice-subject", "alice@example.com")]
    assert shared.person_limits() == {("alice-subject", "day"): 5.0}
    owners = {(r.prompt, shared.owners_of_runs([r.id])[r.id]) for r in shared.runs(10)}
    assert ("Alice's picture 0: a lighthouse", "alice-subject") in owners
    assert ("Alice's edit", None) in owners  # a run made without login stays without an owner
    shared.close()

    again = copy_history(tmp_path / "alice", pg_url, s3_storage.url, work_dir=tmp_path)
    assert again.complete and sum(again.copied.values()) == 0 and again.pictures_sent == 0
    assert again.skipped["runs"] == 4 and again.skipped["board_reactions"] == 2 and again.skipped["stars"] == 1
    shared = Store(tmp_path / "server", database_url=pg_url, storage_url=s3_storage.url)
    assert len(shared.boards()) == 1 and shared.count_reactions() == 2
    shared.close()


def test_two_peoples_histories_merge_without_id_clashes(tmp_path, pg_url, s3_storage):
    alice, bob = make_history(tmp_path / "alice", "Alice"), make_history(tmp_path / "bob", "Bob", pictures=2)
    boards = {"Alice's board": board_of(alice, "Alice's board"), "Bob's board": board_of(bob, "Bob's board")}
    alice.close()
    bob.close()
    assert copy_history(tmp_path / "alice", pg_url, s3_storage.url, work_dir=tmp_path).complete
    assert copy_history(tmp_path / "bob", pg_url, s3_storage.url, work_dir=tmp_path).complete
    shared = Store(tmp_path / "server", database_url=pg_url, storage_url=s3_storage.url)
    runs = shared.runs(50)
    assert len(runs) == 7 and len({r.id for r in runs}) == 7
    by_prompt = {r.prompt: r for r in runs}
    for prompt, run in by_prompt.items():
        for rec in shared.images_of_run(run.id):
            assert rec.prompt == prompt  # every picture sits with its own person's run
    titles = sorted(c.title for c in shared.conversations())
    assert titles == ["Alice's chat", "Bob's chat"]
    # the same ids (board 1, its items 1 and 2) in both sources: each board keeps its own pictures and words
    assert {name: board_of(shared, name) for name in boards} == boards
    assert shared.count_reactions() == 4
    assert {p for p, _ in shared.people()} == {"alice-subject", "bob-subject"}
    for who in ("alice", "bob"):  # each star stays on its own person's first picture
        (starred,) = shared.stars_of(f"{who}-subject")
        assert shared.image(starred).prompt == f"{who.title()}'s picture 0: a lighthouse"
    shared.close()


def test_a_copy_killed_halfway_goes_on_where_it_stopped(tmp_path, pg_url, s3_storage):
    make_history(tmp_path / "carol", "Carol", pictures=40).close()
    env = {**os.environ, "IMAGELAB_MIGRATE_PAUSE": "0.05"}
    cmd = [sys.executable, "-m", "imagelab.migrate", "--from", str(tmp_path / "carol"), "--database-url", pg_url,
           "--storage-url", s3_storage.url]
    probe = Store(tmp_path / "probe", database_url=pg_url, storage_url=s3_storage.url)
    log = tmp_path / "first.log"
    with open(log, "wb") as out, subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT) as proc:
        deadline = time.monotonic() + 60
        while probe.count_images() < 5:
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    partway = probe.count_images()
    assert 5 <= partway < 41

    done = subprocess.run(cmd, cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Everything is there" in done.stdout
    assert probe.count_images() == 41 and len(probe.runs(100)) == 41  # nothing twice
    assert pg_url.split("@")[0].split(":")[-1] not in done.stdout + done.stderr  # the password stays out
    probe.close()
