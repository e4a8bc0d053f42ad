"""One prompt sent to several models at once ("Compare models" on Generate): the results side by side, each
with its figures and "Keep this one", live while any of them runs."""

from __future__ import annotations

import streamlit as st

from components import connection, people, results, untrusted
from components.runs.cards import run_error, show_progress_picture
from components.runs.live import POLL_SECONDS, live_part
from imagelab.costs import money_of, money_text
from imagelab.runs.status import STATUS_WORDS


def _draw_fanout(group: str) -> None:
    """One prompt sent to several models: the results side by side, each with its figures and "Keep this one"."""
    engine = connection.get_engine()
    store = connection.get_store()
    runs = sorted(store.runs(6, group_id=group), key=lambda r: r.id)
    mine = people.starred_ids(store)  # with login, this person's stars; stars from before login are nobody's
    per_row = 3 if len(runs) != 4 else 2  # wide enough for a picture and its figures
    for i, rec in enumerate(runs):
        if i % per_row == 0:
            cols = st.columns(per_row)
        with cols[i % per_row], st.container(border=True, key=f"fanout_{rec.id}"):
            st.markdown(untrusted.theirs(rec.label or rec.model))
            job = engine.job(rec.id)
            if rec.active:
                st.caption(f"{STATUS_WORDS.get(rec.status, rec.status)} · {job.elapsed if job else 0:.0f} s")
                if job is not None:
                    show_progress_picture(job, saved_too=False)
                continue
            images = store.images_of_run(rec.id)
            for image in images:
                copy = results.preview(image.hash, image.format)
                if copy is not None:
                    st.image(copy, width="stretch")
            figures = [f"{rec.finished_at - rec.started_at:.1f} s" if rec.finished_at else "",
                       f"{(rec.usage or {}).get('total_tokens', 0):,} tokens",
                       money_text(money_of(rec))]
            st.caption(" · ".join(f for f in figures if f))
            if rec.error:
                results.show_error(run_error(rec))
            if images:
                if all(people.is_starred(i, mine) for i in images):
                    st.caption(":material/star: Kept (starred)")
                else:
                    st.button("Keep", key=f"btn_fanout_keep_{rec.id}", icon=":material/star:",
                              on_click=_keep, args=([i.id for i in images],), width="stretch",
                              help="Keep this one: star it in the Gallery")


def _keep(image_ids: list[int]) -> None:
    store = connection.get_store()
    for image_id in image_ids:
        people.set_star(store, image_id, True)


def show_fanout(group: str) -> None:
    """The latest "Compare models" send, side by side, live while any of it runs."""
    live_part(f"fanout_{group}", lambda: _draw_fanout(group),
              lambda: bool(connection.get_engine().active(group=group)), every=POLL_SECONDS * 3)
