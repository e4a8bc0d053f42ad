"""A zip to download, made on a click and downloaded from a link: the Gallery's export and a board's zip.

Neither this server nor the page holds the zip whole (a download button keeps its whole file in memory). With
shared storage the zip is written beside the pictures and the link is a presigned URL; without, it is written
to the folder Streamlit serves as static files (``server.enableStaticServing``), which sends it from disk in
chunks, under a folder name nobody can guess."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import streamlit as st

from imagelab.export import EXPORT_KEEP_SECONDS, export_files, export_link
from imagelab.history.storage import url_lifetime
from imagelab.store import StorageError, Store

from . import state

__all__ = ["zip_button", "EXPORTS"]

# Served by Streamlit as static files, under the app's own folder.
EXPORTS = Path(__file__).resolve().parents[1] / "static" / "exports"


def zip_button(store: Store, records: Callable[[], list[dict[str, Any]]], *, what: Hashable, key: str,
               label: str, help: str, file_name: str, disabled: bool = False) -> None:
    """``label`` makes the zip of ``records()`` (``manifest_records``, ``board_records``); the link beside it
    downloads it while it lives. ``what`` names what was exported: a link made for something else (another
    selection) is not offered. Widget keys: ``btn_<key>`` and ``lnk_<key>``."""
    made_key = state.item(state.EXPORT_MADE, key)
    shared = store.shares_pictures
    where = "in the shared storage" if shared else "on this server"
    if st.button(label, key=f"btn_{key}", icon=":material/archive:", disabled=disabled,
                 help=f"{help}; made {where}, then downloaded from the link that appears"):
        try:
            with st.spinner("Making the zip…"):
                if shared:
                    links = [export_link(store, records(), file_name)]
                else:
                    links = [f"/app/static/exports/{path.parent.name}/{path.name}"
                             for path in export_files(store, records(), EXPORTS, file_name)]
        except StorageError as exc:
            st.error(exc.sentence)
        except OSError as exc:
            st.error(f"The zip could not be written on this server ({exc.strerror or exc}). Check that "
                     f"{EXPORTS} has space and can be written, then try again.")
        else:
            st.session_state[made_key] = (what, links, time.time())
    made = st.session_state.get(made_key)
    lives = url_lifetime() if shared else EXPORT_KEEP_SECONDS
    if not made or made[0] != what or time.time() - made[2] >= lives * 0.9:
        return
    links = made[1]
    for n, link in enumerate(links, start=1):
        name = "Download the zip" if len(links) == 1 else f"Download part {n} of {len(links)}"
        st.link_button(name, link, key=f"lnk_{key}" if n == 1 else f"lnk_{key}_{n}", icon=":material/download:",
                       type="primary", help=f"This link works for {lives // 60} minutes" +
                                            ("" if len(links) == 1 else "; parts of at most 190 MB each"))
