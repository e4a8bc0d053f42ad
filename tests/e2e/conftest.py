"""A real ImageLab in a real Chromium: starts `streamlit run` on a free port and drives it with Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import NO_SECRETS

ROOT = Path(__file__).resolve().parents[2]
# Test output goes to an ignored folder; scripts/screenshots.sh points this at docs/screenshots.
SCREENSHOTS = Path(os.environ.get("IMAGELAB_SCREENSHOTS") or ROOT / "tests" / "artifacts" / "screenshots")
ARTIFACTS = ROOT / "tests" / "artifacts"
BASELINES = Path(__file__).resolve().parent / "baselines"
UPDATE_BASELINES = os.environ.get("IMAGELAB_UPDATE_BASELINES") == "1"
# A pixel differs when one channel moves by more than this (fonts and antialiasing move a little) ...
PIXEL_TOLERANCE = 48
# ... and a screen matches its baseline while at most this share of its pixels differ.
SHARE_TOLERANCE = 0.003
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = ('[data-testid="stApp"][data-test-script-state="notRunning"]'
        '[data-test-connection-state="CONNECTED"]')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def launch_app(data: Path, env_extra: dict[str, str] | None = None, args: list[str] | None = None, *,
               port: int | None = None, secrets: Path | None = None, root: Path = ROOT):
    """``streamlit run app.py`` on a free port (or ``port``) with its own data directory and no secrets file
    but ``secrets`` (a developer's ~/.streamlit or .streamlit/secrets.toml is never read); yields where it
    is (and its process id, for tests that kill it). ``root``: another checkout of ImageLab to run (a benchmark's
    "before")."""
    port = port or _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["IMAGELAB_DATA_DIR"] = str(data)
    env.update(env_extra or {})
    data.mkdir(parents=True, exist_ok=True)
    log_path = data / "streamlit.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log, subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--secrets.files", str(secrets or NO_SECRETS), *(args or [])],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT) as proc:
        try:
            yield _wait_healthy(url, log_path) | {"data_dir": data, "log": log_path, "pid": proc.pid}
        finally:
            proc.terminate()
            proc.wait(10)


def _wait_healthy(url: str, log_path: Path) -> dict:
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return {"url": url}
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not start: " + log_path.read_text())


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("e2e-data")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/test.sh installs it with apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    # the window the README's screenshots show (and the larger of the two sizes designers check)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    pg = context.new_page()
    yield pg
    context.close()


def open_from_gallery(page, url, image_id, action):
    """Open a picture's details in the Gallery and hand it to another page with its ``action`` button
    (``mask``: Mask edit, ``ext``: Extend); returns once that page is idle."""
    page.goto(url + "/Gallery")
    wait_idle(page)
    page.locator(f".st-key-btn_gallery_detail_{image_id} button").first.click()
    wait_idle(page)
    page.locator(f".st-key-btn_detail_{action}_{image_id} button").first.click()
    page.wait_for_url("**/Mask_edit*" if action == "mask" else "**/Extend*")
    wait_idle(page)


def mask_canvas(page):
    """The mask canvas's drawing layer (in the component's open shadow DOM), once it is shown."""
    canvas = page.locator(".stBidiComponent canvas.upper-canvas")
    canvas.wait_for(state="visible", timeout=30_000)
    return canvas


def paint_stroke(page, canvas):
    """A person's stroke across the top of the picture on the mask canvas (from 30 % to 70 % of its width)."""
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.15)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(box["x"] + box["width"] * (0.3 + 0.02 * i), box["y"] + box["height"] * 0.15, steps=2)
    page.mouse.up()
    wait_idle(page)


def wait_idle(page, timeout=60_000):
    page.wait_for_selector(IDLE, timeout=timeout)
    # A session's brief first view asks for the rest of the page as soon as it is shown: wait for the rest.
    page.wait_for_function("() => !document.querySelector('.st-key-first_view_box')", timeout=timeout)
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout)


def screenshot(page, name: str, *, baseline: bool = False, mask=(), clip: dict | None = None) -> Path:
    """Save what the browser shows as ``name``.png; with ``baseline``, also compare it with the committed
    tests/e2e/baselines/``name``.png and fail (writing a diff image beside it) past the tolerance.

    For the comparison only: ``mask`` paints over what changes from run to run (a run's seconds) in one
    colour, and ``clip`` (x, y, width, height) keeps the part of the window that other tests leave alone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if baseline:
        compared = path
        if mask or clip is not None:
            compared = ARTIFACTS / "compared" / f"{name}.png"
            compared.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(compared), full_page=False, mask=list(mask), clip=clip)
        assert_matches_baseline(compared, BASELINES / f"{name}.png")
    return path


def assert_matches_baseline(shot: Path, baseline: Path) -> None:
    if UPDATE_BASELINES:
        baseline.parent.mkdir(parents=True, exist_ok=True)
        baseline.write_bytes(shot.read_bytes())
        return
    assert baseline.exists(), f"no baseline {baseline.name}: bash scripts/screenshots.sh makes it"
    with Image.open(shot) as a, Image.open(baseline) as b:
        got, want = np.asarray(a.convert("RGB"), np.int16), np.asarray(b.convert("RGB"), np.int16)
    assert got.shape == want.shape, f"{shot.name}: size {got.shape[1::-1]}, baseline {want.shape[1::-1]}"
    differs = (np.abs(got - want).max(axis=-1) > PIXEL_TOLERANCE)
    share = float(differs.mean())
    if share > SHARE_TOLERANCE:
        diff = np.zeros_like(got, dtype=np.uint8)
        diff[...] = (got // 3).astype(np.uint8)  # the screen, dimmed ...
        diff[differs] = (255, 0, 255)  # ... with every differing pixel in magenta
        diff_path = ARTIFACTS / "diffs" / f"{shot.stem}-diff.png"
        diff_path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(diff).save(diff_path)
        raise AssertionError(f"{shot.name} differs from its baseline in {share:.2%} of its pixels "
                             f"(tolerance {SHARE_TOLERANCE:.1%}); see {diff_path}")


def cut_words(page, within: str) -> list[str]:
    """The words inside ``within`` that the browser cuts short (a label, a value or a placeholder wider than its
    box: "Choose optio", "St…"), as a person would read them whole or not; a chosen value that ends in an
    ellipsis reads as shortened, not as cut."""
    return page.locator(within).first.evaluate("""root => {
        const ctx = document.createElement('canvas').getContext('2d');
        const cut = [];
        for (const e of root.querySelectorAll('*')) {
            const style = getComputedStyle(e);
            if (e.tagName === 'INPUT' && !['checkbox', 'radio', 'range', 'hidden'].includes(e.type)
                && (e.placeholder || e.value)) {
                ctx.font = style.font;
                const room = e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                const words = e.value || e.placeholder;
                const ends = e.value && style.textOverflow === 'ellipsis';
                if (ctx.measureText(words).width > room + 1 && !ends) cut.push(words);
            } else if (style.overflow !== 'visible' && e.textContent.trim() && e.scrollWidth > e.clientWidth + 1) {
                cut.push(e.textContent.trim());
            }
        }
        return cut;
    }""")


GALLERY_FILTERS = '[data-testid="stHorizontalBlock"]:has(.st-key-gallery_text)'  # the Gallery's row of filters


def record_sending(page) -> None:
    """From now on, note every text the card the browser draws at a click (``.il-sending``) shows."""
    page.evaluate("""() => { window.__sending = [];
      new MutationObserver(() => { const box = document.querySelector('.il-sending');
        const text = box ? box.innerText.trim() : '';
        if (text && window.__sending[window.__sending.length - 1] !== text) window.__sending.push(text); })
      .observe(document.body, {subtree: true, childList: true, characterData: true}); }""")


def sending_seen(page) -> list[str]:
    """What the card drawn at a click showed since ``record_sending``, its words on one line each time."""
    return [" ".join(text.split()) for text in page.evaluate("window.__sending")]


def type_into(page, key: str, text: str) -> None:
    """Type into a text area by its widget key and let the app rerun with the new value."""
    area = page.locator(f".st-key-{key} textarea")
    area.fill(text)
    area.blur()  # commits the text; Ctrl+Enter would also press the page's primary button
    page.wait_for_timeout(300)
    wait_idle(page)


def wait_until(predicate, timeout: float = 60.0, what: str = "the app"):
    """Poll ``predicate`` (e.g. a look at the store) until it returns something truthy."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
