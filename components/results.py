"""Result grids: the images of a run with their size, usage, cost and download.

Every picture a page shows from the history goes through ``preview`` (a display copy, made once
per picture) or ``show_picture`` (what ``picture_source`` says shows it, or a placeholder and a sentence
when the picture was deleted from the history, its file is missing or the picture storage refuses), so
no page breaks on history that changed.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Literal

import streamlit as st
from PIL import Image

from imagelab.errors import ImageLabError
from imagelab.export import embed_metadata
from imagelab.images import DELETED_SENTENCE, MIME_TYPES, MISSING_FILE_SENTENCE, display_copy, first_frame_png
from imagelab.store import ImageRecord, StorageError
from imagelab.svg import NotAnSvg, sanitize_svg, svg_to_png
from imagelab.text import shorten
from imagelab.thumbnails import THUMBNAIL_SIDE, ThumbnailFolder, thumbnail_bytes

from . import pages, state, untrusted
from .connection import get_store, login_configured

UNREADABLE_SENTENCE = "This picture could not be read; its file may be damaged."
# How a keep-exact pair's pictures are marked wherever they are shown.
VARIANT_WORDS = {"raw": " · raw model output", "kept": " · kept exact"}
UNREADABLE_ERRORS = (OSError, ValueError, Image.DecompressionBombError)  # what damaged or hostile bytes raise
# Streamlit serves <app folder>/static at /app/static (server.enableStaticServing): thumbnails there keep
# one URL per picture, so the browser keeps them between views (see imagelab.thumbnails).
THUMBNAILS = ThumbnailFolder(Path(__file__).resolve().parents[1] / "static" / "thumbs", "/app/static/thumbs")
_THUMBNAIL_FORMATS = ("png", "jpeg", "webp")
ALT_CHARS = 80  # a picture's alt text: the prompt's start, short enough to hear in passing
_DISPLAY_SIDE = 768  # the display copy's long edge (imagelab.images.preview_bytes)


def _display_copy(digest: str, fmt: str) -> bytes:
    return display_copy(digest, lambda: get_store().read_bytes(digest, fmt))


def picture_problem(digest: str, fmt: str | None = None, *, check_copy: bool = True) -> str | None:
    """Why a stored picture cannot be shown, as a sentence, or ``None`` when it can.

    Give ``fmt`` only from a record just read from the store; without it the history is asked
    whether a result or an upload still names these bytes. ``check_copy=False`` leaves reading the
    picture to the caller (a thumbnail is made from it instead of a display copy)."""
    store = get_store()
    if fmt is None:
        try:
            fmt = store.format_of(digest)
        except KeyError:
            return DELETED_SENTENCE
    try:
        if not store.has_bytes(digest, fmt):
            return MISSING_FILE_SENTENCE
    except ValueError:
        return UNREADABLE_SENTENCE
    except StorageError as exc:
        return exc.sentence
    if not check_copy:
        return None
    try:
        _display_copy(digest, fmt)
    except UNREADABLE_ERRORS:
        return UNREADABLE_SENTENCE
    return None


def preview(digest: str, fmt: str | None = None) -> bytes | None:
    """A display-sized copy of a stored picture (a still as WebP, a GIF that plays, an SVG drawn as
    PNG), made once per picture; ``None`` when it was deleted, its file is missing or unreadable."""
    try:
        return _display_copy(digest, fmt or get_store().format_of(digest))
    except (KeyError, StorageError, *UNREADABLE_ERRORS):
        return None


def show_waiting_pictures(store: Any) -> None:
    """How many pictures wait on this server to be sent to the shared picture storage, and why; nothing
    when none do."""
    waiting = store.spooled_count()
    if waiting:
        st.warning(f"{waiting} picture(s) wait on this server to be uploaded to the picture storage; they are "
                   f"kept and shown meanwhile. {store.storage_problem() or ''}", icon=":material/cloud_upload:")


def show_gone(sentence: str) -> None:
    """The placeholder drawn where a picture used to be."""
    st.info(sentence, icon=":material/hide_image:")


def picture_source(digest: str, fmt: str, *, small: bool, wait: bool = False) -> str | bytes:
    """What shows a stored picture: a URL the browser fetches and keeps, or bytes.

    ``small``: a thumbnail-sized still (a GIF or SVG: its display copy, so it still plays or stays
    vector-sharp); otherwise the display copy. With shared storage the copy is kept beside the picture
    there and shown by a presigned URL, so any server shows it (bytes while the storage cannot be
    reached); with the data folder a thumbnail is a file of the static folder and a display copy is bytes.
    ``wait``: a display copy not yet in the shared storage is sent before its URL is given (else the copy in
    hand is shown meanwhile)
    Raises ``UNREADABLE_ERRORS`` for bytes that are no picture, ``StorageError`` when they cannot be read."""
    store = get_store()

    def load() -> bytes:
        return store.read_bytes(digest, fmt)

    thumbnailed = small and fmt in _THUMBNAIL_FORMATS
    if store.shares_pictures:
        url = store.copy_url(f"{digest}-{THUMBNAIL_SIDE}", lambda: thumbnail_bytes(load())) if thumbnailed else \
            store.copy_url(f"{digest}-{_DISPLAY_SIDE}", lambda: _with_extension(_display_copy(digest, fmt)),
                           wait=wait)  # a new result shows from the copy in hand while it goes up
        if url is not None:
            return url
    elif thumbnailed and not login_configured():  # static files are served to anyone, logged in or not
        url = THUMBNAILS.url(digest, load)
        if url is not None:
            return url
    return _display_copy(digest, fmt)


def _with_extension(copy: bytes) -> tuple[bytes, str]:
    """A display copy and the extension of what it is (JPEG, PNG or GIF)."""
    return copy, ".gif" if copy.startswith(b"GIF8") else ".png" if copy.startswith(b"\x89PNG") else ".jpg"


def _picture_or_gone(digest: str, fmt: str | None, small: bool) -> str | bytes | None:
    """What shows the picture (``picture_source``); or ``None``, after the placeholder and the sentence
    saying why it is not there."""
    problem = picture_problem(digest, fmt, check_copy=False)
    data = None
    if problem is None:
        try:
            data = picture_source(digest, fmt or get_store().format_of(digest), small=small)
        except KeyError:
            problem = DELETED_SENTENCE
        except StorageError as exc:
            problem = exc.sentence
        except UNREADABLE_ERRORS:
            problem = UNREADABLE_SENTENCE
    if data is None:
        show_gone(problem or UNREADABLE_SENTENCE)
    return data


def picture_alt(prompt: str) -> str:
    """What a screen reader says for a picture: the start of the prompt it was made from."""
    words = " ".join(prompt.split())
    return shorten(words, ALT_CHARS) if words else "A picture made without a prompt"


def show_picture(digest: str, fmt: str | None = None, *, caption: str | None = None, small: bool = False,
                 alt: str | None = None) -> bool:
    """The picture, or a placeholder and the sentence saying why it is not there; whether it was shown.

    ``small``: a thumbnail the browser keeps between views (grids of many pictures). ``alt``: what a screen
    reader says for it (``picture_alt``)."""
    data = _picture_or_gone(digest, fmt, small)
    if data is None:
        return False
    st.image(data, caption=caption, width="stretch", alt=alt)
    return True


def show_thumbnail(digest: str, fmt: str | None = None, *, alt: str = "Picture") -> bool:
    """A grid's picture, or the sentence saying why it is not there; whether it was shown.

    A thumbnail file is shown as a Markdown image: Streamlit draws its image element with a script it loads
    on first use, behind a placeholder it holds back for a moment, so a page of two dozen appeared well after
    the page itself. A GIF or SVG (shown from its display copy, to play or stay sharp) is still ``st.image``."""
    data = _picture_or_gone(digest, fmt, small=True)
    if data is None:
        return False
    if isinstance(data, str):
        # escaped: a prompt's brackets or parentheses would otherwise end the alt text and show as Markdown
        st.markdown(f"![{_alt_text(alt)}]({data})")
    else:
        st.image(data, width="stretch", alt=alt)
    return True


def forget_thumbnail(digest: str) -> None:
    """After a picture left the history: its thumbnail goes too, unless another row still uses the bytes."""
    store = get_store()
    try:
        store.format_of(digest)
    except KeyError:
        THUMBNAILS.forget(digest)
        store.forget_copies(digest)


def size_label(rec: ImageRecord) -> str:
    """The picture's size as people read it; an SVG the server sent without one is just "vector"."""
    if rec.width and rec.height:
        return f"{rec.width}×{rec.height}"
    return "vector" if rec.format == "svg" else "size unknown"


def show_error(err: ImageLabError, *, kind: str = "error", icon: str = ":material/error:") -> None:
    """An error as a sentence and the server's own words beneath, both shown as text, never as Markdown."""
    untrusted.say(err.sentence, kind=kind, icon=icon)
    untrusted.show_text(err.details(), quiet=True)


# Result pictures: never taller than the window leaves room for (so a run's card fits beside the form),
# on a checkerboard that shows where a picture is transparent; starred Gallery cards in the accent colour;
# "your pictures appear here" gone once a run's card is there.
RESULTS_CSS = """<style>
[class*='st-key-run_'] {gap: 0.5rem;}
[class*='st-key-run_'] [data-testid='stImage'] img {max-height: 40vh; width: auto !important;
  height: auto !important; max-width: 100%;}
.st-key-narrow_results [class*='st-key-run_'] [data-testid='stImage'] img {max-height: 60vh;}
[class*='st-key-run_'] [data-testid='stImage'] img, .st-key-lightbox [data-testid='stImage'] img,
[class*='st-key-card_'] [data-testid='stImage'] img, [class*='st-key-card_'] [data-testid='stMarkdownContainer'] img {
  background: repeating-conic-gradient(rgba(128, 128, 128, 0.3) 0 25%, transparent 0 50%) 0 0 / 16px 16px;}
.st-key-lightbox [data-testid='stImage'] img {max-height: 70vh; width: auto !important; height: auto !important;
  max-width: 100%;}
[class*='st-key-card_'] [data-testid='stMarkdownContainer'] img {width: 100%; display: block;}
[data-testid='stColumn']:has([class*='st-key-run_']) [class*='st-key-runs_empty_'] {display: none;}
[data-testid='stElementContainer']:has(.il-sending:empty) {display: none;}
.il-sending-card {border: 1px solid rgba(128, 128, 128, 0.3); border-radius: 0.5rem; padding: 1rem;}
.il-sending-card p {margin: 0 0 0.5rem 0;}
.il-sending-card p:last-child {margin: 0; font-size: 0.875rem; opacity: 0.62; white-space: pre-wrap;
  overflow-wrap: anywhere; line-height: 1.5;}  /* the prompt, as the run's own card shows it (il-quiet-text) */
[data-testid='stColumn']:has(.il-sending:not(:empty)) [class*='st-key-runs_empty_'] {display: none;}
[class*='st-key-picture_actions_'] {flex-wrap: nowrap; gap: 0.25rem;}
[class*='st-key-picture_actions_'] button [data-testid='stMarkdownContainer'] {position: absolute; width: 1px;
  height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;}
[class*='st-key-picture_actions_'] button {padding-left: 0.6rem; padding-right: 0.6rem;}
.st-key-gallery_grid_dense [class*='st-key-card_'] {padding: 0.4rem; gap: 0.3rem;}
.st-key-gallery_grid_dense [class*='st-key-gallery_sel_'] label > div:last-child,
.st-key-gallery_grid_dense [class*='st-key-card_'] button [data-testid='stMarkdownContainer'] {position: absolute;
  width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;}
.st-key-gallery_undo {position: fixed; bottom: 1.5rem; left: 50%; transform: translateX(-50%); z-index: 999990;
  width: auto !important; max-width: calc(100vw - 2rem); padding: 0.4rem 0.6rem 0.4rem 1rem; border-radius: 0.6rem;
  background: Canvas; color: CanvasText; border: 1px solid rgba(128, 128, 128, 0.4);
  box-shadow: 0 6px 24px rgba(0, 0, 0, 0.25);}
*:has(> [class*='st-key-sweep_axes_']) {position: sticky; top: 3.75rem; z-index: 5;}
[class*='st-key-sweep_axes_'] {background: Canvas; padding: 0.25rem 0;
  border-bottom: 1px solid rgba(128, 128, 128, 0.25);}
[class*='st-key-sweep_grid_compact_'] [data-testid='stMarkdownContainer'] img {display: block; max-width: 100%;
  max-height: 10rem; margin: 0 auto;}
[class*='st-key-card_starred_'] {border-color: var(--st-primary-color, #6E56CF) !important;
  border-width: 2px !important; background: color-mix(in srgb, var(--st-primary-color, #6E56CF) 7%, transparent);}
</style>"""


def show_image(rec: ImageRecord, *, key: str, caption: str | None = None, enlarge: bool = True,
               extend: bool = False) -> None:
    """A saved picture with its size and its actions in one row of icons: a large view, the download, a
    description, and handing it to another page (``extend`` adds Extend)."""
    shown = show_picture(rec.hash, rec.format, caption=caption, alt=picture_alt(rec.prompt))
    untrusted.show_text(file_line(rec), quiet=True)  # a caption's look, without a Markdown element to draw
    if shown:
        show_image_actions(rec, key=key, enlarge=enlarge, extend=extend)


def file_line(rec: ImageRecord) -> str:
    marked = VARIANT_WORDS.get(rec.variant or "", "")
    return f"{size_label(rec)} · {rec.format.upper()} · {rec.bytes / 1024:,.0f} KB{marked}"


def picture_name(rec: ImageRecord) -> str:
    """How a picture is named to people who cannot see it: its place in its run and its prompt's start."""
    prompt = " ".join(rec.prompt.split())
    return f"picture {rec.index + 1} of '{shorten(prompt, 60)}'" if prompt else f"picture {rec.index + 1}"


def _alt_text(alt: str) -> str:
    """A prompt as a Markdown image's alt text, exactly as written: every ASCII punctuation mark is escaped, so
    a bracket cannot end it early and nothing in it is read as emphasis or a Streamlit directive."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(alt.split()))


def _actions_key(key: str, rec: ImageRecord) -> str:
    return "picture_actions_" + re.sub(r"\W", "_", key) + f"_{rec.id}"


def show_image_actions(rec: ImageRecord, *, key: str, enlarge: bool = True, roomy: bool = False,
                       extend: bool = False) -> None:
    """A picture's actions: icon buttons in one short row under it (each names the picture to a screen reader and
    says what it does on hover), with the other pages behind "Use in…"; ``roomy`` (a detail view with room to
    spare) shows them in words, the other pages' buttons in the row."""
    name = picture_name(rec)
    with st.container(horizontal=True, gap="small", key=None if roomy else _actions_key(key, rec)):
        if enlarge and st.button(f"View {untrusted.theirs(name)} large", key=f"btn_{key}_view_{rec.id}",
                                 icon=":material/open_in_full:", help="See it large, with its settings and actions"):
            lightbox(rec.id)
        _download(rec, key, name=name)
        _describe_button(rec, key, name=name)
        if rec.format in ("png", "jpeg", "webp") and roomy:
            _hand_over_buttons(rec, key, extend=extend)
        elif rec.format in ("png", "jpeg", "webp"):
            with st.popover(f"Use {untrusted.theirs(name)} in another page", icon=":material/move_item:",
                            help="Use in… Reference edit, Mask edit, Conversation"):
                _hand_over_buttons(rec, key, width="stretch", extend=extend)
        _board_control(rec, key, name=name, roomy=roomy)
    _description_under(rec)


def _board_control(rec: ImageRecord, key: str, *, name: str, roomy: bool) -> None:
    from . import boards  # boards → results: imported when first used, not at start

    boards.add_to_board([(rec.hash, rec.format)], key=f"{re.sub(r'[^0-9A-Za-z]', '_', key)}_{rec.id}",
                        label="Add to board" if roomy else f"Add {untrusted.theirs(name)} to a board")


def _describe_button(rec: ImageRecord, key: str, *, name: str) -> None:
    st.button(f"Describe {untrusted.theirs(name)}", key=f"btn_{key}_describe_{rec.id}", icon=":material/image_search:",
              on_click=_ask_description, args=(rec.id,),
              help="Describe: a vision model writes a prompt that would recreate this picture; it shows under it")


def _ask_description(image_id: int) -> None:
    st.session_state[state.item(state.DESCRIBE_ASKED, image_id)] = True


def _description_under(rec: ImageRecord) -> None:
    """Under a result: its description once asked for (sent here, where the row of actions has no room for an
    error), while it is written, then its words."""
    from . import prompt_tools  # prompt_tools → run → results: imported when first used, not at start

    if st.session_state.pop(state.item(state.DESCRIBE_ASKED, rec.id), False):
        live = st.empty()
        try:
            still = _still_of(get_store(), rec)
        except (StorageError, *UNREADABLE_ERRORS):
            live.error("This picture could not be read to describe it; its file may be damaged.",
                       icon=":material/error:")
        else:
            prompt_tools.describe_picture(still, state.item(state.DESCRIBED, rec.id), live)
    prompt_tools.show_description(state.item(state.DESCRIBED, rec.id))


def _still_of(store: Any, rec: ImageRecord) -> str:
    """The hash of a picture a vision model can read: the result itself, or for a GIF its first frame and
    for an SVG its sanitised drawing, kept as a PNG input."""
    if rec.format not in ("gif", "svg"):
        return rec.hash
    data = store.read_bytes(rec.hash, rec.format)
    png = svg_to_png(data, 1024) if rec.format == "svg" else first_frame_png(data)
    with Image.open(io.BytesIO(png)) as still:
        width, height = still.size
    return str(store.add_input(png, "png", width, height, f"imagelab-{rec.hash[:12]}-still.png"))


def _download(rec: ImageRecord, key: str, *, name: str | None = None) -> None:
    """The download; ``name`` labels it for a screen reader (its row shows only the icon)."""
    store = get_store()
    label = f"{rec.format.upper()}: download {untrusted.theirs(name)}" if name else rec.format.upper()
    st.download_button(label, data=lambda: with_settings(store, rec), file_name=rec.filename,
                       mime=MIME_TYPES.get(rec.format, "application/octet-stream"), key=f"{key}.dl.{rec.id}",
                       icon=":material/download:", on_click="ignore",
                       help=f"Download {rec.filename} ({rec.format.upper()}, with its prompt and settings)")


def _hand_over_buttons(rec: ImageRecord, key: str, width: Literal["stretch", "content"] = "content",
                       extend: bool = False) -> None:
    if st.button("Reference edit", key=f"btn_{key}_ref_{rec.id}", icon=":material/collections:", width=width,
                 help="Use as a reference in Reference edit"):
        _hand_over(rec.hash, "ref", pages.path_of("reference_edit"))
    if st.button("Mask edit", key=f"btn_{key}_mask_{rec.id}", icon=":material/brush:", width=width,
                 help="Paint a mask over it in Mask edit"):
        _hand_over(rec.hash, "mask", pages.path_of("mask_edit"))
    if st.button("Conversation", key=f"btn_{key}_conv_{rec.id}", icon=":material/forum:", width=width,
                 help="Continue in a new conversation with this image"):
        _hand_over(rec.hash, "conv", pages.path_of("conversation"))
    if extend and st.button("Extend", key=f"btn_{key}_ext_{rec.id}", icon=":material/open_in_full:", width=width,
                            help="Extend the canvas around it in Extend"):
        _hand_over(rec.hash, state.EXT, pages.path_of("extend"))


def full_size(rec: ImageRecord) -> str | bytes | None:
    """The picture as saved (a vector drawn as PNG), for the large view: its bytes, or with shared storage
    its URL; ``None`` when it cannot be shown."""
    if rec.format == "svg" or picture_problem(rec.hash, rec.format) is not None:
        return preview(rec.hash, rec.format)
    try:
        url = get_store().picture_url(rec.hash, rec.format)
        if url is not None:  # shared storage: the browser fetches the original itself
            return url
        data = get_store().read_bytes(rec.hash, rec.format)
        # the display copy may predate the file: bytes written over it since are checked before they are shown
        with Image.open(io.BytesIO(data)):
            pass
    except (KeyError, StorageError, *UNREADABLE_ERRORS):
        return None
    return data


def settings_line(params: dict[str, Any]) -> str:
    """The settings people compare at a glance, in one line."""
    names = ("size", "quality", "output_format", "background", "input_fidelity", "moderation")
    return " · ".join(f"{n.replace('output_', '').replace('_', ' ')} {params[n]}" for n in names if params.get(n))


@st.dialog("Picture", width="large")
def lightbox(image_id: int) -> None:
    """One picture as large as the window allows, on a checkerboard, with its settings and actions."""
    store = get_store()
    try:
        rec = store.image(image_id)
    except KeyError:
        show_gone(DELETED_SENTENCE)
        return
    run = store.run(rec.run_id)
    picture, about = st.columns([3, 2], gap="medium")
    with picture, st.container(key="lightbox"):
        data = full_size(rec)
        if data is None:
            show_gone(picture_problem(rec.hash, rec.format) or UNREADABLE_SENTENCE)
            return
        st.image(data, width="content", alt=picture_alt(rec.prompt))
    with about:
        st.markdown(f"{untrusted.theirs(rec.model)} · {pages.name_of(rec.page)}")
        st.caption(file_line(rec))
        untrusted.show_text(shorten(rec.prompt, 600))
        untrusted.show_text(settings_line(run.params or {}), quiet=True)
        with st.container(horizontal=True, gap="small"):
            _download(rec, "lightbox")
            if rec.format in ("png", "jpeg", "webp"):
                _hand_over_buttons(rec, "lightbox")


def with_settings(store: Any, rec: ImageRecord) -> bytes:
    """The file as downloaded: its bytes with the prompt and settings embedded (PNG, WebP, JPEG);
    an SVG sanitised, so opening the download runs nothing."""
    data = store.read_bytes(rec.hash, rec.format)
    if rec.format == "svg":
        try:
            return sanitize_svg(data)
        except NotAnSvg:
            return data
    run = store.run(rec.run_id)
    try:
        return embed_metadata(data, rec.format, {"prompt": rec.prompt, "model": rec.model, "page": rec.page,
                                                 "params": run.params})
    except ValueError:
        return data


def _hand_over(digest: str, page_key: str, page: str) -> None:
    """Send a stored image to another page's inputs, by its hash, and go there."""
    st.session_state[state.handoff_key(page_key)] = [digest]
    st.switch_page(page)


def show_problems(problems: list[Any]) -> None:
    for p in problems:
        untrusted.say(p.message, kind="warning", icon=":material/tune:")
