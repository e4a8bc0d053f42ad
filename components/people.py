"""Login: every page's first question when ``[auth]`` is in the secrets, and the sidebar's person panel.

Streamlit's own login (``st.login``, OpenID Connect) does the talking to the identity provider; this
module only asks for it before anything of ImageLab is drawn, and says who is logged in. Without
``[auth]`` nothing here draws anything and ``current()`` is ``None``: one anonymous person, as always.
"""

from __future__ import annotations

import streamlit as st

from imagelab.people import Person, is_admin

from .connection import login_configured
from .untrusted import theirs

__all__ = ["require_person", "current", "person_panel", "admin"]


def current() -> Person | None:
    """The person logged in to this session, or ``None`` without login (or before logging in)."""
    if not login_configured() or not st.user.is_logged_in:
        return None
    subject = str(st.user.get("sub") or "")
    email = str(st.user.get("email") or "")
    return Person(subject, email) if subject else None


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
        return person
    st.title("ImageLab")
    st.markdown("Log in to use ImageLab.")
    st.button("Log in", key="btn_login", icon=":material/login:", type="primary", on_click=st.login)
    st.stop()
    raise AssertionError("st.stop() does not return")


def person_panel(person: Person) -> None:
    """The sidebar's line saying who is logged in, with Log out."""
    line, out = st.columns([3, 2], vertical_alignment="center")
    line.caption(f":material/person: {theirs(person.name)}" + (" · admin" if is_admin(person) else ""))
    out.button("Log out", key="btn_logout", type="tertiary", on_click=st.logout)
