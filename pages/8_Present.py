"""Present: the chosen pictures large, with captions and nothing else — for showing stakeholders."""

import streamlit as st

from components import connection, sidebar, state
from imagelab.images import preview_bytes
from imagelab.slideshow import slideshow_html

st.set_page_config(page_title="Present · ImageLab", page_icon=":material/slideshow:", layout="wide",
                   initial_sidebar_state="collapsed")
bar = sidebar.draw_sidebar()
bar.show_estimate(None)
store = connection.require_history()


@st.cache_data(max_entries=8, show_spinner="Preparing the slides…")
def build(ids: tuple[int, ...], captions: bool, autoplay: bool, seconds: float) -> str:
    slides = []
    for image_id in ids:
        try:
            rec = store.image(image_id)
        except KeyError:
            continue
        if rec.format == "svg":
            continue
        big = preview_bytes(store.read_bytes(rec.hash, rec.format), max_side=1800)
        slides.append((big, "image/webp", rec.prompt if captions else "",
                       f"{rec.model} · {rec.width}×{rec.height}" if captions else ""))
    return slideshow_html(slides, autoplay=autoplay, seconds=seconds)


selection = sorted(st.session_state.get(state.SELECTION, set()))
source = "your selection"
if not selection:
    starred, _ = store.search_images(starred=True, limit=50)
    selection = [r.id for r in starred]
    source = "your starred images"

if not selection:
    st.title("Present")
    st.info("Select images in the Gallery (or star some), then choose Present.", icon=":material/slideshow:")
    st.page_link("pages/6_Gallery.py", label="Open the Gallery", icon=":material/photo_library:")
else:
    c1, c2, c3, c4 = st.columns([4, 1, 1, 1], vertical_alignment="center")
    c1.caption(f"{len(selection)} picture(s) from {source}. Click the slides, then use the arrow keys; "
               "space plays and pauses, F goes full screen.")
    captions = c2.toggle("Captions", value=True, key="present_captions")
    autoplay = c3.toggle("Slideshow", value=False, key="present_autoplay")
    seconds = c4.number_input("Seconds", 2, 30, 5, key="present_seconds", label_visibility="collapsed")
    # Our own template; captions go in as JSON data shown with textContent, so no prompt can run as code.
    st.iframe(build(tuple(selection), captions, autoplay, float(seconds)), height=760)

bar.finish()
