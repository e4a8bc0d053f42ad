"""The frame every page is drawn in, written once: the tab's title and icon, the shared sidebar before the
page, and the sidebar's tray and usage after it. A page file is its ``render(bar)`` and one ``show_page``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import streamlit as st

from . import first_view, sidebar
from .pages import ICON
from .sidebar import Sidebar

__all__ = ["Sidebar", "show_page", "show_page_with_first_view"]


def show_page(title: str, render: Callable[[Sidebar], None], *, icon: str = ICON, connection_note: bool = True,
              sidebar_state: Literal["auto", "expanded", "collapsed"] = "auto") -> None:
    """Draw one page: configure the tab, draw the sidebar, ``render(bar)`` the page, then finish the sidebar.

    ``title`` names the tab ("Generate · ImageLab"; Home passes ""). ``connection_note`` is handed to
    ``sidebar.draw_sidebar``. A page that stops (``st.stop()``, a missing history folder) leaves the sidebar
    unfinished, as it always has: the stop says why.
    """
    _configure(title, icon, sidebar_state)
    bar = sidebar.draw_sidebar(connection_note=connection_note)
    render(bar)
    bar.finish()


def show_page_with_first_view(title: str, render: Callable[[Sidebar, bool], None], *, icon: str = ICON) -> None:
    """Draw a page that has a brief first view (``components/first_view.py``): the page is told whether this
    run is the session's first (``render(bar, brief)``), the sidebar then draws only the estimate's place, and
    the rest is asked for once the brief view is on screen."""
    _configure(title, icon, "auto")
    brief = first_view.begin()
    bar = sidebar.draw_sidebar(estimate_only=brief)
    render(bar, brief)
    bar.finish()
    first_view.end(brief)


def _configure(title: str, icon: str, sidebar_state: Literal["auto", "expanded", "collapsed"]) -> None:
    st.set_page_config(page_title=f"{title} · ImageLab" if title else "ImageLab", page_icon=icon, layout="wide",
                       initial_sidebar_state=sidebar_state)
