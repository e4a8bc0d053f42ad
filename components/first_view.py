"""A session's first view: the prompt and the button first, the rest of the page once they are on screen.

A cold view is slow in the browser, not on the server: each kind of element brings its own script, and every
element takes rendering. When all of a page arrives at once, the prompt waits for the sidebar, the options and
the results to be loaded and drawn beside it. So a page that opts in draws, on the first run of a session, only
its title, prompt and button (``still_brief``), with a few lines of script that ask for the rest once nothing on the
page is still loading (``ask_for_the_rest``): that request reruns the page in full. If the script never runs,
it asks anyway after a few seconds, and any click or keystroke draws the whole page too.

Nothing is lost: a new session has no values yet, and the prompt and button are the same widgets in both views,
so what is typed meanwhile stays, and a click meanwhile runs (its rerun draws the whole form).
"""

from __future__ import annotations

import streamlit as st

from components import state

MARKER_KEY = "first_view"  # the button the script presses: ``.st-key-first_view`` in the page until the rest is drawn

# Waits until no element is a loading placeholder (each kind of element shows one while its own script
# loads), lets the browser paint that, then presses the hidden button, whose click reruns the page. Several
# seconds at the most. A few lines in the page, not a component: a component brings four scripts of its own
# and its file to a cold view, where a button and an HTML element are already loaded.
ASK_SCRIPT = """<script>(() => {
  let done = false;
  const ask = () => {
    const button = document.querySelector('.st-key-MARKER button');
    if (done || !button) return;
    done = true;
    button.click();
  };
  const look = () => {
    if (done) return;
    if (document.querySelector('[data-testid="stSkeleton"]')) requestAnimationFrame(look);
    else requestAnimationFrame(() => setTimeout(ask, 0));
  };
  look();
  setTimeout(ask, 4000);
})();</script>""".replace("MARKER", MARKER_KEY)


def begin() -> bool:
    """At the top of a page that draws a brief view, before the sidebar: whether this full run is the session's
    first view, to be drawn brief. The page decides what its brief view is (``still_brief`` inside its parts)."""
    first = not st.session_state.get(state.VIEW_SEEN)
    note_view()
    return first


def note_view() -> None:
    """Every page's full run: the session's first view has been drawn (by the sidebar, which every page draws)."""
    st.session_state[state.VIEW_SEEN] = True


def still_brief(brief: bool) -> bool:
    """Whether the part being drawn now belongs to the brief first view, given the page's decision in its last
    full run: a fragment's own rerun (a keystroke or a click while the rest is on its way) draws in full."""
    from components.runs.live import fragment_rerun  # the one place that asks

    return brief and not fragment_rerun()


def end(brief: bool) -> None:
    """At the end of a page's brief view: ask for the rest once it is on screen."""
    if brief:
        ask_for_the_rest()


def ask_for_the_rest() -> None:
    """The script that reruns the page once the brief view is on screen (in the sidebar, out of sight: the
    page's style hides ``first_view_box``)."""
    with st.sidebar, st.container(key="first_view_box"):
        st.button("Draw the rest of the page", key=MARKER_KEY)
        st.html(ASK_SCRIPT, unsafe_allow_javascript=True)
