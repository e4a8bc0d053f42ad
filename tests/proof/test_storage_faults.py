"""A history folder (or a team's database) that cannot be used: every page says so in one sentence,
nothing typed is lost.

The failure is injected where the operating system would raise it: SQLite's connection
answers as it does for a read-only folder or a full disk; a PostgreSQL URL names a port where
no server listens.
"""

import contextlib
import os
import socket
import subprocess

import pytest

from components import state
from imagelab.store import Store
from tests.app.conftest import open_page, settle, shown
from tests.services.postgres import TEST_PASSWORD
from tests.sqlite_faults import failing_sqlite

PAGES = ["app.py", "pages/1_Generate.py", "pages/2_Reference_edit.py", "pages/3_Mask_edit.py",
         "pages/4_Conversation.py", "pages/5_Sweep.py", "pages/6_Gallery.py", "pages/7_Compare.py",
         "pages/8_Present.py"]


@pytest.mark.parametrize("page", PAGES)
def test_an_unreadable_history_is_one_sentence_on_every_page(data_dir, monkeypatch, page):
    Store(data_dir)  # the folder exists; from now on its database cannot be opened
    failing_sqlite(monkeypatch, "unable to open database file")
    at = open_page(page).run()
    assert not at.exception, at.exception
    errors = shown(at.error)
    assert any(f"ImageLab cannot use its history folder {data_dir}" in e for e in errors), errors


@pytest.mark.parametrize("page", PAGES)
def test_an_unreachable_team_database_is_one_sentence_on_every_page(data_dir, monkeypatch, page):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("IMAGELAB_DATABASE_URL", f"postgresql://team:{TEST_PASSWORD}@127.0.0.1:{port}/imagelab")
    at = open_page(page).run()
    assert not at.exception, at.exception
    errors = shown(at.error)
    assert any(f"ImageLab cannot reach its database at 127.0.0.1:{port}" in e for e in errors), errors
    assert not any(TEST_PASSWORD in e for e in errors)


def test_a_read_only_history_sends_nothing_and_keeps_the_prompt(data_dir, monkeypatch):
    Store(data_dir)
    at = open_page().run()
    at.text_area(key=state.GEN_PROMPT).input("a lighthouse in the rain").run()
    failing_sqlite(monkeypatch, "attempt to write a readonly database", writes_only=True)
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception, at.exception
    errors = shown(at.error)
    assert any("Nothing was sent" in e and "Make the folder writable" in e for e in errors), errors
    assert at.text_area(key=state.GEN_PROMPT).value == "a lighthouse in the rain"
    monkeypatch.undo()
    settle(at, data_dir)
    assert Store(data_dir).runs() == []  # nothing half-written once the folder is back


@contextlib.contextmanager
def read_only(folder):
    """The folder made read-only for real: ``chattr +i`` for root (whom permissions do not stop), else mode 0o500."""
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("this file system cannot make a folder read-only for root (chattr +i)")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)


def as_the_forms_own_rerun(monkeypatch):
    """Make the page's parts that ask see a rerun of the Generate form alone (a keystroke or a click in it), as the
    browser sends; AppTest itself only runs whole pages."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    class FormRerun:
        fragment_ids_this_run = ["request_form"]

        def __getattr__(self, name):
            return getattr(get_script_run_ctx(), name)

    monkeypatch.setattr("components.runs.live.get_script_run_ctx", lambda *a, **k: FormRerun())


def _click_generate_in_the_forms_own_rerun(monkeypatch):
    at = open_page().run()
    at.text_area(key=state.GEN_PROMPT).input("a lighthouse in the rain")
    as_the_forms_own_rerun(monkeypatch)
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception, at.exception
    errors = shown(at.error)
    assert any(e.startswith("Nothing was sent. ImageLab cannot use its history folder") for e in errors), errors
    assert at.text_area(key=state.GEN_PROMPT).value == "a lighthouse in the rain"


def test_a_read_only_folder_is_a_sentence_in_the_forms_own_rerun(data_dir, monkeypatch):
    Store(data_dir)
    with read_only(data_dir):
        _click_generate_in_the_forms_own_rerun(monkeypatch)


def test_a_folder_that_cannot_be_made_is_a_sentence_in_the_forms_own_rerun(tmp_path, monkeypatch):
    """The same fault wherever ``chattr`` is missing: the data folder's parent is a file."""
    (tmp_path / "a file").write_text("not a folder")
    monkeypatch.setenv("IMAGELAB_DATA_DIR", str(tmp_path / "a file" / "data"))
    _click_generate_in_the_forms_own_rerun(monkeypatch)
