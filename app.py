"""ImageLab: the landing page — what it is, the connection, where to start."""

import streamlit as st

from components import boards, connection, pages, people, results, sidebar, untrusted
from components.pages import PAGES
from imagelab.costs import Money, money_text
from imagelab.store import StorageError

# A share link opens its board and nothing else of the app (no sidebar, no navigation, no other picture).
if boards.SHARE_PARAM in st.query_params:
    boards.shared_page(st.query_params[boards.SHARE_PARAM])

st.set_page_config(page_title="ImageLab", page_icon=pages.ICON, layout="wide")
bar = sidebar.draw_sidebar(connection_note=False)  # the page says it at length, once
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
    st.success(f"Connected to {untrusted.theirs(conn.label)}.", icon=":material/cloud_done:")

cols = st.columns(3)
for i, place in enumerate(p for p in PAGES if p.purpose):
    with cols[i % 3].container(border=True):
        st.page_link(place.path, label=place.name, icon=place.icon)
        st.caption(place.purpose)

try:
    store = connection.get_store()
    paid = store.spent_dollars(owner=people.subject())  # with login, what this person spent
    would = sum(r["would_cost"] for r in store.spend_by_day_and_model(owner=people.subject()))
    if paid or would:
        st.caption(f"Spent on pictures so far: {money_text(Money(spent=paid, would_cost=would))}.")
    st.caption(f"History is kept in `{store.root}`.")
    results.show_waiting_pictures(store)
except StorageError as exc:
    untrusted.say(exc.sentence, icon=":material/folder_off:")
bar.finish()
