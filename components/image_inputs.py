"""Input images for the edit pages: upload, pick from history, or receive from another page.

A picture can also be pasted from the clipboard (``streamlit-paste-button``, whose script ships
in the package: nothing is fetched). The chosen images live in session state as normalised
``InputImage``s (decoded once, kept in the store by hash), in the order they will be sent. An
upload bigger than the model reads is brought down as it arrives; those reduced bytes are what
is stored and sent, and a caption under the image says so.
"""

from __future__ import annotations

import io

import streamlit as st
from streamlit_paste_button import paste_image_button

from imagelab.images import DELETED_SENTENCE, MISSING_FILE_SENTENCE
from imagelab.inputs import MODEL_READ_SIDE, InputRefused, input_from_store, stage_input
from imagelab.specs import InputImage
from imagelab.store import Store, content_hash

from . import people, state, untrusted
from .results import UNREADABLE_ERRORS, preview, show_picture

UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "mpo", "gif", "bmp", "tif", "tiff", "heic"]
HISTORY_CHOICES = 12


def _add(images: list[InputImage], img: InputImage, limit: int, single: bool) -> None:
    if single:
        images[:] = [img]
    elif all(i.hash != img.hash for i in images) and len(images) < limit:
        images.append(img)


def _messages(key: str) -> list[tuple[str, str]]:
    return st.session_state.setdefault(f"{key}_messages", [])


def _scaled(key: str) -> dict[str, str]:
    """Image hash → the sentence saying how it was brought down, kept while the image is chosen."""
    return st.session_state.setdefault(f"{key}_scaled", {})


def image_inputs(key: str, store: Store, *, limit: int = 16, single: bool = False) -> list[InputImage]:
    """Render the input picker under ``key``; return the chosen images in sending order."""
    images: list[InputImage] = st.session_state.setdefault(state.picked_images(key), [])
    messages = _messages(key)

    for digest in st.session_state.pop(state.handoff_key(key), None) or []:
        try:
            _add(images, input_from_store(store, digest), limit, single)
        except InputRefused as exc:
            messages.append(("error", exc.sentence))
        except KeyError:
            messages.append(("error", DELETED_SENTENCE))
        except OSError:
            messages.append(("error", MISSING_FILE_SENTENCE))

    upload_round = st.session_state.setdefault(f"{key}_upload_round", 0)
    up_tab, history_tab = st.tabs([":material/upload: Upload", ":material/history: From history"])
    with up_tab:
        uploaded = st.file_uploader(
            "Image" if single else f"Images (up to {limit})", type=UPLOAD_TYPES, accept_multiple_files=not single,
            key=f"upl_{key}_{upload_round}",
            help="PNG, JPEG or WebP; other formats, iPhone photos and rotated JPEGs are converted.")
        # one file when single, else a list (both None or empty when nothing is chosen)
        files = uploaded if isinstance(uploaded, list) else [uploaded] if uploaded else []
        if files:
            for f in files:
                _take_in(key, store, images, messages, f.getvalue(), f.name, f.name, f.name, limit, single)
            st.session_state[f"{key}_upload_round"] = upload_round + 1  # empties the uploader
            st.rerun()
        _paste(key, store, images, messages, limit, single)
    with history_tab:
        recent = [r for r in store.recent_images(HISTORY_CHOICES, owner=people.subject())
                  if r.format in ("png", "jpeg", "webp")]
        if not recent:
            st.caption("Nothing in the history yet.")
        cols = st.columns(4)
        for i, rec in enumerate(recent):
            with cols[i % 4]:
                if not show_picture(rec.hash, rec.format):
                    continue
                if st.button("Use", key=f"btn_{key}_pick_{rec.id}", width="stretch"):
                    _add(images, input_from_store(store, rec.hash), limit, single)
                    st.rerun()

    while messages:  # they name files, and quote what a file said of itself
        level, text = messages.pop(0)
        untrusted.say(text, kind=level)

    _image_list(key, images, single)
    return list(images)


def one_picture(key: str, store: Store, *, asks: str) -> InputImage | None:
    """The picture a page works on, in a picker that folds away once one is chosen (or handed over from another
    page), so what the page is for sits right under it; ``asks`` heads the open picker."""
    chosen = st.session_state.get(state.picked_images(key)) or []
    handed = bool(st.session_state.get(state.handoff_key(key)))  # taken in by the picker below
    label = f"Picture: {untrusted.theirs(chosen[0].filename)} · change it" if chosen else \
        "Picture · change it" if handed else asks
    with st.expander(label, expanded=not (chosen or handed), icon=":material/image:"):
        images = image_inputs(key, store, single=True)
    return images[0] if images else None


def _pasted_png(key: str) -> bytes | None:
    """A picture pasted from the clipboard since the last one was taken in, as PNG bytes (else None)."""
    pasted = paste_image_button("Paste an image", key=f"upl_{key}_paste",
                                background_color="#4a5568", hover_background_color="#2d3748").image_data
    if pasted is None:
        return None
    buf = io.BytesIO()
    pasted.save(buf, "PNG")
    data = buf.getvalue()
    # The button keeps reporting its last paste on every rerun: take each picture in once.
    if st.session_state.get(f"{key}_pasted") == content_hash(data):
        return None
    st.session_state[f"{key}_pasted"] = content_hash(data)
    return data


def _paste(key: str, store: Store, images: list[InputImage], messages: list[tuple[str, str]], limit: int,
           single: bool) -> None:
    """Paste from the clipboard (a screenshot, a picture copied in a browser): taken in like an upload."""
    try:
        data = _pasted_png(key)
    except UNREADABLE_ERRORS:
        messages.append(("error", "The clipboard did not hold a picture that can be read; copy it again."))
        return
    if data is None:
        return
    _take_in(key, store, images, messages, data, "pasted image.png", "The pasted picture", "Pasted picture",
             limit, single)


def _take_in(key: str, store: Store, images: list[InputImage], messages: list[tuple[str, str]], data: bytes,
             filename: str, named: str, noted: str, limit: int, single: bool) -> None:
    """Stage an uploaded or pasted file as an input: ``named`` says it was left out, ``noted`` heads what changed."""
    try:
        img, notes, scaling = stage_input(store, data, filename, max_side=MODEL_READ_SIDE)
    except InputRefused as exc:
        messages.append(("error", exc.sentence))
        return
    if not single and len(images) >= limit and all(i.hash != img.hash for i in images):
        messages.append(("warning", f"{named} was left out: at most {limit} images can be sent."))
        return
    _add(images, img, limit, single)
    messages.extend(("info", f"{noted}: {note}") for note in notes)
    if scaling:
        _scaled(key)[img.hash] = scaling


def _image_list(key: str, images: list[InputImage], single: bool) -> None:
    """The chosen images in sending order, each with its size and buttons to move or remove it."""
    if not images:
        st.caption("No image chosen yet.")
        return
    if not single and len(images) > 1:
        st.caption("The first image is the one a mask applies to and the one kept with the most detail.")
    for i, img in enumerate(images):
        with st.container(border=True):
            thumb, text = st.columns([1, 4], vertical_alignment="center")
            thumb.image(preview(img.hash, img.mime.split("/")[1]) or img.data, width="stretch")
            first = " · **first**" if i == 0 and not single else ""
            text.markdown(f"**{i + 1}.** {untrusted.theirs(img.filename)}{first}")
            text.caption(f"{img.width}×{img.height} · {len(img.data) / 1024:,.0f} KB")
            scaling = _scaled(key).get(img.hash)
            if scaling:
                text.caption(scaling)
            # words, in a row that wraps: a label is never cut and every button has a name
            with text.container(horizontal=True, gap="small"):
                if not single and st.button("Up", key=f"btn_{key}_up_{i}", icon=":material/arrow_upward:",
                                            disabled=i == 0, type="tertiary", help="Move up: send it earlier"):
                    images[i - 1], images[i] = images[i], images[i - 1]
                    st.rerun()
                if not single and st.button("Down", key=f"btn_{key}_down_{i}", icon=":material/arrow_downward:",
                                            disabled=i == len(images) - 1, type="tertiary",
                                            help="Move down: send it later"):
                    images[i + 1], images[i] = images[i], images[i + 1]
                    st.rerun()
                if st.button("Remove", key=f"btn_{key}_remove_{i}", icon=":material/close:", type="tertiary",
                             help="Take it out of the inputs"):
                    images.pop(i)
                    st.rerun()
