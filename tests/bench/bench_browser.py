"""Speed a person feels: ImageLab beside a bare Streamlit page, in one Chromium, alternating.

Run: .venv/bin/python tests/bench/bench_browser.py [--rounds N] [--check] [--other NAME=CHECKOUT ...]

Both apps get their pictures from one offline backend run by this script (a request to it is
timed here, so "click → shown" can leave the backend's own time out): ImageLab reaches it as a
custom base URL; the bare page is a few lines written to a temporary folder that call the same
backend through the openai SDK and show the PNG with ``st.image`` on a click. Each round does,
for each app in turn: a cold load (a fresh browser context), a warm reload, a keystroke's
rerun, a generation (with, for ImageLab, the moment the run's card is in the window: the person sees
their click was taken); then ImageLab's Gallery (1,000 images seeded in its store) cold and warm.
Every figure is the median over the rounds; ratios are ImageLab over bare, taken in the same
run so that the shared machine's noise mostly cancels; ``--other`` measures more checkouts (the code
before a change, a variant) in the same rounds. ``figures()`` gives the rows to
``tests/bench/bench.py``; ``--check`` exits 1 when a target is missed. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import NO_SECRETS  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _wait_healthy, launch_app  # noqa: E402

# Why the form keeps its own watch of the runs it sends (components/runs/live.py, ``watch_sent``): measured with
# ``--other before=<the code before components/runs> --other nowatch=<the same, a click rerunning the whole page
# instead of watching>``, 3 rounds, medians, one run on the shared machine (2026-12-07):
#                                   with the watch   without it   before
#   click → the run's card in view        974 ms      2,544 ms    684 ms
#   click → picture, minus backend      1,329 ms      3,805 ms  1,311 ms
#   click → page idle again             2,918 ms      4,549 ms  4,746 ms
#   main-thread CPU per generation      2,998 ms      4,905 ms  4,604 ms
# Without it the card waits for a full redraw of the page: the watch stays, inside the live module.
# The watch then redrew the whole page 0.3 s after a run ended, for the finished card's actions and the sidebar's
# figures; the form now draws them itself (Streamlit 1.67 lets a fragment draw widgets in a place outside it),
# its picture first, alone, for PICTURES_FIRST (in one message with the actions the browser showed it later).
# 3 rounds, medians, ÷ the bare page in the same run (2026-12-07):
#                                   full redraw (ca3a287)   drawn by the form   and its picture first
#   click → page idle again               5.69×                 2.62×               2.87×
#   main-thread CPU per generation       10.53×                 5.27×               6.12×
#   click → picture, minus backend        1.74×                 1.99×               1.56×
# (5 rounds of the first two: idle 5.68× → 2.28×, CPU 10.52× → 5.04×, picture 1.33× → 2.20×.)
# Then (5 rounds, 2026-12-07, ÷ bare, before → after): the card of a run going drawn once and changed in place,
# where it was sent anew at each change: CPU 5.52× → 5.62×, idle 2.59× → 2.60× (no gain: the card's redraws were not
# where the browser's time goes); and the card the browser draws itself at the click (cards.py, _SENDING): the run's
# card in view 292 → 7 ms, the server's own card 292 → 334 ms. Taking every :has() rule out of the page's CSS saved
# 15 ms of CPU a generation, hiding the results below the fold (content-visibility) nothing: what is left is the
# browser drawing the form's rerun (about 60 elements, where the bare page has 3) and the finished card.
# Then (7 Dec 2026, a faster machine: the same code measured 4.0× CPU and 1.7× idle): Generate's button became a
# part of its own, so that a click no longer sends the form's ~60 elements again; as a run ends the sidebar draws
# only its spending and one Markdown element for the usage panels (six before); the finished card has one element
# fewer per picture. Measured against the code before, in the same rounds, CPU per generation and click → idle:
#   the button's part, 5 rounds:             571 → 510 ms,  659 → 614 ms
#   and the sidebar, 3 rounds:               501 → 392 ms,  660 → 508 ms (variants: no sidebar redraw at all
#                                            363 ms; no finished card 359 ms, against 450 ms)
#   all of it, 5 rounds, against the start:  454 → 464 ms,  585 → 575 ms
# The last run shows no gain: between runs the figures move by ±60 ms, as much as the changes were worth in the
# runs before. What the browser spends after a click is not in the elements a click sends.
# Then (7 Dec 2026): this watch measured each card at each change of the page, a forced layout each time (~40 ms of a
# generation, on ImageLab's side only); it now uses an IntersectionObserver. Alternating one generation each with
# the code before, 10 of each, medians: eight past runs beside the form → four, CPU 476 → 421 ms (none at all: no
# less than four); the estimate drawn by the form, not by a click, within the noise. All of it against the start of
# that day: CPU 414 → 398 ms, click → idle 550 → 520 ms (4 rounds of this script: CPU 4.99× → 4.80× the bare
# page). Cold view requests 131 → 116: the first view's asker is a script pressing a hidden button, not a component
# (−5); Compression is a number box, not a slider (−6); four past pictures, not eight (−4). The rest of the gap is
# the select box's own scripts (15 files, 8 of them its alone) and its kin: the form's design, not its drawing.

Row = tuple[str, float, float, str]  # (figure, value, target (inf: none), unit)
NO_TARGET = float("inf")
GALLERY_IMAGES = 1_000
PAGE_THUMBS = 24
QUIET_MS = 1_500  # the page counts as idle once no script has run for this long

BARE_PAGE = '''"""The floor: a prompt, a button, and the picture the offline backend sends, shown with st.image."""
import base64
import os

import streamlit as st
from openai import OpenAI


@st.cache_resource
def client():
    return OpenAI(base_url=os.environ["BENCH_BASE_URL"], api_key="sk-bare", max_retries=0)


prompt = st.text_area("Prompt", key="gen_prompt")
if st.button("Generate", key="btn_gen_run", type="primary"):
    answer = client().images.generate(model="gpt-image-2", prompt=prompt or "a picture", size="1024x1024",
                                      quality="low", n=1)
    st.image(base64.b64decode(answer.data[0].b64_json))
'''

# Loaded into each Streamlit process through PYTHONPATH: the start and end of every script run (a full one
# or a fragment's, with the post-run garbage collection), appended to BENCH_SCRIPT_LOG.
TIMING_HOOK = """import os, time
if os.environ.get("BENCH_SCRIPT_LOG"):
    from streamlit.runtime.scriptrunner import script_runner as _runner
    _run = _runner.ScriptRunner._run_script

    def _timed(self, rerun_data):
        start = time.time()
        try:
            return _run(self, rerun_data)
        finally:
            with open(os.environ["BENCH_SCRIPT_LOG"], "a") as log:
                log.write(f"{start:.6f} {time.time():.6f} {int(bool(rerun_data.fragment_id_queue))}\\n")

    _runner.ScriptRunner._run_script = _timed
"""


def script_runs(log: Path, since: float, until: float = float("inf")) -> list[tuple[float, float, bool]]:
    """(start, end, fragment only) of the script runs that began between ``since`` and ``until`` (epoch s)."""
    if not log.exists():
        return []
    runs = [(float(a), float(b), c == "1") for a, b, c in (line.split() for line in log.read_text().splitlines())]
    return [r for r in runs if since <= r[0] <= until]


# Every picture shown: the image elements, and the Gallery cards' thumbnails (Markdown images).
PICTURES = '[data-testid="stImage"] img, [class*="st-key-card_"] img'

# Watches the page from its first byte: when the prompt became usable, every change of the script's
# state (with the browser's clock), and when each picture finished loading.
WATCH = """(() => {
  const lab = window.__lab = {usable: null, states: [], loaded: {}, thumbsAt: null, cards: {}};
  const inView = new IntersectionObserver(entries => entries.forEach(e => {
    if (e.isIntersecting && !(e.target.__watchedCard in lab.cards)) lab.cards[e.target.__watchedCard] = Date.now();
  }));
  const look = (records) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (app) {
      // Every state the attribute passed through, even two changes between one callback and the next.
      const passed = (records || []).filter(r => r.target === app && r.attributeName === 'data-test-script-state')
        .map(r => r.oldValue).slice(1);
      for (const s of [...passed, app.getAttribute('data-test-script-state')]) {
        if (s !== lab.state) { lab.state = s; lab.states.push([s, Date.now()]); }
      }
    }
    if (lab.usable === null && window.__usable) {  // another page's first input (``View(usable=…)``)
      const first = document.querySelector(window.__usable);
      if (first && !first.disabled) lab.usable = performance.now();
    } else if (lab.usable === null) {
      const area = document.querySelector('.st-key-gen_prompt textarea');
      const button = document.querySelector('.st-key-btn_gen_run button');
      if (area && !area.disabled && button && !button.disabled) lab.usable = performance.now();
    }
    // A run's card (ImageLab's ``st-key-run_<id>…``), the first moment any of it is in the window: told by an
    // observer once the browser has laid the card out, where measuring each card at each change forced a layout
    // of the page each time (about 40 ms of a generation, all of it on ImageLab's side: the bare page has none).
    document.querySelectorAll('[class*="st-key-run_"]').forEach(card => {
      if (card.__watchedCard) return;
      const id = (card.className.match(/st-key-run_(\\d+)/) || [])[1];
      if (!id) return;
      card.__watchedCard = id;
      inView.observe(card);
    });
    // The card the browser draws itself the moment the button is pressed (components/runs/cards.py, _SENDING).
    const sending = document.querySelector('.il-sending');
    if (sending && sending.firstChild && !(('sending ' + sending.dataset.at) in lab.cards)) {
      const box = sending.getBoundingClientRect();
      if (box.bottom > 0 && box.top < window.innerHeight) lab.cards['sending ' + sending.dataset.at] = Date.now();
    }
    document.querySelectorAll(PICTURES).forEach(img => {
      if (img.__watched === img.src) return;
      img.__watched = img.src;
      const seen = () => {
        if (!(img.src in lab.loaded)) lab.loaded[img.src] = Date.now();
        const done = [...document.querySelectorAll(PICTURES)]
          .filter(i => i.complete && i.naturalWidth).length;
        if (lab.thumbsAt === null && done >= THUMBS) lab.thumbsAt = performance.now();
      };
      if (img.complete && img.naturalWidth) seen(); else img.addEventListener('load', seen, {once: true});
    });
  };
  addEventListener('scroll', () => look([]), true);  // a card scrolled into view changes nothing in the page
  new MutationObserver(look).observe(document, {subtree: true, childList: true, attributes: true,
    attributeOldValue: true, attributeFilter: ['data-test-script-state', 'disabled', 'src']});
})();""".replace("THUMBS", str(PAGE_THUMBS)).replace("PICTURES", repr(PICTURES))


# --- the shared backend, timed ------------------------------------------------------------------------

@dataclass
class TimedBackend:
    """The offline backend in a thread of this process, with the start and end of every request."""

    base_url: str = ""
    spans: list[tuple[str, float, float]] = field(default_factory=list)
    server: Any = None

    def answered_at(self, after: float, page: Any, timeout: float = 90.0) -> float:
        """When (epoch ms) the backend answered the first image request that began after ``after`` (epoch ms)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for path, start, end in list(self.spans):
                if "/images/" in path and start * 1000 >= after:
                    return end * 1000
            page.wait_for_timeout(20)
        raise RuntimeError("the backend saw no image request after the click")

    def generation_ms(self, after: float) -> float:
        """How long the backend spent on the first image request that began after ``after`` (epoch ms)."""
        for path, start, end in list(self.spans):
            if "/images/" in path and start * 1000 >= after:
                return (end - start) * 1000
        raise RuntimeError("the backend saw no image request after the click")


@contextmanager
def timed_backend() -> Iterator[TimedBackend]:
    from imagelab.offline import start_server

    backend = TimedBackend()

    def timed(inner: Any) -> Any:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            start = time.time()

            async def timed_send(message: Any) -> None:
                await send(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    backend.spans.append((scope["path"], start, time.time()))

            await inner(scope, receive, timed_send)

        return app

    server = start_server(wrap=timed)
    backend.base_url = server.base_url
    try:
        yield backend
    finally:
        server.stop()


@contextmanager
def bare_app(folder: Path, base_url: str, env_extra: dict[str, str]) -> Iterator[dict[str, Any]]:
    """``streamlit run`` of the bare page, with Streamlit's defaults (no config of ImageLab's)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bare.py").write_text(BARE_PAGE)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")} | {"BENCH_BASE_URL": base_url,
                                                                                  **env_extra}
    log_path = folder / "streamlit.log"
    with open(log_path, "wb") as log, subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "bare.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         "--secrets.files", str(NO_SECRETS)], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT) as proc:
        try:
            yield _wait_healthy(f"http://127.0.0.1:{port}", log_path)
        finally:
            proc.terminate()
            proc.wait(10)


def seed_gallery(data_dir: Path, count: int = GALLERY_IMAGES) -> None:
    """``count`` finished Generate runs of one image each, written the way the app writes them; the newest
    page of them are full-size pictures from the backend's renderer, the rest small ones."""
    from PIL import Image

    from imagelab.history import schema
    from imagelab.offline.render import render
    from imagelab.store import Store

    store = Store(data_dir)
    base = Image.new("RGB", (64, 64), (90, 120, 200))
    with store.database.write() as db:  # one transaction for a thousand rows
        for i in range(count):
            prompt = f"seeded picture {i}, a harbour at dusk"
            if i >= count - PAGE_THUMBS:
                data, size = render(prompt, 1024, 1024, output_format="png", quality="low", index=0), 1024
            else:
                buf = io.BytesIO()
                base.putpixel((i % 64, (i // 64) % 64), (i % 255, 0, 0))
                base.save(buf, "PNG", compress_level=1)
                data, size = buf.getvalue(), 64
            digest = store.write_bytes(data, "png")
            run_id = db.execute(schema.runs.insert().values(
                page="generate", model="gpt-image-2", prompt=prompt, params="{}", status="ok", requested=1,
                est_dollars=0.01, actual_dollars=0, started_at=1.7e9 + i, finished_at=1.7e9 + i + 3)
                .returning(schema.runs.c.id)).scalar_one()
            db.execute(schema.images.insert().values(run_id=run_id, idx=0, hash=digest, format="png", width=size,
                                                     height=size, bytes=len(data), created_at=1.7e9 + i + 3))


# --- one browser context's view -------------------------------------------------------------------------

class View:
    """A page in a fresh browser context with the network and the main thread watched over CDP."""

    def __init__(self, browser: Any, *, usable: str | None = None) -> None:
        """``usable``: the selector of the page's first input, when it is not Generate's prompt and button."""
        self.context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
        if usable is not None:
            self.context.add_init_script(f"window.__usable = {usable!r};")
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Network.enable")
        self.cdp.send("Performance.enable")
        self.requests = 0
        self.bytes = 0
        self.finished: list[tuple[str, str]] = []  # (request id, resource type) of what loaded
        self._types: dict[str, str] = {}
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.on("Network.webSocketFrameSent", self._frame)

    def _sent(self, ev: dict[str, Any]) -> None:
        self.requests += 1
        self._types[ev["requestId"]] = ev.get("type", "Other")

    def _finished(self, ev: dict[str, Any]) -> None:
        self.bytes += int(ev.get("encodedDataLength", 0))
        self.finished.append((ev["requestId"], self._types.get(ev["requestId"], "Other")))

    def _frame(self, ev: dict[str, Any]) -> None:
        frame = ev["response"]
        data = frame.get("payloadData", "")
        self.bytes += len(data) * 3 // 4 if frame.get("opcode") == 2 else len(data.encode())

    def reset_network(self) -> None:
        self.requests, self.bytes, self.finished = 0, 0, []

    def task_seconds(self) -> float:
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == "TaskDuration")

    def lab(self, expression: str) -> Any:
        return self.page.evaluate(f"() => window.__lab.{expression}")

    def static_bytes(self) -> tuple[int, int, int]:
        """(as sent, gzip -6, brotli -q 5) of the text files (document, scripts, styles) loaded so far."""
        import brotli

        sent = gz = br = 0
        for request_id, kind in self.finished:
            if kind not in ("Document", "Script", "Stylesheet"):
                continue
            try:
                body = self.cdp.send("Network.getResponseBody", {"requestId": request_id})
            except Exception:  # a body the browser already let go of
                continue
            data = base64.b64decode(body["body"]) if body.get("base64Encoded") else body["body"].encode()
            sent += len(data)
            gz += len(gzip.compress(data, 6))
            br += len(brotli.compress(data, quality=5))
        return sent, gz, br

    def close(self) -> None:
        self.context.close()

    # --- waits ---

    def wait_for(self, expression: str, timeout: float = 90.0) -> Any:
        self.page.wait_for_function(f"() => window.__lab && window.__lab.{expression}", timeout=timeout * 1000,
                                    polling=50)
        return self.lab(expression)

    def wait_quiet(self, timeout: float = 90.0) -> float:
        """Wait until no script has run for QUIET_MS; the browser's time (epoch ms) the last run ended."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            states = self.lab("states")
            if states and states[-1][0] == "notRunning" and time.time() * 1000 - states[-1][1] >= QUIET_MS:
                return float(states[-1][1])
            self.page.wait_for_timeout(100)
        raise RuntimeError("the page never settled")

    def set_prompt(self, text: str, log: Path) -> float:
        """Type a prompt and commit it (by leaving the field: Ctrl+Enter would run the page's primary action);
        the server's time (ms) for the script run(s) it caused."""
        area = self.page.locator(".st-key-gen_prompt textarea")
        area.fill(text)
        self.page.wait_for_timeout(300)
        pressed = time.time()
        area.blur()
        deadline = time.time() + 60
        while not script_runs(log, pressed):
            if time.time() > deadline:
                raise RuntimeError("typing in the prompt caused no script run")
            self.page.wait_for_timeout(50)
        self.wait_quiet()
        return sum(end - start for start, end, _ in script_runs(log, pressed)) * 1000


# --- the figures --------------------------------------------------------------------------------------

@dataclass
class Samples:
    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)

    def median(self, name: str) -> float:
        return statistics.median(self.values[name])


def measure_generate(browser: Any, url: str, log: Path, backend: TimedBackend, samples: Samples, who: str, i: int,
                     keep_static: dict[str, tuple[int, int, int]]) -> None:
    """Cold load, warm reload, a keystroke's rerun and one generation of ``who``'s Generate page."""
    view = View(browser)
    try:
        view.page.goto(url)
        samples.add(f"{who} cold", view.wait_for("usable"))
        view.wait_quiet()
        samples.add(f"{who} cold KB", view.bytes / 1024)
        samples.add(f"{who} cold requests", view.requests)
        if who not in keep_static:
            keep_static[who] = view.static_bytes()
        view.reset_network()
        view.page.reload()
        samples.add(f"{who} warm", view.wait_for("usable"))
        view.wait_quiet()
        samples.add(f"{who} typing", view.set_prompt(f"A lantern on a jetty at dusk, round {i}", log))
        shown_before = set(view.lab("loaded"))
        cards_before = set(view.page.evaluate(
            "() => [...document.querySelectorAll('[class*=\"st-key-run_\"]')]"
            ".map(c => (c.className.match(/st-key-run_(\\d+)/) || [])[1]).filter(Boolean)"))
        task_before = view.task_seconds()
        clicked = view.page.evaluate("() => { const t = Date.now(); "
                                     "document.querySelector('.st-key-btn_gen_run button').click(); return t; }")
        # the picture this click asked for: new to the page, and loaded after the backend answered the click
        answered = backend.answered_at(clicked, view.page)
        view.page.wait_for_function(
            "([before, after]) => Object.entries(window.__lab.loaded).some(([src, t]) => !before.includes(src) "
            "&& t >= after)", arg=[sorted(shown_before), answered], timeout=90_000, polling=20)
        shown = min(t for src, t in view.lab("loaded").items() if src not in shown_before and t >= answered)
        idle = view.wait_quiet()
        samples.add(f"{who} click→shown", shown - clicked - backend.generation_ms(clicked))
        samples.add(f"{who} click→idle", idle - clicked)
        if who != "bare":  # the bare page has no card: its button greys out while the script runs
            new_cards = {card: t for card, t in view.lab("cards").items() if card not in cards_before}
            samples.add(f"{who} click→card", min(new_cards.values()) - clicked if new_cards else float("nan"))
            served = [t for card, t in new_cards.items() if not card.startswith("sending")]
            samples.add(f"{who} click→served card", min(served) - clicked if served else float("nan"))
        samples.add(f"{who} cpu", (view.task_seconds() - task_before) * 1000)
        # Idle: nothing may run while the page just sits there.
        quiet_from = time.time()
        view.page.wait_for_timeout(5_000)
        samples.add(f"{who} idle runs", len(script_runs(log, quiet_from)))
    finally:
        view.close()


# The other pages a person starts from, each with the input they type into first. Generate draws a brief first
# view (prompt and button before the rest); these rows said the others needed one too: drawn in full, with the
# 1,000-picture history, Reference edit, Mask edit, Extend, Sweep and Conversation were 3.0, 4.2, 3.7, 2.1 and
# 4.3× the bare page (a busy machine); with their brief views 1.18, 1.20, 1.19, 1.21 and 1.17× (5 rounds, quiet).
FIRST_INPUTS = {"Reference edit": ("/Reference_edit", ".st-key-ref_prompt textarea"),
                "Mask edit": ("/Mask_edit", ".st-key-mask_prompt textarea"),
                "Extend": ("/Extend", ".st-key-ext_prompt textarea"),
                "Sweep": ("/Sweep", ".st-key-sweep_template textarea"),
                "Conversation": ("/Conversation", '[data-testid="stChatInput"] textarea')}


def measure_first_views(browser: Any, url: str, samples: Samples) -> None:
    """A cold load of each page in FIRST_INPUTS, in a fresh context: until its first input is usable (ms)."""
    for name, (path, selector) in FIRST_INPUTS.items():
        view = View(browser, usable=selector)
        try:
            view.page.goto(url + path)
            samples.add(f"first {name}", view.wait_for("usable"))
        finally:
            view.close()


def measure_gallery(browser: Any, url: str, samples: Samples) -> None:
    view = View(browser)
    try:
        view.page.goto(url + "/Gallery")
        samples.add("gallery cold", view.wait_for("thumbsAt"))
        view.wait_quiet()
        view.reset_network()
        view.page.reload()
        samples.add("gallery warm", view.wait_for("thumbsAt"))
        view.wait_quiet()
        samples.add("gallery warm KB", view.bytes / 1024)
    finally:
        view.close()


def run(rounds: int = 5, lab_args: list[str] | None = None,
        others: dict[str, Path] | None = None) -> tuple[list[Row], dict[str, tuple[int, int, int]]]:
    """``others``: more checkouts of ImageLab by name (the code before a change, a variant), measured in the
    same rounds (the same machine's load for all, so that a change's effect is not lost in the noise)."""
    from playwright.sync_api import sync_playwright

    samples = Samples()
    static: dict[str, tuple[int, int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp, timed_backend() as backend, ExitStack() as apps:
        hook = Path(tmp) / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(TIMING_HOOK)
        timing = {"PYTHONPATH": str(hook)}
        labs = {"lab": ROOT, **(others or {})}
        logs = {who: Path(tmp) / f"{who}-runs.log" for who in [*labs, "bare"]}
        urls: dict[str, str] = {}
        for who, root in labs.items():
            data = Path(tmp) / who
            data.mkdir()
            seed_gallery(data)
            env = {"OPENAI_BASE_URL": backend.base_url, "BENCH_SCRIPT_LOG": str(logs[who]), **timing}
            urls[who] = apps.enter_context(launch_app(data, env, lab_args, root=root))["url"]
        urls["bare"] = apps.enter_context(bare_app(Path(tmp) / "bare", backend.base_url,
                                                   {"BENCH_SCRIPT_LOG": str(logs["bare"]), **timing}))["url"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                pages = [(who, url if who == "bare" else url + "/Generate") for who, url in urls.items()]
                # One unmeasured pass each: Streamlit's first script run imports everything.
                for _, url in pages:
                    view = View(browser)
                    view.page.goto(url)
                    view.wait_for("usable")
                    view.close()
                warm_up = Samples()  # and each other page once, for its own first imports
                measure_first_views(browser, urls["lab"], warm_up)
                for i in range(rounds):
                    for who, url in pages if i % 2 == 0 else pages[::-1]:
                        measure_generate(browser, url, logs[who], backend, samples, who, i, static)
                    measure_gallery(browser, urls["lab"], samples)
                    measure_first_views(browser, urls["lab"], samples)
                    print(f"  round {i + 1} of {rounds} done", flush=True)
            finally:
                browser.close()
    return rows(samples), static


def rows(s: Samples) -> list[Row]:
    m = s.median
    out: list[Row] = []
    labs = [(who, "ImageLab" if who == "lab" else f"ImageLab {who}") for who in
            sorted({k.split(" ")[0] for k in s.values} - {"bare", "gallery", "first"}, key=lambda w: w != "lab")]
    for name, key, unit in [("cold load → prompt usable", "cold", "ms"), ("warm reload → prompt usable", "warm", "ms"),
                            ("click → picture shown, minus the backend's time", "click→shown", "ms"),
                            ("click → page idle again", "click→idle", "ms"),
                            ("bytes for a cold page view", "cold KB", "KB"),
                            ("requests for a cold page view", "cold requests", ""),
                            ("browser main-thread CPU per generation", "cpu", "ms"),
                            ("server time of the rerun after typing in the prompt", "typing", "ms")]:
        out.append((f"browser: {name}, bare", m(f"bare {key}"), NO_TARGET, unit))
        # the targets for a click and a cold view, against the bare page in the same run
        target = {"click→shown": 1.2, "cold": 1.25, "click→idle": 2.0, "cpu": 3.0, "cold requests": 1.3}.get(
            key, NO_TARGET)
        for who, lab in labs:
            out.append((f"browser: {name}, {lab}", m(f"{who} {key}"), NO_TARGET, unit))
            out.append((f"browser: {name}, {lab} / bare", m(f"{who} {key}") / max(m(f"bare {key}"), 1e-9),
                        target if who == "lab" else NO_TARGET, "×"))
    # The keystroke's rerun has an absolute target: ≤ 30 ms with 8 results shown.
    out = [(n, v, 30.0 if "typing" in n and n.endswith(", ImageLab") else t, u) for n, v, t, u in out]
    # The person sees their click was taken: the run's card is in the window (the one the browser draws at the
    # click, or the server's, whichever is first); the server's alone beside it.
    for who, lab in labs:
        out.append((f"browser: click → the run's card in view, {lab}", m(f"{who} click→card"),
                    100.0 if who == "lab" else NO_TARGET, "ms"))
        out.append((f"browser: click → the server's card of the run in view, {lab}", m(f"{who} click→served card"),
                    NO_TARGET, "ms"))
    out.append(("browser: Gallery, 1,000 images: cold load to all 24 thumbnails", m("gallery cold"), NO_TARGET, "ms"))
    out.append(("browser: Gallery, 1,000 images: warm view to all 24 thumbnails", m("gallery warm"), NO_TARGET, "ms"))
    out.append(("browser: Gallery warm view / Generate warm reload", m("gallery warm") / m("lab warm"), 1.3, "×"))
    out.append(("browser: Gallery warm view, bytes transferred", m("gallery warm KB"), 150, "KB"))
    out.append(("browser: script runs in 5 s on an idle page, ImageLab", max(s.values["lab idle runs"]), 0, ""))
    for name in FIRST_INPUTS:
        out.append((f"browser: cold load → {name}'s first input usable, ImageLab", m(f"first {name}"), NO_TARGET,
                    "ms"))
        out.append((f"browser: cold load → {name}'s first input usable, ImageLab / bare prompt",
                    m(f"first {name}") / max(m("bare cold"), 1e-9), 1.25, "×"))
    return out


def figures(rounds: int = 3) -> list[Row]:
    found, static = run(rounds)
    return found + static_rows(static)


def static_rows(static: dict[str, tuple[int, int, int]]) -> list[Row]:
    out: list[Row] = []
    for who, (sent, gz, br) in static.items():
        name = "ImageLab" if who == "lab" else ("bare" if who == "bare" else f"ImageLab {who}")
        out.append((f"cold view's HTML/JS/CSS, {name}: as Streamlit sends it", sent / 1024, NO_TARGET, "KB"))
        out.append((f"cold view's HTML/JS/CSS, {name}: gzip -6", gz / 1024, NO_TARGET, "KB"))
        out.append((f"cold view's HTML/JS/CSS, {name}: brotli -q 5", br / 1024, NO_TARGET, "KB"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (medians over these)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    parser.add_argument("--other", action="append", default=[], metavar="NAME=PATH",
                        help="another checkout of ImageLab to measure side by side (e.g. before=../old)")
    parser.add_argument("--post-script-gc", choices=["true", "false"],
                        help="run ImageLab with runner.postScriptGC set so (default: its .streamlit/config.toml)")
    args = parser.parse_args(argv)
    found, static = run(args.rounds, ["--runner.postScriptGC", args.post_script_gc] if args.post_script_gc else None,
                        {name: Path(path) for name, path in (o.split("=", 1) for o in args.other)})
    missed = 0
    for name, value, target, unit in found + static_rows(static):
        verdict = "—" if target == NO_TARGET else ("PASS" if value <= target else "MISS")
        missed += verdict == "MISS"
        shown = "" if target == NO_TARGET else f"target ≤ {target:g}"
        print(f"{name:<78} {value:>9.2f} {unit:<3} {shown:<14} {verdict}", flush=True)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
