"""ImageLab: the landing page — what it is, the connection, where to start."""

import streamlit as st

from components import connection, sidebar

st.set_page_config(page_title="ImageLab", page_icon=":material/palette:", layout="wide")
bar = sidebar.draw_sidebar()
bar.show_estimate(None)

st.title("ImageLab")
st.markdown("A playground for OpenAI's image models: explore prompts, edit pictures and show the results.")

conn = connection.current_connection() if sidebar.ready() else None
if conn is None:
    st.warning("Finish the connection in the sidebar to start.", icon=":material/link_off:")
elif conn.offline:
    st.info("No API key is set, so ImageLab is using its **offline backend**: pictures are synthesised on this "
            "computer, cost nothing and are not made by an OpenAI model. Set `OPENAI_API_KEY` or enter a key in the "
            "sidebar to use OpenAI.", icon=":material/science:")
else:
    st.success(f"Connected to **{conn.label}**.", icon=":material/cloud_done:")

c1, c2 = st.columns(2)
with c1:
    st.page_link("pages/1_Generate.py", label="Generate", icon=":material/auto_awesome:")
    st.caption("Text to image, with every option the model accepts and streamed previews.")
with c2:
    st.page_link("pages/6_Gallery.py", label="Gallery", icon=":material/photo_library:")
    st.caption("Everything you have made, with its parameters, usage and cost.")

store = connection.get_store()
st.caption(f"History is kept in `{store.root}`.")
bar.finish()
