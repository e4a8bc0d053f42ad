"""Keyboard: Ctrl+Enter (⌘+Enter on a Mac) runs each page's primary action.

Buttons take it through Streamlit's own ``st.button(shortcut=PRIMARY)``, which also shows it on the
button. A chat input has no such option, so ``chat_sends_on_ctrl_enter`` adds a few lines of script
(inline: nothing is fetched) that press its send button.
"""

from __future__ import annotations

import streamlit as st

__all__ = ["PRIMARY", "chat_sends_on_ctrl_enter"]

PRIMARY = "Ctrl+Enter"  # runs the page's primary action from anywhere on the page, the prompt included

_CHAT_SCRIPT = """<script>
const host = window.parent;
if (!host.__imagelabChatCtrlEnter) {
  host.__imagelabChatCtrlEnter = true;
  host.document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
    const chat = e.target.closest && e.target.closest('[data-testid="stChatInput"]');
    const send = (chat || host.document).querySelector('[data-testid="stChatInputSubmitButton"]');
    if (send && !send.disabled) { e.preventDefault(); send.click(); }
  }, true);
}
</script>"""


def chat_sends_on_ctrl_enter() -> None:
    """Ctrl/⌘+Enter sends the chat input's message, like Enter does (drawn at the sidebar's foot)."""
    with st.sidebar, st.container(key="chat_shortcut", height=1, border=False):
        st.iframe(_CHAT_SCRIPT, height=1)
