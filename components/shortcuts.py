"""Keyboard: Ctrl+Enter (⌘+Enter on a Mac) runs each page's primary action; Tab goes from field to field.

Buttons take the shortcut through Streamlit's own ``st.button(shortcut=PRIMARY)``, which also shows it on
the button. A chat input has no such option, so ``chat_sends_on_ctrl_enter`` adds a few lines of script
(inline, in the page: nothing is fetched) that press its send button. ``help_icons_out_of_tab_order`` keeps the "?"
beside each label out of the Tab order (Generate alone had eleven between its fields), and a clicked one
lets go of the focus when the pointer leaves it, so its tip never stays over the next field.
"""

from __future__ import annotations

import streamlit as st

__all__ = ["PRIMARY", "HELP_ICONS", "chat_sends_on_ctrl_enter", "help_icons_out_of_tab_order"]

PRIMARY = "Ctrl+Enter"  # runs the page's primary action from anywhere on the page, the prompt included
# Streamlit's "?" beside a label, a title or a caption (its only buttons named so); a screen reader still finds them.
HELP_ICONS = 'button[aria-label="Help"], button[aria-label^="Help for "]'
HELP_BOX = "keyboard_help"  # the hidden places the scripts are drawn in (sidebar.PAGE_CSS hides them)
CHAT_BOX = "chat_shortcut"

# In the page itself, not an iframe: a listener left by an iframe that was redrawn (the sidebar filling in after
# a brief first view) went with it, while its flag kept the new one from listening: Ctrl+Enter then did nothing.
_CHAT_SCRIPT = """<script>(() => {
  if (window.__imagelabChatCtrlEnter) return;
  window.__imagelabChatCtrlEnter = true;
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey)) return;
    const chat = e.target.closest && e.target.closest('[data-testid="stChatInput"]');
    const send = (chat || document).querySelector('[data-testid="stChatInputSubmitButton"]');
    if (send && !send.disabled) { e.preventDefault(); send.click(); }
  }, true);
})();</script>"""


def chat_sends_on_ctrl_enter() -> None:
    """Ctrl/⌘+Enter sends the chat input's message, like Enter does (drawn, hidden, in the sidebar)."""
    with st.sidebar, st.container(key=CHAT_BOX):
        st.html(_CHAT_SCRIPT, unsafe_allow_javascript=True)


HELP_SCRIPT = """<script>(() => {
  if (window.__imagelabHelpKeys) return;
  window.__imagelabHelpKeys = true;
  const icons = 'ICONS';
  const calm = () => document.querySelectorAll(icons).forEach((b) => { if (b.tabIndex !== -1) b.tabIndex = -1; });
  calm();
  new MutationObserver(calm).observe(document.body, {childList: true, subtree: true});
  document.addEventListener('pointerout', (e) => {
    const icon = e.target.closest && e.target.closest(icons);
    if (icon && icon === document.activeElement && !icon.contains(e.relatedTarget)) icon.blur();
  }, true);
})();</script>""".replace("ICONS", HELP_ICONS)


def help_icons_out_of_tab_order() -> None:
    """Tab skips the help icons, on this page and the ones opened after it (drawn once a page, hidden)."""
    with st.sidebar, st.container(key=HELP_BOX):
        st.html(HELP_SCRIPT, unsafe_allow_javascript=True)
