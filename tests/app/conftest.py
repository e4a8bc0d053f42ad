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


def seed_run(data_dir: Path, prompt: str = "a seeded harbour") -> None:
    """One finished Generate run in ``data_dir``'s history, with one small picture."""
    from imagelab.offline.render import render
    from imagelab.store import Store

    store = Store(data_dir)
    run_id = store.start_run("generate", "gpt-image-2", prompt, {}, requested=1)
    store.add_image(run_id, 0, render(prompt, 64, 64, output_format="png", quality="low", index=0), "png", 64, 64)
    store.finish_run(run_id, "ok")


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


def as_read(markdown: str) -> str:
    """Markdown as a person reads it: escapes removed, and the fences (and an alert's emphasis) taken off each
    code span, the way components.untrusted quotes text ImageLab did not write."""
    import re

    unfenced = re.sub(r"\*?(?<!`)(`+) (.*?) \1(?!`)\*?", r"\2", markdown)
    return re.sub(r"\\(.)", r"\1", unfenced)


def shown(elements) -> list[str]:
    """The text of alert or markdown elements as a person reads it."""
    return [as_read(e.value) for e in elements]


_READ = {"markdown", "caption", "error", "warning", "info", "success", "text", "html"}


def page_text(node) -> str:
    """Everything a person reads under ``node`` (an AppTest, or a block such as ``at.main``), top to bottom:
    Markdown, captions and alerts as read, plain text, and the text of ImageLab's own HTML elements."""
    import html
    import re

    if isinstance(node, AppTest):
        return " ".join(page_text(part) for part in (node.main, node.sidebar))
    out: list[str] = []
    kind = getattr(node, "type", None)
    if kind in _READ:
        value = str(getattr(node, "value", "") or "")
        out.append(html.unescape(re.sub(r"<[^>]+>", "", value)) if kind == "html" else
                   value if kind == "text" else as_read(value))
    for child in getattr(node, "children", {}).values():
        out.append(page_text(child))
    return " ".join(x for x in out if x)
