"""The frame every page is drawn in, written once: the tab's title and icon, the shared sidebar before the
page, and the sidebar's tray and usage after it. A page file is its ``render(bar)`` and one ``show_page``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import streamlit as st

from . import sidebar
from .pages import ICON
from .sidebar import Sidebar

__all__ = ["Sidebar", "show_page"]


def show_page(title: str, render: Callable[[Sidebar], None], *, icon: str = ICON,
              brief_first_view: bool = False, connection_note: bool = True,
              sidebar_state: Literal["auto", "expanded", "collapsed"] = "auto") -> None:
    """Draw one page: configure the tab, draw the sidebar, ``render(bar)`` the page, then finish the sidebar.

    ``title`` names the tab ("Generate · ImageLab"; Home passes ""). ``brief_first_view`` and
    ``connection_note`` are handed to ``sidebar.draw_sidebar``. A page that stops (``st.stop()``, a missing
    history folder) leaves the sidebar unfinished, as it always has: the stop says why.
    """
    st.set_page_config(page_title=f"{title} · ImageLab" if title else "ImageLab", page_icon=icon, layout="wide",
                       initial_sidebar_state=sidebar_state)
    bar = sidebar.draw_sidebar(connection_note=connection_note, brief_first_view=brief_first_view)
    render(bar)
    bar.finish()
