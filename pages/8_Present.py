"""Present: the chosen pictures (or a board, with its notes) large, with captions and nothing else — for showing
stakeholders."""

import streamlit as st

from components import connection, pages, people, results, state
from components.frame import Sidebar, show_page
from imagelab.history.boards import Board
from imagelab.images import DELETED_SENTENCE, mime_of, preview_bytes
from imagelab.slideshow import slideshow_html
from imagelab.store import Store
from imagelab.svg import sanitize_svg

Slide = tuple[str, str, str, str]  # content hash, format, caption, small print


@st.cache_data(max_entries=8, show_spinner="Preparing the slides…")
def build(slides: tuple[Slide, ...], autoplay: bool, seconds: float) -> str:
    """Keyed by content hash and caption, never by image id: SQLite reuses the id of a deleted image."""
    shown: list[tuple[bytes | str, str, str, str]] = []
    for digest, fmt, caption, meta in slides:
        try:
            data = connection.get_store().read_bytes(digest, fmt)
            big = sanitize_svg(data) if fmt == "svg" else preview_bytes(data, max_side=1800)
        except results.UNREADABLE_ERRORS:
            continue
        shown.append((big, mime_of(big), caption, meta))
    return slideshow_html(shown, autoplay=autoplay, seconds=seconds)


def controls(back: str, back_label: str, count: str) -> tuple[bool, bool, bool, float]:
    """The bar above the stage: back, how to use it, captions, details, slideshow and its pace."""
    with st.container(key="present_bar"):
        c0, c1, c2, c3, c4, c5 = st.columns([1, 4, 1, 1, 1, 1], vertical_alignment="bottom")
    c0.page_link(back, label=back_label, icon=":material/arrow_back:")
    # the only place that says how to use the stage
    c1.caption(f"{count} Click the slide, then use the arrow keys; space plays and pauses, F goes full screen.")
    captions = c2.toggle("Captions", value=True, key="present_captions")
    details = c3.toggle("Details", value=False, key="present_details", disabled=not captions,
                        help="The model and size under each caption.")
    autoplay = c4.toggle("Slideshow", value=False, key="present_autoplay")
    seconds = c5.number_input("Seconds per slide", 2, 30, 5, key="present_seconds",
                              help="How long each picture stays when the slideshow plays.")
    return captions, details, autoplay, float(seconds)


def present_board(store: Store, board: Board) -> None:
    """A board's pictures in its order, each with its note as the caption."""
    items = store.board_items(board.id)
    captions, details, autoplay, seconds = controls(pages.path_of("boards"), "Boards",
                                                    f"{len(items)} picture(s) of the board.")
    slides: list[Slide] = []
    for item in items:
        if results.picture_problem(item.hash, item.format) is not None:
            continue
        meta = ""
        if captions and details:
            try:
                rec = store.image_by_hash(item.hash)
                meta = f"{rec.prompt} · {rec.model} · {results.size_label(rec)}"
            except KeyError:
                pass
        slides.append((item.hash, item.format, item.note if captions else "", meta))
    if len(slides) < len(items):
        results.show_gone(f"{len(items) - len(slides)} picture(s) of the board could not be read and are left out.")
    if slides:
        with st.container(key="present_stage"):
            st.iframe(build(tuple(slides), autoplay, seconds), height=760)


def render(bar: Sidebar) -> None:
    # A clean full window: no sidebar (nor its estimate panel), no toolbar; the slides take the height left.
    st.html("<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'], [data-testid='stHeader']"
            " {display: none !important;} [data-testid='stMainBlockContainer'] {padding: 0.75rem 1.5rem 0;"
            " max-width: 100%;} .st-key-present_stage iframe {height: calc(100vh - 6.5rem) !important;}"
            # the bar as dark as the stage beneath it (the slideshow's own colours)
            " [data-testid='stApp'] {background: #0e0e12;} .st-key-present_bar p, .st-key-present_bar label,"
            " .st-key-present_bar a span {color: #c8c8d2 !important;}"
            " .st-key-present_bar [data-testid='stCaptionContainer'] {color: #9a9aa8;}"
            " .st-key-present_bar [data-testid='stNumberInputContainer'], .st-key-present_bar input,"
            " .st-key-present_bar [data-testid='stNumberInputContainer'] button {background: #1c1c24; color: #f2f2f5;"
            " border-color: #2e2e38;} .st-key-present_bar svg {color: #c8c8d2;}"
            " .st-key-present_bar [data-testid='stCheckbox'] label:not(:has(input:checked)) > span + div"
            " {background: #3a3a46;}</style>")
    store = connection.require_history()
    board_id = st.session_state.get(state.PRESENT_BOARD)
    board = None
    if board_id is not None:
        try:
            board = store.board(board_id)
        except KeyError:
            st.session_state[state.PRESENT_BOARD] = None
    selection = sorted(st.session_state.get(state.SELECTION, set()))
    source = "your selection"
    if board is not None:
        selection = []
    elif not selection:
        starred, _ = store.search_images(starred=True, limit=50, starred_by=people.subject())
        selection = [r.id for r in starred]
        source = "your starred images"

    if board is not None:
        present_board(store, board)
    elif not selection:
        st.title("Present")
        st.info("Select images in the Gallery (or star some), then choose Present.", icon=":material/slideshow:")
        st.page_link(pages.path_of("gallery"), label="Open the Gallery", icon=":material/photo_library:")
    else:
        captions, details, autoplay, seconds = controls(pages.path_of("gallery"), "Gallery",
                                                        f"{len(selection)} picture(s) from {source}.")
        slides: list[Slide] = []
        left_out: dict[str, int] = {}
        for image_id in selection:
            try:
                rec = store.image(image_id)
            except KeyError:
                left_out[DELETED_SENTENCE] = left_out.get(DELETED_SENTENCE, 0) + 1
                continue
            problem = results.picture_problem(rec.hash, rec.format)
            if problem is not None:
                left_out[problem] = left_out.get(problem, 0) + 1
                continue
            slides.append((rec.hash, rec.format, rec.prompt if captions else "",
                           f"{rec.model} · {results.size_label(rec)}" if captions and details else ""))
        for sentence, count in left_out.items():
            results.show_gone(f"{sentence} ({count} picture(s) left out of the slides.)")
        if slides:
            # Our own template; captions go in as JSON data shown with textContent, so no prompt can run as code.
            with st.container(key="present_stage"):
                st.iframe(build(tuple(slides), autoplay, seconds), height=760)


show_page("Present", render, sidebar_state="collapsed")
