from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def open_page(path: str = "pages/1_Generate.py", timeout: float = 60) -> AppTest:
    """The app as a user opens it: from app.py, switched to the page (so page links resolve)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if path != "app.py":
        at.switch_page(path)
    return at
