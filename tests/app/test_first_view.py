"""A session's first view of Generate: the prompt and button alone, then the whole page on the rerun that the
page's script asks for (components/first_view.py). The script itself runs in tests/e2e/test_first_view_browser.py."""

import re

import pytest

from components import first_view, state
from imagelab.store import Store

from .conftest import open_page, page_text, seed_run, settle

TIMEOUT = 60


def prompts_shown(at) -> list[str]:
    """The prompts under the thumbnails (the thumbnails' alt text, the prompt too, left out)."""
    return re.findall(r"picture number \d+", re.sub(r"!\[[^\]]*\]\(\S+\)", "", page_text(at.main)))


def pictures_shown(at) -> list[str]:
    """The grid's thumbnails (Markdown images), by their file."""
    return [m.group(1) for e in at.main.markdown if (m := re.match(r"!\[[^\]]*\]\((\S+)\)$", e.value))]


def test_first_view_is_the_prompt_and_button_and_the_rerun_draws_the_rest(data_dir):
    seed_run(data_dir)
    at = open_page(first_view=True, timeout=TIMEOUT).run()
    assert not at.exception
    assert at.text_area(key=state.GEN_PROMPT).value == ""
    assert not at.button(key=state.GEN_BUTTON).disabled
    assert at.sidebar.button(key=first_view.MARKER_KEY)  # the script that asks for the rest
    assert not at.main.selectbox and not at.get("image") and not at.sidebar.get("page_link")
    at.run()  # what the script asks for once the browser shows the prompt
    assert not at.exception
    assert at.selectbox(key=state.GEN_MODEL).value
    assert len(at.sidebar.get("page_link")) >= 9 and at.get("image")
    assert first_view.MARKER_KEY not in [b.key for b in at.sidebar.button]
    at.run()  # and only the session's first view is brief
    assert at.selectbox(key=state.GEN_MODEL).value and at.get("image")


def test_a_click_before_the_rest_arrives_sends_with_the_default_options(data_dir):
    at = open_page(first_view=True, timeout=TIMEOUT).run()
    at.text_area(key=state.GEN_PROMPT).input("A paper boat on a puddle")
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception
    settle(at, data_dir)
    runs = Store(data_dir).runs()
    assert [(r.prompt, r.status) for r in runs] == [("A paper boat on a puddle", "ok")]
    assert runs[0].params["model"] == "gpt-image-2" and runs[0].params["n"] == 1
    assert at.text_area(key=state.GEN_PROMPT).value == "A paper boat on a puddle"


def test_pages_without_a_brief_view_draw_in_full_and_end_the_first_view(data_dir):
    at = open_page("pages/7_Compare.py", first_view=True, timeout=TIMEOUT).run()
    assert not at.exception and len(at.sidebar.get("page_link")) >= 9
    at.switch_page("pages/1_Generate.py").run()  # the session's first view was Compare's
    assert at.selectbox(key=state.GEN_MODEL).value and len(at.sidebar.get("page_link")) >= 9


# The other pages a person starts from: (page, its first input's key, its model picker's key).
BRIEF_PAGES = [("pages/2_Reference_edit.py", state.REF_PROMPT, state.REF_MODEL),
               ("pages/3_Mask_edit.py", state.MASK_PROMPT, state.MASK_MODEL),
               ("pages/9_Extend.py", state.EXT_PROMPT, state.EXT_MODEL),
               ("pages/5_Sweep.py", state.SWEEP_TEMPLATE, state.SWEEP_MODEL)]


@pytest.mark.parametrize(("path", "prompt", "model"), BRIEF_PAGES, ids=lambda v: str(v).split("/")[-1])
def test_each_pages_first_view_is_its_prompt_and_what_is_typed_stays_for_the_rest(data_dir, path, prompt, model):
    seed_run(data_dir)
    at = open_page(path, first_view=True, timeout=TIMEOUT).run()
    assert not at.exception
    assert at.text_area(key=prompt).value == ""
    assert model not in [s.key for s in at.selectbox] and not at.get("image")
    assert at.sidebar.button(key=first_view.MARKER_KEY)
    assert not at.sidebar.get("page_link")
    at.text_area(key=prompt).input("Typed while the rest was on its way")
    at.run()  # what the script asks for once the browser shows the prompt
    assert not at.exception
    assert at.selectbox(key=model).value and len(at.sidebar.get("page_link")) >= 9
    assert at.text_area(key=prompt).value == "Typed while the rest was on its way"
    assert first_view.MARKER_KEY not in [b.key for b in at.sidebar.button]


def test_a_message_sent_in_the_conversations_first_view_is_sent(data_dir):
    at = open_page("pages/4_Conversation.py", first_view=True, timeout=TIMEOUT).run()
    assert not at.exception
    assert state.CONV_MODEL not in [s.key for s in at.selectbox] and len(at.chat_input) == 1
    assert at.sidebar.button(key=first_view.MARKER_KEY)
    at.chat_input[0].set_value("A red kite over the dunes").run()
    assert not at.exception
    settle(at, data_dir)
    runs = Store(data_dir).runs()
    assert [(r.page, r.prompt, r.status) for r in runs] == [("conversation", "A red kite over the dunes", "ok")]
    assert at.selectbox(key=state.CONV_MODEL).value


def test_gallery_first_view_is_the_newest_pictures_and_the_rerun_adds_the_rest(data_dir):
    for i in range(26):
        seed_run(data_dir, f"picture number {i}")
    at = open_page("pages/6_Gallery.py", first_view=True, timeout=TIMEOUT).run()
    assert not at.exception
    first = prompts_shown(at)  # column by column
    first_pictures = pictures_shown(at)
    assert sorted(first) == sorted(f"picture number {i}" for i in range(2, 26))  # the newest page of them
    assert len(pictures_shown(at)) == 24
    assert not at.checkbox and not at.text_input and not at.main.button and not at.number_input
    assert at.sidebar.button(key=first_view.MARKER_KEY)
    at.run()  # what the script asks for once the browser shows the pictures
    assert not at.exception
    assert prompts_shown(at) == first
    assert pictures_shown(at) == first_pictures and len(at.checkbox) == 24
    assert at.text_input(key=state.GALLERY_TEXT) and "Page 1 of 2" in [t.value for t in at.get("text")]
    assert len(at.sidebar.get("page_link")) >= 9 and first_view.MARKER_KEY not in [b.key for b in at.sidebar.button]
