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

PLACES = [
    ("pages/1_Generate.py", "Generate", ":material/auto_awesome:",
     "Text to image, with every option the model accepts and streamed previews."),
    ("pages/2_Reference_edit.py", "Reference edit", ":material/collections:",
     "A new picture from up to 16 reference images."),
    ("pages/3_Mask_edit.py", "Mask edit", ":material/brush:",
     "Paint over what should change; the rest stays pixel for pixel."),
    ("pages/4_Conversation.py", "Conversation", ":material/forum:",
     "Talk a picture into shape, turn by turn, and branch from any turn."),
    ("pages/5_Sweep.py", "Sweep", ":material/grid_view:",
     "One template over lists of values and options, priced before it runs."),
    ("pages/6_Gallery.py", "Gallery", ":material/photo_library:",
     "Everything made, with its parameters, usage, cost and lineage; export and present."),
]
cols = st.columns(3)
for i, (path, label, icon, text) in enumerate(PLACES):
    with cols[i % 3].container(border=True):
        st.page_link(path, label=label, icon=icon)
        st.caption(text)

store = connection.get_store()
st.caption(f"History is kept in `{store.root}`.")
bar.finish()
