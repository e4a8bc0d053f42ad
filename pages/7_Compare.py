"""Compare: 2–4 images side by side, their differing settings marked, and a before/after slider."""

import streamlit as st

from components import connection, pages, results, sidebar, state
from imagelab.compare import before_after, settings_table
from imagelab.costs import image_money, money_text
from imagelab.images import DELETED_SENTENCE
from imagelab.svg import svg_to_png
from imagelab.text import literal, shorten

st.set_page_config(page_title="Compare · ImageLab", page_icon=":material/compare:", layout="wide")
bar = sidebar.draw_sidebar()
bar.show_estimate(None)
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
    bar.finish()
    st.stop()
if len(selection) > 4:
    st.caption(f"Showing the first 4 of {len(selection)} selected images.")

runs = [store.run(r.run_id) for r in records]
cols = st.columns(len(records))
for col, rec, run in zip(cols, records, runs, strict=True):
    with col:
        results.show_picture(rec.hash, rec.format)
        st.caption(f"**{rec.model}** · {results.size_label(rec)} · {money_text(image_money(rec))}")

names, values, differs = settings_table([{"model": r.model, "prompt": r.prompt, "params": run.params}
                                         for r, run in zip(records, runs, strict=True)])
only_diff = st.toggle("Only settings that differ", value=True, key="compare_only_diff")
header = "| setting | " + " | ".join(f"image {i + 1}" for i in range(len(records))) + " |"
lines = [header, "|" + " --- |" * (len(records) + 1)]
for name, row, diff in zip(names, values, differs, strict=True):
    if only_diff and not diff:
        continue
    cells = [literal(shorten(v, 80)).replace("  \n", " ") for v in row]
    if diff:
        lines.append(f"| **:orange[{name}]** | " + " | ".join(f":orange[{c}]" for c in cells) + " |")
    else:
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
if len(lines) == 2:
    st.caption("These images were made with the same settings.")
else:
    st.markdown("\n".join(lines))

def pixels(digest: str) -> bytes:
    """A stored picture as bytes Pillow reads: an SVG drawn (sanitised) as PNG, any other format as stored."""
    fmt = store.format_of(digest)
    data = store.read_bytes(digest, fmt)
    return svg_to_png(data, 1024) if fmt == "svg" else data


# Before/after: an edit against its input, or any two of the selection.
st.subheader("Before and after")
pairs = []
for rec in records:
    for parent in store.parents_of(rec.id):
        pairs.append((parent, rec.hash, f"image {records.index(rec) + 1} and its input"))
pairs.append((records[0].hash, records[1].hash, "image 1 and image 2"))
labels = [p[2] for p in pairs]
choice = st.selectbox("Pair", range(len(pairs)), format_func=lambda i: labels[i], key="compare_pair")
before, after, _ = pairs[choice]
split = st.slider("Before ◀ ▶ After", 0, 100, 50, key="compare_split", format="%d%%")
try:
    st.image(before_after(pixels(before), pixels(after), split / 100), width="stretch",
             caption="Left of the line: before · right of it: after")
except (KeyError, *results.UNREADABLE_ERRORS):
    results.show_gone(results.picture_problem(before) or results.picture_problem(after)
                      or results.UNREADABLE_SENTENCE)

bar.finish()
