"""ImageLab: the landing page — what it is, the connection, where to start."""

import streamlit as st

from components import boards, connection, pages, people, results, sidebar, state, untrusted
from components.frame import Sidebar, show_page
from components.pages import PAGES
from imagelab.costs import Money, money_text
from imagelab.store import StorageError, Store
from imagelab.text import shorten

# Three ways in for someone who has not typed a prompt yet: each opens Generate with it filled in.
SAMPLES = (
    ("Product shot", ":material/local_drink:",
     "A green glass bottle on a white marble shelf, soft window light from the left, studio product photo"),
    ("Poster", ":material/wallpaper:",
     "A travel poster of a lighthouse at dusk, flat colours, bold sans-serif title \"North Cape\""),
    ("Character", ":material/pets:",
     "A friendly red fox wearing a knitted scarf, children's book watercolour, plain cream background"),
)
LATEST = 6  # the newest pictures shown on Home, one row


def try_sample(prompt: str) -> None:
    st.session_state[state.GEN_PROMPT] = prompt


def latest_pictures(store: Store) -> None:
    """The newest pictures in the history, so Home shows what this ImageLab has made; the Gallery has the rest."""
    newest, _ = store.search_images(limit=LATEST)
    if not newest:
        return
    st.subheader("Latest pictures", anchor=False)
    row = st.columns(LATEST, gap="small")
    for column, rec in zip(row, newest, strict=False):
        with column:
            results.show_thumbnail(rec.hash, rec.format, alt=results.picture_alt(rec.prompt))
            untrusted.show_text(shorten(" ".join(rec.prompt.split()), 40), quiet=True)
    st.page_link(pages.path_of("gallery"), label="Everything in the Gallery", icon=":material/photo_library:")


def render(bar: Sidebar) -> None:
    st.title("ImageLab")
    st.markdown("A playground for OpenAI's image models: explore prompts, edit pictures and show the results.")

    conn = connection.current_connection() if sidebar.ready() else None
    if conn is None:
        st.warning("Finish the connection in the sidebar to start.", icon=":material/link_off:")
    elif conn.offline:
        st.info("No API key is set, so ImageLab is using its **offline backend**: pictures are synthesised on this "
                "computer, cost nothing and are not made by an OpenAI model. Set `OPENAI_API_KEY` or enter a key in "
                "the sidebar to use OpenAI.", icon=":material/science:")
    else:
        st.success(f"Connected to {untrusted.theirs(conn.label)}.", icon=":material/cloud_done:")

    st.subheader("Start here", anchor=False)
    st.caption("Pick a sample to open Generate with its prompt filled in; change any word, then press Generate.")
    samples = st.columns(len(SAMPLES))
    for column, (title, icon, prompt) in zip(samples, SAMPLES, strict=True):
        with column.container(border=True, key=f"home_sample_{title.lower().replace(' ', '_')}"):
            st.markdown(f"**{icon} {title}**")
            st.text(prompt)
            if st.button("Try this prompt", key=f"btn_home_sample_{title.lower().replace(' ', '_')}",
                         icon=":material/arrow_forward:", on_click=try_sample, args=(prompt,), width="stretch"):
                st.switch_page(pages.path_of("generate"))

    st.subheader("Every page", anchor=False)
    cols = st.columns(3)
    for i, place in enumerate(p for p in PAGES if p.purpose):
        with cols[i % 3].container(border=True):
            st.page_link(place.path, label=place.name, icon=place.icon)
            st.caption(place.purpose)

    try:
        store = connection.get_store()
        latest_pictures(store)
        paid = store.spent_dollars(owner=people.subject())  # with login, what this person spent
        would = sum(r["would_cost"] for r in store.spend_by_day_and_model(owner=people.subject()))
        if paid or would:
            st.caption(f"Spent on pictures so far: {money_text(Money(spent=paid, would_cost=would))}.")
        st.caption(f"History is kept in `{store.root}`.")
        results.show_waiting_pictures(store)
    except StorageError as exc:
        untrusted.say(exc.sentence, icon=":material/folder_off:")


# A share link opens its board and nothing else of the app (no sidebar, no navigation, no other picture).
if boards.SHARE_PARAM in st.query_params:
    boards.shared_page(st.query_params[boards.SHARE_PARAM])
show_page("", render, connection_note=False)  # the page says it at length, once
