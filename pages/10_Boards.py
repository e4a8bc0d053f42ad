"""Boards: named, ordered sets of pictures to present, hand out and share with stakeholders, and what they said.

In a team everyone sees every board (Mine, Everyone or one person's, as in the Gallery) and may present it or
hand it out; only its maker, or an admin, changes it. The controls that change a board are drawn for them alone,
and every change is asked of the store with ``people.only_own()``, so the history refuses it again at the moment
it is made (a stale button, or admin rights taken away meanwhile, changes nothing)."""

import datetime as dt
import html
import time
from functools import partial

import streamlit as st

from components import boards, connection, exports, pages, people, results, state, untrusted
from components.frame import Sidebar, show_page
from imagelab.export import board_records
from imagelab.handout import board_handout
from imagelab.history.boards import MAX_DESCRIPTION, MAX_NAME, MAX_NOTE, Board, BoardProblem
from imagelab.store import Store

EXPIRIES = {"Never": None, "1 day": 1, "7 days": 7, "30 days": 30}
TEAM_RULE = ("Everyone in the team sees every board and may present it or hand it out; only the person who made a "
             "board, or an admin, changes it.")


BOARD_PARAM = "id"  # a board's own address: /Boards?id=<board id>


def open_board(board_id: int | None) -> None:
    st.session_state[state.BOARD_OPEN] = board_id
    st.session_state[state.BOARD_CONFIRM_DELETE] = None
    if board_id is None:
        st.query_params.pop(BOARD_PARAM, None)
    else:
        st.query_params[BOARD_PARAM] = str(board_id)


def counts(board: Board) -> str:
    whose = people.owner_words(board.owner, board.owner_email)
    return f"{board.pictures} picture(s) · {board.reactions} reaction(s)" + (f" · {whose}" if whose else "")


def refused(exc: BoardProblem) -> None:
    """A change the history turned down (too long, or not this person's board): its sentence."""
    st.warning(str(exc), icon=":material/block:")


# --- every board ----------------------------------------------------------------------------
def board_list(store: Store) -> None:
    st.title("Boards")
    st.caption("A board is a named, ordered set of pictures with notes: present it, hand it out as a PDF, or "
               "share a link that needs no login and hear back. Add pictures with **Add to board** under any "
               "result, on a conversation picture or on a Gallery selection.")
    if people.subject() is not None:
        st.caption(TEAM_RULE)
    with st.form("new_board", border=True, clear_on_submit=True):
        c1, c2, c3 = st.columns([2, 4, 1], vertical_alignment="bottom")
        name = c1.text_input("New board", max_chars=MAX_NAME, placeholder="Client review, round one")
        description = c2.text_input("Description", max_chars=MAX_DESCRIPTION, placeholder="What it is for")
        if c3.form_submit_button("Create", icon=":material/add:", width="stretch"):
            try:
                open_board(store.create_board(name, description, owner=people.current()))
                st.rerun()
            except BoardProblem as exc:
                st.warning(str(exc), icon=":material/edit:")
    whose = people.whose(store, key=state.BOARDS_WHOSE, things="boards")
    every = store.boards(owner=whose)
    if not every:
        empty = ("No boards yet." if whose is None else
                 "No boards of yours yet: create one above, or choose **Everyone** to see the team's."
                 if whose == people.subject() else "No boards of theirs yet.")
        st.info(empty, icon=":material/dashboard:")
        return
    cols = st.columns(3)
    for i, board in enumerate(every):
        with cols[i % 3].container(border=True):
            st.markdown(f"**{untrusted.theirs(board.name)}**")
            st.caption(counts(board))
            untrusted.show_text(board.description, quiet=True)
            st.button("Open", key=state.item(state.BOARD_OPEN_ONE, board.id), icon=":material/open_in_new:",
                      on_click=open_board, args=(board.id,))


# --- one board ------------------------------------------------------------------------------
def board_page(store: Store, board: Board) -> None:
    top = st.columns([1, 6], vertical_alignment="center")
    top[0].button("All boards", key="btn_board_back", icon=":material/arrow_back:", on_click=open_board,
                  args=(None,))
    top[1].caption(counts(board))
    with st.container(key="board_heading"):
        st.html(f'<h1 style="font-size:1.9rem;margin:0;overflow-wrap:anywhere">{html.escape(board.name)}</h1>')
        untrusted.show_text(board.description, quiet=True)
    mine = people.may_change(board.owner)
    if not mine:
        maker = people.owner_words(board.owner, board.owner_email)
        st.caption("This board was made before login: you may present it and hand it out; only an admin can change "
                   "it." if board.owner is None else f"This board belongs to {maker}: you may present it and hand "
                   "it out; only they or an admin can change it.")
    items = store.board_items(board.id)
    numbers = {item.id: n for n, item in enumerate(items, start=1)}
    reactions = store.reactions(board.id)
    actions(store, board, bool(items), mine)
    if not items:
        st.info("No pictures on this board yet: choose **Add to board** under a result or on a Gallery selection.",
                icon=":material/add_photo_alternate:")
    left, right = st.columns([3, 1.3], gap="large")
    with left:
        for item in items:
            picture_row(store, item, numbers[item.id], len(items), [r for r in reactions if r.item_id == item.id], mine)
    with right:
        st.subheader(f"Reactions ({len(reactions)})", anchor=False)
        if not reactions:
            st.caption("None yet. Share a link, and what people say about each picture appears here, newest first."
                       if mine else "None yet.")
        boards.show_reactions(reactions, numbers=numbers)
    if mine:
        settings(store, board)


def actions(store: Store, board: Board, any_pictures: bool, mine: bool) -> None:
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        if st.button("Present", key="btn_board_present", icon=":material/slideshow:", disabled=not any_pictures,
                     help="Full window, with the notes: arrow keys, slideshow and full screen"):
            st.session_state[state.PRESENT_BOARD] = board.id
            st.switch_page(pages.path_of("present"))
        if mine:  # a link speaks for the board's maker: theirs to make and revoke
            with st.popover("Share", icon=":material/share:", key="board_share", disabled=not any_pictures):
                share(store, board)
        details = st.toggle("Prompts, models and costs in the handout", key="board_handout_details")
        st.download_button("Handout (PDF)", data=lambda: board_handout(store, board.id, details=details),
                           file_name="imagelab-board.pdf", mime="application/pdf", key="btn_board_pdf",
                           icon=":material/picture_as_pdf:", disabled=not any_pictures, on_click="ignore",
                           help="One picture a page, in the board's order, with its note")
        exports.zip_button(store, partial(board_records, store, board.id), what=board.id, key="board_zip",
                           label="Zip", file_name="imagelab-board.zip", disabled=not any_pictures,
                           help="The pictures with a manifest (JSON and CSV) of prompts, settings, notes and cost")


def share(store: Store, board: Board) -> None:
    st.markdown("**A link that opens this board alone, with no login**")
    details = st.checkbox("Show prompts, models and costs", key="share_details")
    expiry = st.selectbox("Expires", list(EXPIRIES), key="share_expiry")
    if st.button("Make a link", key="btn_share_make", icon=":material/add_link:", type="primary"):
        days = EXPIRIES[expiry]
        try:
            token = store.create_share(board.id, show_details=details, owner=people.only_own(),
                                       expires_at=time.time() + days * 86400 if days else None)
            st.session_state[state.BOARD_LINK] = (board.id, boards.share_url(token))
        except BoardProblem as exc:
            refused(exc)
    made = st.session_state.get(state.BOARD_LINK)
    if made and made[0] == board.id:
        st.caption("Copy it now: it is shown only this once (only a fingerprint of it is kept).")
        st.code(made[1], language=None, wrap_lines=True)
    links = store.shares(board.id)
    if links:
        st.markdown("**Links**")
    now = time.time()
    for link in links:
        made_at = dt.datetime.fromtimestamp(link.created_at).strftime("%Y-%m-%d %H:%M")
        if link.revoked_at is not None:
            status = "revoked"
        elif not link.open_at(now):
            status = "expired"
        else:
            status = "open" + (f" until {dt.datetime.fromtimestamp(link.expires_at).strftime('%Y-%m-%d %H:%M')}"
                               if link.expires_at else "")
        row = st.columns([4, 1.4], vertical_alignment="center")
        row[0].caption(f"Made {made_at} · {status}{' · with details' if link.show_details else ''}")
        if link.open_at(now) and row[1].button("Revoke", key=state.item(state.SHARE_REVOKE, link.id),
                                               icon=":material/link_off:"):
            change(store.revoke_share, link.id, owner=people.only_own())


def change(action, *args, **kwargs) -> None:
    """Make one change to a board and draw the page again, or say why the history refused it."""
    try:
        action(*args, **kwargs)
    except BoardProblem as exc:
        refused(exc)
        return
    except KeyError:
        pass  # the board or picture went meanwhile, in another tab: the page drawn again shows what is left
    st.rerun()


def picture_row(store: Store, item, n: int, total: int, reactions, mine: bool) -> None:
    with st.container(border=True, key=state.item("board_item", n)):
        pic, about = st.columns([1, 2.4], gap="medium")
        with pic:
            results.show_picture(item.hash, item.format, small=True, alt=f"Picture {n} of the board")
        with about:
            with st.container(horizontal=True, gap="small", vertical_alignment="center"):
                st.markdown(f"**{n}** of {total}")
                if mine:
                    board_order(store, item, n, total)
            if not mine:
                untrusted.show_text(item.note)
            elif (note := st.text_area("Note", value=item.note, key=state.item(state.BOARD_NOTE, item.id),
                                       max_chars=MAX_NOTE, height=68,
                                       placeholder="What to look at in this one")) != item.note:
                try:
                    store.set_note(item.id, note, owner=people.only_own())
                    st.toast("Note saved.", icon=":material/check:")
                except BoardProblem as exc:
                    refused(exc)
                except KeyError:
                    st.rerun()  # taken off the board meanwhile, in another tab
            ups = sum(r.verdict == "up" for r in reactions)
            downs = sum(r.verdict == "down" for r in reactions)
            if reactions:
                st.caption(f":material/thumb_up: {ups} · :material/thumb_down: {downs} · "
                           f"{sum(bool(r.comment) for r in reactions)} comment(s)")


def board_order(store: Store, item, n: int, total: int) -> None:
    """Earlier, Later and Remove: the buttons that change a picture's place on the board."""
    only = people.only_own()
    if st.button("Earlier", key=state.item(state.BOARD_UP, item.id), icon=":material/arrow_upward:",
                 disabled=n == 1, type="tertiary", help="Move it one place earlier"):
        change(store.move_item, item.id, -1, owner=only)
    if st.button("Later", key=state.item(state.BOARD_DOWN, item.id), icon=":material/arrow_downward:",
                 disabled=n == total, type="tertiary", help="Move it one place later"):
        change(store.move_item, item.id, +1, owner=only)
    if st.button("Remove", key=state.item(state.BOARD_REMOVE, item.id), icon=":material/close:",
                 type="tertiary", help="Take it off the board (it stays in the Gallery)"):
        change(store.remove_from_board, item.id, owner=only)


def settings(store: Store, board: Board) -> None:
    with st.expander("Name, description, delete"):
        with st.form("board_describe", border=False):
            name = st.text_input("Name", value=board.name, max_chars=MAX_NAME)
            description = st.text_area("Description", value=board.description, max_chars=MAX_DESCRIPTION,
                                       height=80)
            if st.form_submit_button("Save", icon=":material/save:"):
                change(store.describe_board, board.id, name=name, description=description, owner=people.only_own())
        if st.session_state.get(state.BOARD_CONFIRM_DELETE) == board.id:
            st.warning("Delete this board, its links and its reactions? The pictures stay in the Gallery.")
            d1, d2 = st.columns(2)
            if d1.button("Delete", key="btn_board_delete_yes", type="primary", width="stretch"):
                try:
                    store.delete_board(board.id, owner=people.only_own())
                except BoardProblem as exc:
                    refused(exc)
                    return
                except KeyError:
                    pass  # deleted already, in another tab
                open_board(None)
                st.rerun()
            if d2.button("Keep", key="btn_board_delete_no", width="stretch"):
                st.session_state[state.BOARD_CONFIRM_DELETE] = None
                st.rerun()
        elif st.button("Delete board…", key="btn_board_delete", icon=":material/delete:"):
            st.session_state[state.BOARD_CONFIRM_DELETE] = board.id
            st.rerun()


def render(bar: Sidebar) -> None:
    store = connection.require_history()
    opened = st.session_state.get(state.BOARD_OPEN)
    if opened is None and st.query_params.get(BOARD_PARAM, "").isdigit():
        opened = int(st.query_params[BOARD_PARAM])
    try:
        current = store.board(opened) if opened is not None else None
    except KeyError:
        current = None
    if current is None:
        board_list(store)
    else:
        board_page(store, current)


show_page("Boards", render)
