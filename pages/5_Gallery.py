"""Gallery: everything made, newest first, with prompt, model and cost."""

import streamlit as st

from components import connection, results, sidebar, state
from imagelab.costs import format_dollars

st.set_page_config(page_title="Gallery · ImageLab", page_icon=":material/photo_library:", layout="wide")
bar = sidebar.draw_sidebar()
bar.show_estimate(None)

st.title("Gallery")
store = connection.get_store()
total = store.count_images()
PAGE_SIZE = 24
pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
st.caption(f"{total:,} image(s) in {store.root}")

if total == 0:
    st.info("Nothing here yet. Pictures you make on any page are saved here.", icon=":material/photo_library:")
else:
    page = st.number_input("Page", 1, pages, 1, key=state.GALLERY_PAGE) if pages > 1 else 1
    records = store.recent_images(PAGE_SIZE, (int(page) - 1) * PAGE_SIZE)
    cols = st.columns(4)
    for i, rec in enumerate(records):
        with cols[i % 4]:
            with st.container(border=True):
                results.show_image(rec, key="gallery")
                cost = format_dollars(rec.actual_dollars) if rec.actual_dollars is not None else "no usage"
                st.caption(f"**{rec.model}** · {cost}")
                st.caption(rec.prompt[:160] + ("…" if len(rec.prompt) > 160 else ""))

bar.finish()
