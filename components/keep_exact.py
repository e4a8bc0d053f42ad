"""Keep-exact for the edit pages: the setting, and a result shown beside its raw output and drift.

The compositing itself happens in the run engine's worker (``imagelab.drift.KeepExact`` as the
job's ``postprocess``), so it is done whatever the page does; this module only asks and shows.
"""

from __future__ import annotations

import io

import streamlit as st
from PIL import Image

from imagelab.compare import slider_html
from imagelab.drift import DEFAULT_FEATHER, MAX_FEATHER, Drift, KeepExact, pair_heatmap
from imagelab.images import mime_of, preview_bytes
from imagelab.store import ImageRecord

from . import results
from .connection import get_store

__all__ = ["keep_exact_setting", "postprocess", "pairs", "show_result"]

BEFORE_AFTER_HEIGHT = 340  # the slider's picture: about the results column's width, so no gap is left under it


def keep_exact_setting(key: str) -> int | None:
    """The toggle and the feather width; returns the feather (pixels) when keep-exact is on, else None."""
    on_key, feather_key = f"{key}_keep_exact", f"{key}_feather"
    st.session_state.setdefault(on_key, True)
    st.session_state.setdefault(feather_key, DEFAULT_FEATHER)
    on = st.toggle("Keep the unmasked part exactly", key=on_key,
                     help="The model repaints the whole picture, so pixels outside the mask come back close but "
                          "not identical. With this on, the original pixels are put back outside the mask; the "
                          "model's own result is saved too, marked raw.")
    feather = st.columns([1, 1])[0].slider("Seam width (px)", 0, MAX_FEATHER, key=feather_key, disabled=not on,
                           help="How far into the repainted part the original fades out, so the seam does not show.")
    return int(feather) if on else None


def postprocess(original: bytes, mask: bytes, feather: int | None) -> KeepExact | None:
    """The run engine's follow-up for an edit of ``original`` with ``mask``, or None when keep-exact is off."""
    return None if feather is None else KeepExact(original, mask, feather)


def pairs(images: list[ImageRecord]) -> list[tuple[ImageRecord, ImageRecord | None]]:
    """A run's images as (shown, raw): a kept-exact composite with its raw output, others alone."""
    kept = {rec.index for rec in images if rec.variant == "kept"}
    raw_of = {rec.index: rec for rec in images if rec.variant == "raw"}
    return [(rec, raw_of.get(rec.index) if rec.variant == "kept" else None)
            for rec in images if not (rec.variant == "raw" and rec.index in kept)]


@st.cache_data(max_entries=32, show_spinner=False)
def _heatmap(raw_hash: str, raw_fmt: str, kept_hash: str, kept_fmt: str) -> bytes:
    store = get_store()
    with Image.open(io.BytesIO(store.read_bytes(raw_hash, raw_fmt))) as raw, \
            Image.open(io.BytesIO(store.read_bytes(kept_hash, kept_fmt))) as kept:
        heat = pair_heatmap(raw.copy(), kept.copy())
    buf = io.BytesIO()
    heat.save(buf, "PNG")
    return preview_bytes(buf.getvalue())


def _original_of(kept: ImageRecord, raw: ImageRecord) -> tuple[str, str] | None:
    """(hash, format) of the picture the edit started from, when it has the result's size (an Extend's has not)."""
    store = get_store()
    for digest in store.parents_of(kept.id):
        if digest == raw.hash:
            continue
        try:
            with Image.open(io.BytesIO(results.preview(digest) or b"")) as img:
                same_shape = img.width * (kept.height or 0) == img.height * (kept.width or 0)
        except (OSError, ValueError):
            continue
        if same_shape:
            return digest, store.format_of(digest)
    return None


def _before_after(original: tuple[str, str], kept: ImageRecord) -> None:
    """The picture before the edit and after it, split by a line the person drags (the Compare page's slider)."""
    before, after = results.preview(*original), results.preview(kept.hash, kept.format)
    if before is None or after is None:
        results.show_gone(results.UNREADABLE_SENTENCE)
        return
    with Image.open(io.BytesIO(after)) as img:
        size = img.size
    st.iframe(slider_html((before, mime_of(before)), (after, mime_of(after)), size, max_height=BEFORE_AFTER_HEIGHT),
              height=BEFORE_AFTER_HEIGHT + 20)
    st.caption("Drag the line: the picture before the edit on the left, the kept-exact result on the right.")


def show_result(kept: ImageRecord, raw: ImageRecord | None, *, key: str) -> None:
    """A kept-exact result with its drift figure; the drift map and the raw output one click away."""
    if raw is None:
        results.show_image(kept, key=key)
        return
    drift = Drift.from_record(kept.drift) if kept.drift else None
    original = _original_of(kept, raw)
    names = ["Kept exact", *(["Before / after"] if original else []), "Drift map", "Raw"]
    tabs = dict(zip(names, st.tabs(names), strict=True))
    with tabs["Kept exact"]:
        results.show_image(kept, key=key)
    if original is not None:
        with tabs["Before / after"]:
            _before_after(original, kept)
    if drift is not None:  # one line, so the card stays short enough to sit beside the form
        with st.container(key=f"drift_{kept.id}"):
            st.markdown(f"**{drift.in_words()}**",
                        help="How much the model's raw result changed the pixels the mask protected, in CIELAB "
                             "ΔE (about 2 is just visible side by side). The kept-exact result has them back "
                             "exactly. " + drift.sentence())
    map_tab, raw_tab = tabs["Drift map"], tabs["Raw"]
    with map_tab:
        try:
            st.image(_heatmap(raw.hash, raw.format, kept.hash, kept.format), width="stretch",
                     caption="Where the raw result drifted outside the mask: brighter is more. The thin "
                             "ring around the edit is the seam, where the two are blended.")
        except (OSError, ValueError, KeyError):
            results.show_gone(results.UNREADABLE_SENTENCE)
    with raw_tab:
        results.show_image(raw, key=key, caption="Raw: the model's own result, before keep-exact")
