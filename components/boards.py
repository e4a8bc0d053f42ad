"""Boards on the page: the "Add to board" control, a board's reactions, its slides, and the shared view a
link opens (``?board=<token>``: only that board, nothing of the app around it)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from urllib.parse import urlsplit

import streamlit as st

from imagelab.costs import image_money, money_text
from imagelab.history.boards import MAX_COMMENT, MAX_NAME, BoardItem, BoardProblem, Reaction
from imagelab.images import mime_of
from imagelab.slideshow import slideshow_html
from imagelab.store import StorageError, Store

from . import pages, people, results, state, untrusted
from .connection import get_store

__all__ = ["SHARE_PARAM", "WRONG_LINK", "add_to_board", "show_reactions", "reaction_line", "slides_of",
           "share_url", "shared_page", "verdict_mark"]

SHARE_PARAM = "board"
# One sentence for every link that does not open a board: wrong, revoked and expired alike.
WRONG_LINK = "This link does not open a board: it may have been mistyped, revoked or have expired."
_NEW = -1  # the "new board" choice of the picker
# Material icons, drawn by Streamlit's own font: an emoji needs a font the viewer's system may not have.
_MARKS = {"up": ":material/thumb_up:", "down": ":material/thumb_down:"}

# The shared view: no sidebar, no header or toolbar, no app navigation, on a quiet page of its own.
SHARED_CSS = """<style>
[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'], [data-testid='stSidebarNav'],
[data-testid='stHeader'], [data-testid='stToolbar'], [data-testid='stDecoration'] {display: none !important;}
[data-testid='stMainBlockContainer'] {padding: 2.5rem 2rem 4rem; max-width: 1280px;}
.il-board-title {font-size: 2rem; font-weight: 600; margin: 0 0 0.25rem; overflow-wrap: anywhere;}
.il-board-count {font-size: 0.875rem; opacity: 0.62;}
.st-key-shared_stage iframe {height: calc(100vh - 9rem) !important;}
[class*='st-key-shared_picture_'] [data-testid='stImage'] img {max-height: calc(100vh - 13rem); width: auto !important;
  height: auto !important; max-width: 100%;}
</style>"""


def verdict_mark(verdict: str | None) -> str:
    """A reaction's mark in one of our Markdown lines: thumb up, thumb down, or a speech bubble (a comment alone)."""
    return _MARKS.get(verdict or "", ":material/chat_bubble:")


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


# --- the designer's side ---------------------------------------------------------------------

def add_to_board(pictures: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]], *, key: str,
                 label: str = "Add to board", count: int | None = None) -> None:
    """One control that puts ``pictures`` ((hash, format) pairs, or what a function gives when the control is
    used; ``count`` says how many) on a board, a chosen one or a new one.

    Drawn only while open, so a grid of cards asks the history for the boards only when one is used."""
    how_many = len(pictures) if isinstance(pictures, list) else (count or 0)
    with st.popover(label, icon=":material/dashboard_customize:", key=state.item(state.BOARD_ADD, key),
                    on_change="rerun", disabled=not how_many,
                    help="Add to board: put it on a board to present, share and hear back") as pop:
        if not pop.open:
            return
        store = get_store()
        choices = {b.id: b.name for b in store.boards(owner=people.subject())}  # with login: the person's own
        pick = st.selectbox("Board", [*choices, _NEW], key=state.item(state.BOARD_ADD, key, "pick"),
                            format_func=lambda i: choices.get(i, "New board…"))
        name = ""
        if pick == _NEW:
            name = st.text_input("New board's name", key=state.item(state.BOARD_ADD, key, "name"),
                                 max_chars=MAX_NAME, placeholder="Client review")
        if st.button(f"Add {how_many} pictures" if how_many > 1 else "Add",
                     key=state.item(state.BOARD_ADD, key, "go"), icon=":material/add:", type="primary"):
            if not isinstance(pictures, list):
                pictures = pictures()
            try:
                board = store.create_board(name, owner=people.current()) if pick == _NEW else int(pick)
                added = sum(store.add_to_board(board, digest, fmt, owner=people.only_own()) for digest, fmt in pictures)
            except BoardProblem as exc:
                st.warning(str(exc), icon=":material/edit:")
                return
            already = len(pictures) - added
            st.toast(f"Added {added} picture(s) to {untrusted.theirs(choices.get(board, name))}"
                     + (f"; {already} already on it." if already else "."), icon=":material/dashboard:")


def reaction_line(reaction: Reaction, *, picture: str = "") -> str:
    """Our Markdown line above a reaction: its mark, who, when (their name as a code span)."""
    who = untrusted.theirs(reaction.name) if reaction.name else "someone"
    return f"{verdict_mark(reaction.verdict)} {who} · {_when(reaction.created_at)}{picture}"


def show_reactions(reactions: list[Reaction], *, numbers: dict[int, int] | None = None) -> None:
    """Reactions, newest first as given: a line of ours, then their comment as literal text."""
    for reaction in reactions:
        n = (numbers or {}).get(reaction.item_id)
        st.caption(reaction_line(reaction, picture=f" · picture {n}" if n else ""))
        untrusted.show_text(reaction.comment)


def share_url(token: str) -> str:
    """The address of a share link: the app's own address (the page's, less the page) with ``?board=``."""
    parts = urlsplit(st.context.url or "http://localhost:8501/")
    base = parts.path.rsplit("/", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{base}/?{SHARE_PARAM}={token}"


def slides_of(store: Store, items: list[BoardItem], *, details: bool) -> list[tuple[bytes | str, str, str, str]]:
    """A board's slides for ``slideshow_html``: the picture (a URL from shared storage, else its display copy),
    its note as the caption and, with ``details``, its prompt, model and cost beneath."""
    slides: list[tuple[bytes | str, str, str, str]] = []
    for item in items:
        try:
            src = results.picture_source(item.hash, item.format, small=False, wait=True)
        except (StorageError, *results.UNREADABLE_ERRORS):
            continue
        slides.append((src, "" if isinstance(src, str) else mime_of(src), item.note,
                       _details(store, item) if details else ""))
    return slides


def _details(store: Store, item: BoardItem) -> str:
    try:
        rec = store.image_by_hash(item.hash)
    except KeyError:
        return ""
    return f"{rec.prompt} · {rec.model} · {money_text(image_money(rec))}"


# --- the shared view -----------------------------------------------------------------------

def shared_page(token: str) -> None:
    """What a share link opens, and nothing else: its board, or ``WRONG_LINK``. Ends the script run."""
    st.set_page_config(page_title="Board", page_icon=pages.ICON, layout="wide", initial_sidebar_state="collapsed")
    st.html(SHARED_CSS + f"<style>{untrusted.UNTRUSTED_CSS}</style>")
    try:
        store = get_store()
        share = store.open_share(token)
        board = store.board(share.board_id) if share is not None else None
    except (StorageError, KeyError):
        share = board = None
    if share is None or board is None:
        st.html(f'<p class="il-wrong-link">{html.escape(WRONG_LINK)}</p>')
        st.stop()
    items = store.board_items(board.id)
    st.html(f'<div class="il-board-title">{html.escape(board.name)}</div>'
            f'<div class="il-board-count">{len(items)} picture(s)</div>')
    untrusted.show_text(board.description)
    if items and st.toggle("Slideshow", key="shared_slideshow",
                           help="Full window: arrow keys move, space plays, F goes full screen"):
        with st.container(key="shared_stage"):
            st.iframe(slideshow_html(slides_of(store, items, details=share.show_details)), height=700)
        st.stop()
    for n, item in enumerate(items, start=1):
        with st.container(border=True, key=state.item("shared_picture", n)):
            picture, about = st.columns([3, 2], gap="large")
            with picture:
                _show_shared_picture(item, n)
            with about:
                st.caption(f"{n} of {len(items)}")
                untrusted.show_text(item.note)
                if share.show_details:
                    untrusted.show_text(_details(store, item), quiet=True)
                _reaction_form(store, token, item, n)
    st.stop()


def _show_shared_picture(item: BoardItem, n: int) -> None:
    """A board's picture for a viewer: from shared storage by its expiring URL (its copy sent first, so a viewer
    never gets bytes through this server when a URL can be had), else its display copy."""
    problem = results.picture_problem(item.hash, item.format, check_copy=False)
    if problem is None:
        try:
            st.image(results.picture_source(item.hash, item.format, small=False, wait=True), width="stretch",
                     alt=f"Picture {n} of the board")
            return
        except StorageError as exc:
            problem = exc.sentence
        except results.UNREADABLE_ERRORS:
            problem = results.UNREADABLE_SENTENCE
    results.show_gone(problem)


def _reaction_form(store: Store, token: str, item: BoardItem, n: int) -> None:
    sent = st.session_state.setdefault(state.BOARD_REACTED, {})
    with st.form(key=state.item(state.REACT, n), border=False, clear_on_submit=True):
        verdict = st.segmented_control("Your verdict", ["up", "down"], format_func=verdict_mark,
                                       key=state.item(state.REACT, n, "verdict"))
        name = st.text_input("Your name", max_chars=MAX_NAME, key=state.item(state.REACT, n, "name"))
        comment = st.text_area("Comment", max_chars=MAX_COMMENT, key=state.item(state.REACT, n, "comment"),
                               placeholder="What works, what should change", height=90)
        if st.form_submit_button("Send", icon=":material/send:"):
            try:
                store.add_reaction(token, item.id, verdict=verdict, comment=comment or "", name=name or "")
                sent[item.id] = ("success", "Thank you: the designer sees it now.")
            except BoardProblem as exc:
                sent[item.id] = ("warning", str(exc))
            except StorageError:
                sent[item.id] = ("warning", "This could not be saved just now; send it again in a moment.")
    if item.id in sent:
        kind, sentence = sent[item.id]
        getattr(st, kind)(sentence)
