"""Code spans for text ImageLab did not write: whatever the text, the span holds all of it and ends where we end it.

The browser test (tests/e2e/test_untrusted_text_browser.py) proves what Streamlit draws from them; these pin the
string rules that proof rests on, read by the CommonMark rules for code spans."""

import pytest

from imagelab.text import code_span, table_cell


def _span_content(markdown: str) -> str:
    """What a CommonMark code span shows: the text between the fences, less one padding space each side."""
    fence = len(markdown) - len(markdown.lstrip("`"))
    assert markdown.endswith("`" * fence) and not markdown.endswith("`" * (fence + 1))
    inner = markdown[fence:-fence]
    # the closing fence is the first backtick run of the same length: none may occur inside
    assert fence not in [len(r) for r in _runs(inner)]
    return inner[1:-1] if inner.startswith(" ") and inner.endswith(" ") and inner.strip() else inner


def _runs(text: str) -> list[str]:
    out, current = [], ""
    for ch in text:
        if ch == "`":
            current += ch
        elif current:
            out.append(current)
            current = ""
    return out + ([current] if current else [])


@pytest.mark.parametrize("text", [
    "[x](http://127.0.0.1:9/p)", "a ` b", "``[y](http://127.0.0.1:9/q)``", "`starts", "ends`", "```", "a `` b ` c",
])
def test_a_code_span_holds_every_backtick_of_the_text(text):
    assert _span_content(code_span(text)) == text


def test_a_code_span_is_one_line_so_a_blank_line_cannot_end_it():
    assert code_span("one\n\n# two\n- three") == "` one # two - three `"


def test_empty_text_makes_no_span():
    assert code_span("") == "" and code_span(" \n ") == ""


@pytest.mark.parametrize("text, cell", [
    ("a|b", r"` a\|b `"),
    (r"a\|b", r"` a\|b `"),  # already odd: the table reads that pipe as text
    (r"a\\|b", r"` a\\\|b `"),  # even: without one more backslash the row would split here
])
def test_every_pipe_in_a_table_cell_is_escaped(text, cell):
    assert table_cell(text) == cell
