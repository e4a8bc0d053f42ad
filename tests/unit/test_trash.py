"""Undo of a Gallery delete (imagelab.trash) and a kept-exact picture listed once, on both database engines."""

from imagelab.trash import put_back, take_out


def _three(store):
    run = store.start_run("generate", "gpt-image-2", "a red fox", {"n": 3})
    made = [store.add_image(run, i, f"\x89PNG {i}".encode(), "png", 8, 8) for i in range(3)]
    store.finish_run(run, "ok")
    return made


def test_a_deleted_picture_comes_back_in_its_place_with_its_bytes_star_and_lineage(store):
    first, middle, last = _three(store)
    run = store.start_run("reference_edit", "gpt-image-2", "make it blue", {"n": 1})
    child = store.add_image(run, 0, b"\x89PNG child", "png", 8, 8, parents=[first.hash])
    store.set_starred(child.id, True)
    before = [r.hash for r in store.search_images()[0]]

    gone = take_out(store, [store.image(child.id)])
    assert store.count_images() == 3
    assert not store.path_for(child.hash, "png").exists()

    (back,) = put_back(store, gone)
    assert [r.hash for r in store.search_images()[0]] == before  # same place, newest first
    assert store.read_bytes(back.hash) == b"\x89PNG child"
    again = store.image(back.id)
    assert again.starred and again.created_at == child.created_at and again.prompt == "make it blue"
    assert store.parents_of(back.id) == [first.hash]
    assert [c.hash for c in store.children_of(first.hash)] == [child.hash]


def test_a_kept_exact_picture_is_listed_once_and_finds_its_raw_output(store):
    run = store.start_run("mask_edit", "gpt-image-2", "a hat", {"n": 1})
    raw = store.add_image(run, 0, b"\x89PNG raw", "png", 8, 8)
    store.mark_raw(raw.id)
    kept = store.add_image(run, 0, b"\x89PNG kept", "png", 8, 8, parents=[raw.hash], variant="kept")
    other = store.add_image(store.start_run("generate", "gpt-image-2", "a cat", {"n": 1}), 0, b"\x89PNG c", "png", 8, 8)

    listed, total = store.search_images()
    assert [r.id for r in listed] == [other.id, kept.id] and total == 2
    found = store.raw_versions(listed)
    assert list(found) == [kept.id] and found[kept.id].hash == raw.hash

    both = take_out(store, [store.image(kept.id), store.image(raw.id)])
    assert store.search_images()[1] == 1
    put_back(store, both)
    listed, total = store.search_images()
    assert total == 2 and listed[1].variant == "kept"
    assert store.raw_versions(listed)[listed[1].id].hash == raw.hash


def test_undo_of_a_teams_delete_puts_back_each_persons_star_and_the_owner(store):
    from imagelab.people import Person

    run = store.start_run("generate", "gpt-image-2", "Alice's fox", {"n": 1}, owner=Person("alice", "a@example.com"))
    fox = store.add_image(run, 0, b"\x89PNG fox", "png", 8, 8)
    store.set_starred(fox.id, True)  # starred before login existed: nobody's in the team, kept as it was
    store.set_star(fox.id, "alice", True, at=100.0)
    store.set_star(fox.id, "bob", True, at=200.0)
    gone = take_out(store, [store.image(fox.id)])  # an admin's delete
    assert store.stars_of("alice") == set() and store.stars_of("bob") == set()
    (back,) = put_back(store, gone)
    assert store.stars_on(back.id) == {"alice": 100.0, "bob": 200.0}
    again = store.image(back.id)
    assert again.starred and (again.owner, again.owner_email) == ("alice", "a@example.com")
