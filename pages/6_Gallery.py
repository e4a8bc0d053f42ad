"""Gallery: everything ever made, newest first; find it again, look closer, pick some to compare or show.

A session's first view shows the newest pictures alone, in their cards; the filters, the actions and the sidebar
follow once the pictures are on screen (components/first_view.py). Each part keeps its place in both views (a
blank as tall as what comes), so the pictures are neither drawn twice nor moved."""

import datetime as dt
import json
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import streamlit as st

from components import boards, connection, exports, options, pages, people, results, state, untrusted
from components.frame import Sidebar, show_page_with_first_view
from imagelab import trash
from imagelab.costs import Money, format_dollars, image_money, money_of, money_text
from imagelab.export import manifest_records, read_metadata, settings_from_metadata
from imagelab.store import MAX_SEARCH_TEXT, ImageRecord, StorageError, Store
from imagelab.text import shorten

# Columns of the grid at each density; a page is six rows of them.
DENSITIES = {"Comfortable": 4, "Dense": 8}
ROWS_A_PAGE = 6
DELETIONS_KEPT = 20  # Undo reaches back this many deletions; each holds its pictures' bytes in the session
# How tall the parts drawn after the first view are, in st.space's sizes: "large" is a labelled input's
# height, "medium" a button's. The first view keeps their places blank, so nothing moves when they arrive.
Height = Literal["medium", "large"]
FILTERS: Height = "large"
FOLD: Height = "medium"
# The filters' widths (search, page, model, dates, board, starred; with login "whose" first): at 1280×720 each
# placeholder, both dates and "Starred" stay whole.
FILTER_WIDTHS = [2.0, 1.4, 1.4, 3.3, 1.4, 1.3]
FILTER_WIDTHS_WITH_WHOSE = [1.3, 1.9, 1.1, 1.1, 3.3, 1.2, 1.4]
ACTIONS: Height = "medium"
PAGING: Height = "medium"
CARD_ACTIONS: Height = "medium"


@dataclass(frozen=True)
class GalleryFilters:
    """What narrows the grid, as the filters row sets it: the keywords of ``Store.search_images``."""
    pages: list[str] | None = None
    models: list[str] | None = None
    since: float | None = None  # made at or after (a timestamp)
    until: float | None = None  # made before
    starred: bool = False
    text: str | None = None
    owner: str | None = None  # with login, whose pictures; None: everyone's
    starred_by: str | None = None  # whose stars ``starred`` means
    board: int | None = None

    def any_set(self) -> bool:
        return any(vars(self).values())

    def search(self, store: Store, *, limit: int, offset: int = 0) -> tuple[list[ImageRecord], int]:
        return store.search_images(pages=self.pages, models=self.models, since=self.since, until=self.until,
                                   starred=self.starred, text=self.text, owner=self.owner,
                                   starred_by=self.starred_by, board=self.board, limit=limit, offset=offset)


def made_between(dates: Any) -> tuple[float | None, float | None]:
    """The date picker's one or two days as (since, until) timestamps, the second day included whole."""
    since = until = None
    if isinstance(dates, (tuple, list)) and dates:
        since = dt.datetime.combine(dates[0], dt.time()).timestamp()
        if len(dates) > 1:
            until = dt.datetime.combine(dates[1] + dt.timedelta(days=1), dt.time()).timestamp()
    return since, until


@dataclass(frozen=True)
class Grid:
    """Where the grid is among the matches: its columns, how many match, and the first picture asked for."""
    columns: int
    total: int
    first: int

    @property
    def dense(self) -> bool:
        return self.columns > 4

    @property
    def page_size(self) -> int:
        return self.columns * ROWS_A_PAGE

    @property
    def page_count(self) -> int:
        return max((self.total + self.page_size - 1) // self.page_size, 1)

    @property
    def page_index(self) -> int:
        return min(self.first // self.page_size, self.page_count - 1)  # a density change keeps the first picture

    @property
    def offset(self) -> int:
        return self.page_index * self.page_size


@dataclass(frozen=True)
class Gallery:
    """What one run of the page knows, handed to each of its parts."""
    store: Store
    filters: GalleryFilters
    grid: Grid
    mine_starred: set[int] | None
    brief: bool  # a session's first view: a new session has no filters or selection yet


def chosen() -> set[int]:
    """The selection, kept in the session for Compare, Present and the boards."""
    selection: set[int] = st.session_state.setdefault(state.SELECTION, set())
    return selection


def deletions() -> list[trash.Deletion]:
    """The deletions Undo can still put back, oldest first."""
    deleted: list[trash.Deletion] = st.session_state.setdefault(state.GALLERY_DELETED, [])
    return deleted


def toggle(image_id: int) -> None:
    chosen().symmetric_difference_update({image_id})


# --- detail -------------------------------------------------------------------------------
def close_detail() -> None:
    st.session_state[state.GALLERY_DETAIL] = None


def open_detail(image_id: int, at: int | None = None) -> None:
    """Show a picture in the detail; ``at`` (its place among the matches) turns the grid's page to it."""
    st.session_state[state.GALLERY_DETAIL] = image_id
    if at is not None:
        st.session_state[state.GALLERY_FIRST] = at


def go_to(first_shown: int) -> None:
    st.session_state[state.GALLERY_FIRST] = max(first_shown, 0)


@st.dialog("Picture details", width="large", on_dismiss=close_detail)
def detail_dialog(g: Gallery, image_id: int, shown: list[ImageRecord]) -> None:
    """The detail opens over the page, so it is in view wherever the card was (third row or thirtieth);
    Previous and Next walk through the matches in the grid's order, across its pages."""
    try:
        rec = g.store.image(image_id)
    except KeyError:
        close_detail()
        results.show_gone("This image was deleted from the history.")
        return
    show_detail(g, rec, neighbours(g, rec, shown))


def neighbours(g: Gallery, rec: ImageRecord,
               shown: list[ImageRecord]) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The pictures before and after ``rec`` among the matches, as (id, place); None at either end (or for a
    picture not in the grid, such as a raw output or one opened from the lineage)."""
    ids = [r.id for r in shown]
    offset, total = g.grid.offset, g.grid.total
    if rec.id not in ids:
        return None, None
    place = offset + ids.index(rec.id)

    def at(i: int) -> tuple[int, int] | None:
        if not 0 <= i < total:
            return None
        if offset <= i < offset + len(shown):
            return shown[i - offset].id, i
        found, _ = g.filters.search(g.store, limit=1, offset=i)
        return (found[0].id, i) if found else None

    return at(place - 1), at(place + 1)


def _actual_rows(run, usage: dict) -> str:
    """The detail table's rows of what the run cost: paid, or (offline) what it would cost on OpenAI."""
    money = money_of(run)
    tokens = f"{usage.get('total_tokens', 0):,}"
    if not money.priced:
        return "| actual | — | — |"
    if run.billed:
        return f"| spent | {tokens} | {format_dollars(money.spent)} |"
    return f"| spent | {tokens} | $0.00 |\n| would cost on OpenAI | | ≈ {format_dollars(money.would_cost)} |"


def show_detail(g: Gallery, rec: ImageRecord, around: tuple[tuple[int, int] | None, tuple[int, int] | None]) -> None:
    store = g.store
    run = store.run(rec.run_id)
    before, after = around
    with st.container():
        top = st.columns([4, 1, 1, 1], vertical_alignment="center")
        top[0].markdown(f"**{pages.name_of(rec.page)}** · {untrusted.theirs(rec.model)}")
        if top[1].button("Previous", key="btn_gallery_detail_previous", icon=":material/chevron_left:",
                         width="stretch", disabled=before is None, help="The picture before this one in the grid"):
            if before:
                open_detail(*before)
            st.rerun()
        if top[2].button("Next", key="btn_gallery_detail_next", icon=":material/chevron_right:",
                         icon_position="right", width="stretch", disabled=after is None,
                         help="The picture after this one in the grid"):
            if after:
                open_detail(*after)
            st.rerun()
        if top[3].button("Close", key="btn_gallery_close", icon=":material/close:", width="stretch"):
            close_detail()
            st.rerun()
        left, right = st.columns([3, 2], gap="medium")
        with left, st.container(key="lightbox"):
            shown = _full(rec)
        with right:  # the actions first, beside the picture: in view on a small screen too
            st.caption(results.file_line(rec))
            if shown:
                results.show_image_actions(rec, key="detail", enlarge=False, roomy=True, extend=True)
            st.markdown("**Prompt**")
            untrusted.show_text(rec.prompt)
            if rec.revised_prompt:
                untrusted.show_text(rec.revised_prompt, quiet=True, lead="Revised prompt:")
            est = run.estimate or {}
            usage = run.usage or {}
            est_tokens = sum(est.get(k, 0) for k in ("text_tokens", "image_input_tokens", "output_tokens"))
            st.markdown(
                "| | tokens | cost |\n| --- | ---: | ---: |\n"
                f"| estimated | {'≈ ' if est.get('approximate') else ''}{est_tokens:,} "
                f"| {format_dollars(run.est_dollars or 0)} |\n"
                + _actual_rows(run, usage)
                + (f"\n\nThis image's share: {money_text(image_money(rec))} (the run made {rec.run_images} image(s))"
                   if rec.run_images > 1 and run.actual_dollars is not None else ""))
            made = dt.datetime.fromtimestamp(rec.created_at).strftime("%Y-%m-%d %H:%M")
            request_id = untrusted.theirs(run.request_id) if run.request_id else "—"
            st.caption(f"{made} · {results.size_label(rec)} {rec.format.upper()} · request id {request_id}")
            with st.expander("All parameters"):
                st.code(json.dumps(run.params, indent=1), language="json")
            a1, a2, a3 = st.columns([3, 2, 2])
            if a1.button("Run again", key="btn_gallery_again", icon=":material/replay:", width="stretch",
                         help="Open these settings in the page that made it"):
                run_again(run.page, run.params)
            starred = people.is_starred(rec, g.mine_starred)
            if a2.button("Unstar" if starred else "Star", key="btn_gallery_star_detail",
                         icon=":material/star:" if starred else ":material/star_border:", width="stretch"):
                people.set_star(store, rec.id, not starred)
                st.rerun()
            raw = store.raw_versions([rec]).get(rec.id)
            if not people.may_delete(rec.owner):
                a3.caption(f"This picture is {people.owner_words(rec.owner, rec.owner_email)}'s: only they or an "
                           "admin can delete it.")
            else:
                # the question opens over the button that asked it, wherever the dialog is scrolled to
                with a3.popover("Delete…", icon=":material/delete:", width="stretch"):
                    st.markdown("Delete this picture from the history?" +
                                (" The model's raw output beside it goes too." if raw else "") +
                                " **Undo** at the bottom of the Gallery puts it back while this tab is open.")
                    if st.button("Delete", key="btn_gallery_delete_yes", type="primary", icon=":material/delete:"):
                        if not people.may_delete(store.image(rec.id).owner):  # asked again as it happens
                            st.error("Only its owner or an admin can delete this picture.")
                            return
                        delete_pictures(store, [rec, raw] if raw else [rec])
        lineage(store, rec)


def lineage(store: Store, rec: ImageRecord) -> None:
    parents = store.parents_of(rec.id)
    children = store.children_of(rec.hash)
    if not parents and not children:
        st.caption("No lineage: this image was made from a prompt alone and nothing was made from it yet.")
        return
    st.markdown("**Lineage**")
    row = st.columns(8)
    cells = [("made from", digest, None) for digest in parents] + [("made into", c.hash, c) for c in children]
    for i, (label, digest, child) in enumerate(cells[:8]):
        with row[i]:
            if not results.show_picture(digest, caption=label, small=True):
                st.caption(label)
            if child is not None and st.button("Open", key=state.item(state.GALLERY_OPEN_CHILD, child.id),
                                               width="stretch"):
                st.session_state[state.GALLERY_DETAIL] = child.id
                st.rerun()


def delete_pictures(store: Store, recs: list[ImageRecord]) -> None:
    """Delete a picture (with the raw output beside a kept-exact one), keeping what Undo needs."""
    deleted, selection = deletions(), chosen()
    try:
        gone = trash.take_out(store, recs)
    except StorageError as exc:
        untrusted.say(exc.sentence, icon=":material/folder_off:")
        return
    except KeyError:
        pass  # already deleted, in another tab: nothing to keep
    else:
        deleted.append(gone)
        del deleted[:-DELETIONS_KEPT]
    for rec in recs:
        results.forget_thumbnail(rec.hash)
        selection.discard(rec.id)
    close_detail()
    st.rerun()


def undo_bar(store: Store) -> None:
    """The last deletion, with Undo, kept at the bottom of the window wherever the page is scrolled."""
    deleted = deletions()
    if not deleted:
        return
    last = deleted[-1]
    with st.container(key="gallery_undo", horizontal=True, vertical_alignment="center", gap="small"):
        many = f" ({len(deleted)} deletions can be undone, newest first)" if len(deleted) > 1 else ""
        st.text(f"Deleted “{shorten(' '.join(last.prompt.split()), 48)}”{many}")
        if st.button("Undo", key="btn_gallery_undo", icon=":material/undo:", type="primary",
                     help="Put the picture back in the history, where it was"):
            try:
                trash.put_back(store, last)
            except StorageError as exc:
                untrusted.say(exc.sentence, icon=":material/folder_off:")
                return
            deleted.pop()
            st.rerun()
        if st.button("Dismiss", key="btn_gallery_undo_dismiss", icon=":material/close:", type="tertiary",
                     help="Hide this; what was deleted stays deleted"):
            deleted.clear()
            st.rerun()


def run_again(page: str, params: dict, extra_notes: list[str] | None = None) -> None:
    """Load a run's settings into the page it came from and go there."""
    hashes = [i["hash"] for i in params.get("images") or []]
    if page == "reference_edit":
        notes = options.load_settings(params, model_key=state.REF_MODEL, prompt_key=state.REF_PROMPT,
                                      opts_key=state.REF_OPTS, fidelity_key=state.REF_FIDELITY)
        st.session_state[state.handoff_key(state.REF)] = hashes
        st.session_state[state.picked_images(state.REF)] = []
        target = pages.path_of("reference_edit")
    elif page == "mask_edit":
        notes = options.load_settings(params, model_key=state.MASK_MODEL, prompt_key=state.MASK_PROMPT,
                                      opts_key=state.MASK_OPTS, fidelity_key=state.MASK_FIDELITY)
        st.session_state[state.handoff_key(state.MASK)] = hashes[:1]
        target = pages.path_of("mask_edit")
    else:
        notes = options.load_settings(params, model_key=state.GEN_MODEL, prompt_key=state.GEN_PROMPT,
                                      opts_key=state.GEN_OPTS)
        target = pages.path_of("generate")
    st.session_state[state.LOAD_NOTES] = list(extra_notes or []) + notes
    st.switch_page(target)


def _full(rec: ImageRecord) -> bool:
    """The picture as saved, as large as the dialog allows; whether it could be shown."""
    data = results.full_size(rec)
    if data is None:
        results.show_gone(results.picture_problem(rec.hash, rec.format) or results.UNREADABLE_SENTENCE)
        return False
    st.image(data, width="content", alt=results.picture_alt(rec.prompt))
    return True


def load_from_image(data: bytes) -> None:
    """Read the settings an ImageLab file carries and open them in the page that made it."""
    meta = read_metadata(data)
    if meta is None:
        st.error("This file carries no ImageLab settings. Only PNG, WebP and JPEG files exported or downloaded "
                 "from ImageLab do.", icon=":material/error:")
        return
    try:
        loaded = settings_from_metadata(meta)
    except ValueError:
        st.error("The settings in this file could not be read.", icon=":material/error:")
        return
    page, settings = loaded
    if page == "conversation":
        page = "generate"
    st.session_state[state.LOAD_NOTES] = list(loaded.dropped)
    run_again(page, settings, extra_notes=loaded.dropped)


def load_settings() -> None:
    with st.expander("Load settings from an image", key=state.GALLERY_LOAD_OPEN, on_change="rerun") as loading:
        upload = st.file_uploader("A PNG, WebP or JPEG saved from ImageLab", type=["png", "webp", "jpg", "jpeg"],
                                  key="upl_gallery_settings") if loading.open else None
        if upload is not None and st.button("Open its settings", key="btn_gallery_load",
                                            icon=":material/upload_file:"):
            load_from_image(upload.getvalue())


EXPORT_HELP = "A zip of the selected images with a manifest (JSON and CSV) of prompts, settings, usage and cost"


def selected_pictures(store: Store) -> list[tuple[str, str]]:
    """The selected pictures' (hash, format), in the order they were made; deleted ones left out."""
    pictures = []
    for image_id in sorted(chosen()):
        try:
            rec = store.image(image_id)
        except KeyError:
            continue
        pictures.append((rec.hash, rec.format))
    return pictures


def selection_actions(g: Gallery) -> None:
    store, selection = g.store, chosen()
    st.caption(f"{g.grid.total:,} image(s) match · {len(selection)} selected")
    if st.button("Compare", key="btn_gallery_compare", icon=":material/compare:",
                 disabled=not 2 <= len(selection) <= 4, help="Pick 2 to 4 images"):
        st.switch_page(pages.path_of("compare"))
    if st.button("Present", key="btn_gallery_present", icon=":material/slideshow:", disabled=not selection,
                 help="A full-window slideshow of the selected images"):
        st.session_state[state.PRESENT_BOARD] = None
        st.switch_page(pages.path_of("present"))
    boards.add_to_board(partial(selected_pictures, store), key="gallery_selection", count=len(selection),
                        label=f"Add {len(selection)} to board" if selection else "Add to board")
    picked = sorted(selection)
    exports.zip_button(store, partial(manifest_records, store, picked), what=tuple(picked), key="gallery_export",
                       label="Export", help=EXPORT_HELP, file_name="imagelab-export.zip", disabled=not selection)
    if st.button("Clear selection", key="btn_gallery_clear", disabled=not selection):
        selection.clear()
        st.rerun()


# --- grid ---------------------------------------------------------------------------------
def paging(grid: Grid, where: str) -> None:
    """Previous, "Page 2 of 9", Next, and (at the top) how dense the grid is: one short row."""
    page_count, page_index, offset, page_size = grid.page_count, grid.page_index, grid.offset, grid.page_size
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key=f"gallery_paging_{where}"):
        if page_count > 1:
            st.button("Previous", key=f"btn_gallery_previous_{where}", icon=":material/chevron_left:",
                      disabled=page_index == 0, on_click=go_to, args=(offset - page_size,))
            st.text(f"Page {page_index + 1} of {page_count}")
            st.button("Next", key=f"btn_gallery_next_{where}", icon=":material/chevron_right:", icon_position="right",
                      disabled=page_index >= page_count - 1, on_click=go_to, args=(offset + page_size,))
        if where == "top":
            st.space("stretch")
            st.segmented_control("Grid", list(DENSITIES), key=state.GALLERY_DENSITY, required=True,
                                 label_visibility="collapsed",
                                 help="Comfortable: four columns with prompts. Dense: eight, pictures first")


def card(g: Gallery, rec: ImageRecord, raw: ImageRecord | None, said: list[Any]) -> None:
    """One picture of the grid; a kept-exact one carries its raw output behind a switch, not a second card;
    ``said``: what stakeholders said about it through a board's link, newest first."""
    dense, selection = g.grid.dense, chosen()
    show_raw = raw is not None and bool(st.session_state.get(state.item(state.GALLERY_RAW, rec.id)))
    shown = raw if show_raw and raw is not None else rec
    starred = people.is_starred(rec, g.mine_starred)
    # a starred card is framed in the accent colour (RESULTS_CSS), so stars show at a glance
    key = state.item(state.GALLERY_CARD_STARRED if starred else state.GALLERY_CARD, rec.id)
    with st.container(border=True, key=key):
        results.show_thumbnail(shown.hash, shown.format, alt=results.picture_alt(rec.prompt))
        if not dense:  # one caption (a Markdown element, the costliest kind to draw), then the prompt as plain text
            by = people.owner_words(rec.owner, rec.owner_email)
            st.caption(f"{':material/star: ' if starred else ''}{untrusted.theirs(rec.model)} · "
                       f"{pages.name_of(rec.page)} · {money_text(image_money(rec))}" + (f" · {by}" if by else ""))
            untrusted.show_text(shorten(rec.prompt, 120), quiet=True)
        if said:
            with st.container(key=state.item("card_reactions", rec.id), gap="xsmall"):
                ups, downs = sum(r.verdict == "up" for r in said), sum(r.verdict == "down" for r in said)
                st.caption(f":material/thumb_up: {ups} · :material/thumb_down: {downs}" +
                           ("" if dense else f" · {len(said)} reaction(s) from a board's link"))
                if not dense:
                    for r in said[:2]:
                        st.caption(boards.reaction_line(r))
                        untrusted.show_text(r.comment, quiet=True)
        if g.brief:
            st.space(CARD_ACTIONS)
            return
        name = f" {untrusted.theirs(results.picture_name(rec))}" if dense else ""
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.checkbox(f"Select{name}", value=rec.id in selection, key=state.item(state.GALLERY_SELECT, rec.id),
                        on_change=toggle, args=(rec.id,))
            if st.button(("Starred" if starred else "Star") + name,
                         key=state.item(state.GALLERY_STAR, rec.id),
                         icon=":material/star:" if starred else ":material/star_border:", type="tertiary",
                         help="Unstar" if starred else "Star this picture"):
                people.set_star(g.store, rec.id, not starred)
                st.rerun()
            if st.button(f"Open{name}", key=state.item(state.GALLERY_OPEN, rec.id),
                         icon=":material/open_in_full:", type="tertiary", help="Details, lineage and actions"):
                open_detail(shown.id)
                st.rerun()
        if raw is not None:
            # no help icon in a dense card: it would push the word onto two lines
            st.toggle("Raw", key=state.item(state.GALLERY_RAW, rec.id),
                      help=None if dense else "Kept exact: the original put back outside the mask. Switch on to see "
                                              "the model's own output, before that")


# --- spend --------------------------------------------------------------------------------
def spend_by_day(store: Store) -> None:
    with st.expander("Spend by day and model", key=state.GALLERY_SPEND_OPEN, on_change="rerun") as spend:
        # drawn only while open: the table is the heaviest thing on the page to load
        rows = store.spend_by_day_and_model(owner=people.subject()) if spend.open else []  # with login: yours
        if rows:
            st.dataframe([{"day": r["day"], "model": r["model"], "runs": r["runs"],
                           "spent ($)": round(r["dollars"], 4), "offline, would cost on OpenAI ($)":
                           round(r["would_cost"], 4), "estimated ($)": round(r["estimated"], 4)}
                          for r in rows], hide_index=True, width="stretch")
            spent = Money(spent=sum(r["dollars"] for r in rows), would_cost=sum(r["would_cost"] for r in rows))
            st.caption(f"Total: {money_text(spent)}")
        elif spend.open:
            st.caption("No spend yet.")


def render(bar: Sidebar, brief: bool) -> None:
    store = connection.require_history()
    st.session_state.setdefault(state.GALLERY_DENSITY, "Comfortable")
    columns = DENSITIES.get(st.session_state[state.GALLERY_DENSITY], 4)

    st.title("Gallery")
    results.show_waiting_pictures(store)

    # --- filters ------------------------------------------------------------------------------
    text, page_filter, model_filter, starred, board = "", [], [], False, None
    dates: Any = ()
    whose = people.subject()  # with login a first view shows the person's own pictures; without, everyone's (None)
    mine_starred = people.starred_ids(store)
    if brief:
        st.space(FILTERS)
    else:
        models, used_pages = store.used_models_and_pages()
        every_board = {b.id: b.name for b in store.boards()}
        if whose is not None:
            f0, f1, f2, f3, f4, f6, f5 = st.columns(FILTER_WIDTHS_WITH_WHOSE, vertical_alignment="bottom")
            with f0:
                whose = people.whose_pictures(store, key=state.GALLERY_WHOSE)
        else:
            f1, f2, f3, f4, f6, f5 = st.columns(FILTER_WIDTHS, vertical_alignment="bottom")
        text = f1.text_input("Search prompts", key=state.GALLERY_TEXT, placeholder="fox, lighthouse…")
        if len(text) > MAX_SEARCH_TEXT:
            text = text[:MAX_SEARCH_TEXT]
            f1.caption(f"The search was shortened to its first {MAX_SEARCH_TEXT} characters.")
        page_filter = f2.multiselect("Page", used_pages, key=state.GALLERY_PAGES, format_func=pages.name_of,
                                     placeholder="Any")
        model_filter = f3.multiselect("Model", models, key=state.GALLERY_MODELS, placeholder="Any")
        dates = f4.date_input("Made between", value=[], key=state.GALLERY_DATES, format="YYYY-MM-DD")
        starred = f5.toggle("Starred", key=state.GALLERY_STARRED)
        if st.session_state.get(state.GALLERY_BOARD) not in (None, *every_board):
            st.session_state[state.GALLERY_BOARD] = None  # a board deleted meanwhile
        board = f6.selectbox("Board", [None, *every_board], key=state.GALLERY_BOARD, placeholder="Any",
                             format_func=lambda i: "Any" if i is None else every_board[i])
    since, until = made_between(dates)
    filters = GalleryFilters(pages=page_filter or None, models=model_filter or None, since=since, until=until,
                             starred=starred, text=text.strip() or None, owner=whose, starred_by=people.subject(),
                             board=board)
    _, total = filters.search(store, limit=0)
    grid = Grid(columns, total, st.session_state.get(state.GALLERY_FIRST, 0))
    g = Gallery(store, filters, grid, mine_starred, brief)

    if brief:  # the places of the settings loader and of the selection's actions
        st.space(FOLD)
        st.space(ACTIONS)
    else:
        load_settings()
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            selection_actions(g)

    # --- grid ---------------------------------------------------------------------------------
    undo_bar(store)
    records: list[ImageRecord] = []
    if total == 0:
        st.info("Nothing matches. Pictures you make on any page are saved here." if filters.any_set() else
                "Nothing here yet. Pictures you make on any page are saved here.", icon=":material/photo_library:")
    else:
        if brief:
            st.space(PAGING)
        else:
            paging(grid, "top")
        records, _ = filters.search(store, limit=grid.page_size, offset=grid.offset)
        raw_of = store.raw_versions(records)
        reactions = store.reactions_to([r.hash for r in records])
        # dense cards name their buttons to a screen reader only (RESULTS_CSS hides the words)
        with st.container(key="gallery_grid_dense" if grid.dense else "gallery_grid"):
            for row_start in range(0, len(records), columns):  # row by row, so a taller card never shifts a row
                row = st.columns(columns, gap="small")
                for column, rec in zip(row, records[row_start:row_start + columns], strict=False):
                    with column:
                        card(g, rec, raw_of.get(rec.id), reactions.get(rec.hash, []))
        if not brief and grid.page_count > 1 and len(records) > columns:
            paging(grid, "bottom")

    if not brief:  # in the first view, the rest follows once the pictures are on screen
        spend_by_day(store)
        detail_id = st.session_state.get(state.GALLERY_DETAIL)
        if detail_id is not None:
            detail_dialog(g, detail_id, records)


show_page_with_first_view("Gallery", render)
