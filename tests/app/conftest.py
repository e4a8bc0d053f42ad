from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_page(path: str = "pages/1_Generate.py", timeout: float = 60, *, first_view: bool = False) -> AppTest:
    """The app as a user opens it: from app.py, switched to the page (so page links resolve).

    In a browser, a session's first view of Generate is brief (the prompt and button) and a script in the page
    asks for the rest at once; AppTest runs no script, so by default the session starts past that first view.
    ``first_view=True`` keeps it, for the tests of that view."""
    from components import state

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if path != "app.py":
        at.switch_page(path)
    if not first_view:
        at.session_state[state.VIEW_SEEN] = True
    return at


def settle(at: AppTest, data_dir: Path | None = None, timeout: float = 60) -> AppTest:
    """Wait until the run engine has finished every run in ``data_dir``, then rerun the page.

    Clicking Generate only submits the run; the engine's workers finish it in the background.
    """
    import time

    from imagelab.store import Store, default_data_dir

    store = Store(data_dir or default_data_dir())
    deadline = time.monotonic() + timeout
    while store.unfinished_runs():
        if time.monotonic() > deadline:
            raise AssertionError(f"runs still unfinished after {timeout} s: {store.unfinished_runs()}")
        time.sleep(0.05)
    return at.run()


def shown(elements) -> list[str]:
    """The text of alert or markdown elements as a person reads it (markdown escapes removed)."""
    import re

    return [re.sub(r"\\(.)", r"\1", e.value) for e in elements]
