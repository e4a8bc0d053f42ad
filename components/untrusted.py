"""Text ImageLab did not write, on the page: a server's words, a file's name, a template's value.

Streamlit reads every string it is handed as Markdown (alerts, captions, labels, help and toasts
too) except ``st.text`` and ``st.code``; and escaping Markdown is not enough, since its Markdown links
any bare ``http://…``, ``www.…`` or e-mail address whatever the escapes. So such text reaches the page
in one of these shapes only, each scrubbed of anything key-shaped first:

- ``show_text(text)``: a block of it, as ``st.text``; ``quiet`` draws it small and faded, like a caption.
- ``theirs(text)``: a piece of it inside a Markdown sentence of ours (a caption, a label, a help text),
  as a code span, where nothing is parsed.
- ``say(text)``: an alert whose sentence quotes it (every ImageLab error does): the whole sentence as an
  emphasised code span, which ``UNTRUSTED_CSS`` draws like the alert's own words (and only that: a code
  span of ours in an alert keeps its look).
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import streamlit as st

from imagelab.text import code_span, scrub, table_cell

__all__ = ["show_text", "theirs", "say", "UNTRUSTED_CSS"]

# An alert's sentence arrives as an emphasised code span (see ``say``); it reads as the alert's own words. A
# quiet text (``show_text(quiet=True)``) has the caption's size and its faded colour, in either theme.
UNTRUSTED_CSS = """
[data-testid="stAlertContainer"] em:has(> code:only-child){font-style:normal}
[data-testid="stAlertContainer"] em > code:only-child{font-family:inherit;font-size:inherit;color:inherit;
  background:none;padding:0;white-space:normal;overflow-wrap:anywhere}
.il-quiet-text{font-size:0.875rem;opacity:0.62;white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.5}
"""


def _clean(text: object, secrets: Iterable[str | None]) -> str:
    return scrub("" if text is None else str(text), secrets)


def show_text(text: object, *, quiet: bool = False, lead: str = "", secrets: Iterable[str | None] = ()) -> None:
    """A block of their text, line breaks kept, nothing in it read as Markdown or HTML; ``lead`` (words of ours,
    such as "Revised prompt:") goes before it on the same line.

    ``quiet`` draws it like a caption: escaped into an element of ours, since ``st.caption`` is Markdown."""
    clean = _clean(text, secrets)
    if not clean:
        return
    shown = f"{lead} {clean}" if lead else clean
    if quiet:
        st.html(f'<div class="il-quiet-text">{html.escape(shown)}</div>')
    else:
        st.text(shown)


def theirs(text: object, *, in_table: bool = False, secrets: Iterable[str | None] = ()) -> str:
    """Their text for a place in one of our Markdown sentences (``in_table``: a cell of a Markdown table):
    shown as typed, on one line. Never inside a colour directive: its label ends at the first ']'."""
    return (table_cell if in_table else code_span)(_clean(text, secrets))


def say(text: object, *, kind: str = "error", icon: str | None = None,
        secrets: Iterable[str | None] = ()) -> None:
    """An alert (``kind``: error, warning, info or success) whose sentence quotes text ImageLab did not write:
    a server's message, a file's name."""
    quoted = theirs(text, secrets=secrets)
    if quoted:
        getattr(st, kind)(f"*{quoted}*", icon=icon)
