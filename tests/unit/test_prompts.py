"""Describe / improve requests, the word-level diff, and the prompt library's search and storage."""

import pytest

from imagelab.library import LibraryPrompt, all_tags, parse_tags, search, shipped_prompts
from imagelab.prompts import DESCRIBE, REWRITE, PromptRequest, word_diff
from imagelab.specs import InputImage
from imagelab.store import SCHEMA_VERSION, Store

IMG = InputImage(b"\x89PNG fake", "a.png", "image/png", 1024, 768, "a" * 64)


def ops(parts):
    return [(p.op, p.text) for p in parts]


def test_word_diff_marks_insertions_and_deletions():
    parts = word_diff("a nice photo of a dog", "a striking photo of a black dog at dusk")
    assert ops(parts) == [("equal", "a"), ("delete", "nice"), ("insert", "striking"), ("equal", "photo of a"),
                          ("insert", "black"), ("equal", "dog"), ("insert", "at dusk")]
    # the two sides can be rebuilt from the parts: nothing is lost or invented
    assert " ".join(p.text for p in parts if p.op != "insert") == "a nice photo of a dog"
    assert " ".join(p.text for p in parts if p.op != "delete") == "a striking photo of a black dog at dusk"


def test_word_diff_of_equal_and_empty_prompts():
    assert ops(word_diff("same  words\nhere", "same words here")) == [("equal", "same words here")]
    assert ops(word_diff("", "new words")) == [("insert", "new words")]
    assert ops(word_diff("old words", "")) == [("delete", "old words")]
    assert ops(word_diff("Dog.", "dog.")) == [("delete", "Dog."), ("insert", "dog.")]


def test_describe_request_sends_the_picture_and_no_tools():
    kw = PromptRequest(kind=DESCRIBE, image=IMG, model="gpt-5.5").to_sdk_kwargs()
    assert kw["model"] == "gpt-5.5" and "tools" not in kw and kw["store"] is False
    content = kw["input"][0]["content"]
    assert content[0]["type"] == "input_text"
    assert content[1]["type"] == "input_image" and content[1]["image_url"].startswith("data:image/png;base64,")
    assert content[1]["detail"] == "auto"
    assert "recreate" in kw["instructions"]


def test_rewrite_request_sends_the_prompt_as_typed():
    kw = PromptRequest(kind=REWRITE, prompt="a red  fox\n").to_sdk_kwargs()
    assert kw["input"][0]["content"] == [{"type": "input_text", "text": "a red  fox\n"}]
    assert "improve" in kw["instructions"].lower()


def test_prompt_request_problems_say_what_to_do():
    assert [p.param for p in PromptRequest(kind=DESCRIBE).problems()] == ["image"]
    empty = PromptRequest(kind=REWRITE, prompt="  ").problems()
    assert [p.param for p in empty] == ["prompt"] and "improve" in empty[0].message
    assert PromptRequest(kind=REWRITE, prompt="a fox").problems() == []
    assert PromptRequest(kind=DESCRIBE, image=IMG).problems() == []


def test_parse_tags_cleans_what_was_typed():
    assert parse_tags("Poster, ad;  Kyoto  Trip ,poster,, ") == ("poster", "ad", "kyoto trip")
    assert parse_tags(["A", "a", " b "]) == ("a", "b")


LIB = (
    LibraryPrompt("Kyoto poster", "A travel guide cover for Kyoto with temples", ("poster", "print")),
    LibraryPrompt("Fox", "A red fox in snow, a poster-like composition", ("animal",), id=3, created_at=2.0),
    LibraryPrompt("Old fox", "A fox drawn in ink", ("animal", "ink"), id=1, created_at=1.0),
)


def test_search_needs_every_word_and_ranks_tag_and_title_hits_first():
    assert [p.title for p in search(LIB, "poster")] == ["Kyoto poster", "Fox"]
    assert [p.title for p in search(LIB, "FOX")] == ["Fox", "Old fox"]  # own prompts, newest first
    assert [p.title for p in search(LIB, "fox ink")] == ["Old fox"]
    assert search(LIB, "fox whale") == []
    assert [p.title for p in search(LIB, "", ["animal"])] == ["Fox", "Old fox"]
    assert [p.title for p in search(LIB, "fox", ["Ink"])] == ["Old fox"]
    assert all_tags(LIB)[0] == "animal"


def test_the_guide_gallery_prompts_ship_with_their_source():
    shipped = shipped_prompts()
    assert len(shipped) >= 40
    assert all(p.shipped and p.text.strip() and "image-generation" in p.source for p in shipped)
    kyoto = search(shipped, "kyoto")
    assert kyoto and 'Discover Kyoto' in kyoto[0].text and kyoto[0].size == "1024x1536"


def test_saved_prompts_are_kept_searched_and_deleted(store, tmp_path, database_url):
    first = store.save_prompt("Fox", "A red fox in snow", ("animal", "winter"))
    second = store.save_prompt("Lighthouse", "A teal lighthouse", parse_tags("Coast, light"), source="generate")
    again = Store(tmp_path, database_url=database_url)  # a new process sees them
    saved = again.saved_prompts()
    assert [p.id for p in saved] == [second, first] and saved[1].tags == ("animal", "winter")
    assert [p.title for p in search(saved + list(shipped_prompts()), "winter")] == ["Fox"]
    assert again.delete_prompt(first) and not again.delete_prompt(first)
    assert [p.title for p in again.saved_prompts()] == ["Lighthouse"]


def test_an_older_database_gains_the_library(tmp_path):
    from tests.legacy_history import old_history, user_version

    old_history(tmp_path, 2)
    store = Store(tmp_path)
    assert store.runs()[0].prompt == "An old fox" and store.runs()[0].reply is None
    store.save_prompt("t", "x")
    assert [p.title for p in store.saved_prompts()] == ["t"]
    assert user_version(tmp_path) == SCHEMA_VERSION


@pytest.mark.parametrize("kind", [DESCRIBE, REWRITE])
def test_a_request_for_words_records_what_it_asked(kind):
    rec = PromptRequest(kind=kind, prompt="a fox", image=IMG if kind == DESCRIBE else None).to_record()
    assert rec["kind"] == kind and rec["prompt"] == "a fox"
    assert (rec["image"] or {}).get("hash") == (IMG.hash if kind == DESCRIBE else None)
