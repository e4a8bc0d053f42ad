"""Compare: 2–4 images side by side, their differing settings marked, and a before/after slider."""

import io

import streamlit as st
from PIL import Image

from components import connection, pages, results, state, untrusted
from components.frame import Sidebar, show_page
from imagelab.compare import pair_labels, settings_table, slider_html
from imagelab.costs import image_money, money_text
from imagelab.images import DELETED_SENTENCE, mime_of, preview_bytes
from imagelab.store import Store
from imagelab.svg import svg_to_png
from imagelab.text import shorten


def shown_copy(store: Store, digest: str) -> tuple[bytes, str]:
    """A stored picture at display size for the split (an SVG drawn, sanitised, as PNG)."""
    fmt = store.format_of(digest)
    data = store.read_bytes(digest, fmt)
    small = preview_bytes(svg_to_png(data, 1024) if fmt == "svg" else data, max_side=1600)
    return small, mime_of(small)


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


def render(bar: Sidebar) -> None:
    store = connection.require_history()
    st.title("Compare")
    selection = sorted(st.session_state.get(state.SELECTION, set()))
    records = []
    deleted = 0
    for image_id in selection[:4]:
        try:
            records.append(store.image(image_id))
        except KeyError:
            deleted += 1
    if deleted:
        results.show_gone(f"{DELETED_SENTENCE} ({deleted} of the selected pictures left out.)")

    if len(records) < 2:
        st.info("Select 2 to 4 images in the Gallery, then choose Compare.", icon=":material/compare:")
        st.page_link(pages.path_of("gallery"), label="Open the Gallery", icon=":material/photo_library:")
        return
    if len(selection) > 4:
        st.caption(f"Showing the first 4 of {len(selection)} selected images.")

    runs = [store.run(r.run_id) for r in records]
    cols = st.columns(len(records))
    for col, rec in zip(cols, records, strict=True):
        with col:
            results.show_picture(rec.hash, rec.format)
            st.caption(f"{untrusted.theirs(rec.model)} · {results.size_label(rec)} · {money_text(image_money(rec))}")

    names, values, differs = settings_table([{"model": r.model, "prompt": r.prompt, "params": run.params}
                                             for r, run in zip(records, runs, strict=True)])
    only_diff = st.toggle("Only settings that differ", value=True, key="compare_only_diff")
    header = "| setting | " + " | ".join(f"image {i + 1}" for i in range(len(records))) + " |"
    lines = [header, "|" + " --- |" * (len(records) + 1)]
    for name, row, diff in zip(names, values, differs, strict=True):
        if only_diff and not diff:
            continue
        cells = [untrusted.theirs(shorten(v, 80), in_table=True) for v in row]
        shown_name = f":orange[{name}]" if diff and name.isidentifier() else untrusted.theirs(name, in_table=True)
        lines.append(f"| **{shown_name}** | " + " | ".join(cells) + " |" if diff else
                     f"| {shown_name} | " + " | ".join(cells) + " |")
    if len(lines) == 2:
        st.caption("These images were made with the same settings.")
    else:
        st.markdown("\n".join(lines))

    # Before/after: an edit against its input, or any two of the selection, each named by its prompt.
    st.subheader("Before and after")
    names = pair_labels([r.prompt for r in records])
    pairs = []
    for rec, name in zip(records, names, strict=True):
        parents = store.parents_of(rec.id)
        for n, parent in enumerate(parents):
            which = f"input {n + 1}" if len(parents) > 1 else "its input"
            pairs.append((parent, rec.hash, f"{name} — against {which}"))
    for i in range(len(records)):
        for j in range(i + 1, len(records)):
            pairs.append((records[i].hash, records[j].hash, f"{names[i]} ◀ ▶ {names[j]}"))
    labels = [p[2] for p in pairs]
    choice = st.selectbox("Pair", range(len(pairs)), format_func=lambda i: labels[i], key="compare_pair")
    before, after, _ = pairs[choice]
    try:
        # Drawn in the browser: dragging the line sends nothing to the server.
        after_copy = shown_copy(store, after)
        st.iframe(slider_html(shown_copy(store, before), after_copy, size_of(after_copy[0]), max_height=640),
                  height=660)
        st.caption("Drag the line, or focus it and use the arrow keys. Left of the line: before · right of it: after.")
    except (KeyError, *results.UNREADABLE_ERRORS):
        results.show_gone(results.picture_problem(before) or results.picture_problem(after)
                          or results.UNREADABLE_SENTENCE)


show_page("Compare", render)
