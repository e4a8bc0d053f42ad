"""Login: every page's first question when ``[auth]`` is in the secrets, and the sidebar's person panel.

Streamlit's own login (``st.login``, OpenID Connect) does the talking to the identity provider; this
module only asks for it before anything of ImageLab is drawn, and says who is logged in. Without
``[auth]`` nothing here draws anything and ``current()`` is ``None``: one anonymous person, as always.
"""

from __future__ import annotations

import streamlit as st

from imagelab import people
from imagelab.people import Person, is_admin
from imagelab.runs.engine import JobState
from imagelab.store import BatchRecord, ImageRecord, Store

from .connection import get_store, login_configured
from .untrusted import show_text, theirs

__all__ = ["require_person", "current", "person_panel", "admin", "subject", "may_delete", "may_change", "only_own",
           "owner_words", "starred_ids", "is_starred", "set_star", "whose", "whose_pictures", "own_jobs", "own_batches"]


_NOTED = "people_noted"  # the person this session has put in the list of people


def current() -> Person | None:
    """The person logged in to this session, or ``None`` without login (or before logging in)."""
    if not login_configured() or not st.user.is_logged_in:
        return None
    subject = str(st.user.get("sub") or "")
    email = str(st.user.get("email") or "")
    return Person(subject, email) if subject else None


def is_admin_email(email: str) -> bool:
    """Whether ``email`` is listed in IMAGELAB_ADMINS."""
    return bool(email) and email.lower() in people.admins()


def admin() -> bool:
    """Whether this session may act for everyone (asked on the server at each admin action)."""
    return is_admin(current()) if login_configured() else True


def require_person() -> Person | None:
    """With login configured: the person, or a page that asks them to log in and nothing else (the script
    stops here, so no picture, prompt or figure of ImageLab reaches a browser that is not logged in)."""
    if not login_configured():
        return None
    person = current()
    if person is not None:
        if st.session_state.get(_NOTED) != person:  # once a session: the Team page lists everyone who logged in
            get_store().note_person(person)
            st.session_state[_NOTED] = person
        return person
    st.title("ImageLab")
    st.markdown("Log in to use ImageLab.")
    st.button("Log in", key="btn_login", icon=":material/login:", type="primary", on_click=st.login)
    st.stop()
    raise AssertionError("st.stop() does not return")


def person_panel(person: Person) -> None:
    """The sidebar's line saying who is logged in, with Log out."""
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="person_panel"):
        show_text(person.name + (" · admin" if is_admin(person) else ""), quiet=True)  # their email, as plain text
        st.button("Log out", key="btn_logout", type="tertiary", icon=":material/logout:", on_click=st.logout)


def subject() -> str | None:
    """The logged-in person's subject: what their records are found by; ``None`` without login."""
    person = current()
    return person.subject if person else None


def may_delete(owner: str | None) -> bool:
    """Whether this session may delete a record of ``owner``'s, judged here on the server at the action."""
    return people.may_delete(current(), owner) if login_configured() else True


def may_change(owner: str | None) -> bool:
    """Whether this session may change a record of ``owner``'s (a board): its maker or an admin, as for a delete."""
    return may_delete(owner)


def only_own() -> str | None:
    """Whose records the store should let this session change, asked again at each action: ``None`` for anyone's
    (no login, or an admin), else the person's subject (an empty one, matching nobody, before logging in)."""
    if not login_configured():
        return None
    person = current()
    if person is None:
        return ""
    return None if is_admin(person) else person.subject


def owner_words(owner: str | None, owner_email: str | None) -> str:
    """Whose a record is, for a caption ("yours", or their email), escaped; empty without login."""
    if not login_configured() or owner is None:
        return ""
    return "yours" if owner == subject() else theirs(owner_email or owner)


# --- stars: each person's own with login, the history's own without ---------------------------

def starred_ids(store: Store) -> set[int] | None:
    """The pictures this person starred (with login), or ``None``: read ``ImageRecord.starred``."""
    who = subject()
    return store.stars_of(who) if who else None


def is_starred(rec: ImageRecord, mine: set[int] | None) -> bool:
    return rec.id in mine if mine is not None else rec.starred


def set_star(store: Store, image_id: int, starred: bool) -> None:
    who = subject()
    if who:
        store.set_star(image_id, who, starred)
    else:
        store.set_starred(image_id, starred)


# --- the Gallery's choice of whose pictures ---------------------------------------------------

_MINE, _EVERYONE = "mine", "everyone"


def whose_pictures(store: Store, *, key: str) -> str | None:
    """The Gallery's choice: ``whose`` pictures."""
    return whose(store, key=key, things="pictures")


def whose(store: Store, *, key: str, things: str) -> str | None:
    """With login: Mine, Everyone or one person, drawn as a select box; returns the subject whose ``things``
    (pictures, boards) to show, or ``None`` for everyone's (and always without login, where nothing is drawn)."""
    me = subject()
    if me is None:
        return None
    others = [(s, email) for s, email in store.people() if s != me]
    names = {_MINE: "Mine", _EVERYONE: "Everyone", **{s: email for s, email in others}}
    if st.session_state.get(key) not in names:
        st.session_state[key] = _MINE
    chosen = st.selectbox("Whose", list(names), key=key, format_func=names.__getitem__,
                          help=f"Your {things}, everyone's, or one person's")
    return None if chosen == _EVERYONE else me if chosen == _MINE else str(chosen)


# --- what runs in this process: each person sees their own ---------------------------------


def own_jobs(jobs: list[JobState]) -> list[JobState]:
    """The jobs of ``jobs`` this person asked for (with login); all of them without."""
    who = subject()
    if who is None:
        return jobs
    return [j for j in jobs if j.owner == who]


def own_batches(rows: list[BatchRecord]) -> list[BatchRecord]:
    """The Batch API jobs this person sent (with login): their cells' runs are theirs; all of them without."""
    who = subject()
    if who is None:
        return rows
    owners = get_store().owners_of_runs([r.run_ids[0] for r in rows if r.run_ids])
    return [r for r in rows if r.run_ids and owners.get(r.run_ids[0]) == who]
