"""Keyboard: Ctrl+Enter (⌘+Enter on a Mac) presses the page's primary button, from anywhere on the page.

``streamlit-shortcuts`` listens on the page and clicks the button whose widget key it is given; its
script is inline, so nothing is fetched. A text area that has focus commits what was typed first.
"""

from __future__ import annotations

import streamlit as st
from streamlit_shortcuts import add_shortcuts

__all__ = ["primary_shortcut", "SHORTCUT_HINT"]

SHORTCUT_HINT = "Ctrl+Enter (⌘+Enter on a Mac)"


def primary_shortcut(button_key: str) -> None:
    """Bind Ctrl/⌘+Enter to the button with ``button_key``. Drawn in the sidebar's foot, out of the layout."""
    with st.sidebar:
        add_shortcuts(**{button_key: ["ctrl+enter", "meta+enter"]})
