"""Text ImageLab did not write, driven through every path that shows it, in a real browser.

A server's words, a file's name, a template's value and a settings file's fields each carry the same
payload: a Markdown link, a Markdown image, an HTML tag with a script, a colour directive and a bare
URL. On every page that shows them, the page must hold no link or picture pointing off the page, run
no script, colour nothing, and the browser must ask nothing of the payload's address.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imagelab.export import embed_metadata
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import launch_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

# 127.0.0.1:9 is the discard port: nothing answers there, and a request to it is what the test listens for.
REMOTE = "127.0.0.1:9"
PAYLOADS = ["[x](http://127.0.0.1:9/p)", "![t](http://127.0.0.1:9/t.png)", "<img src=x onerror=window.__pwned=1>",
            ":red[colour]", "http://127.0.0.1:9/bare"]
PAYLOAD = " ".join(PAYLOADS)
# Stored text may also hold backticks (to close a code span early) and blank lines (to end a paragraph).
STORED = PAYLOAD + " ``[y](http://127.0.0.1:9/q)`` `\n\n- [z](http://127.0.0.1:9/z)\n# ![u](http://127.0.0.1:9/u.png)"

# Everything that leaves the page: links and pictures not served by ImageLab itself, a script that ran,
# colour a directive made, and the directive's own text (shown as typed, it is there to read).
_LOOK = """() => {
  const here = location.origin;
  const off = (url) => url && !url.startsWith(here) && !url.startsWith('data:') && !url.startsWith('blob:');
  const resolved = (h) => { try { return new URL(h, location.href).href; } catch (e) { return h; } };
  const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
      .filter(h => !h.startsWith('#') && off(resolved(h)));
  const images = [...document.querySelectorAll('img[src]')].map(i => i.src).filter(off);
  const coloured = [...document.querySelectorAll('.stMarkdownColoredText, .stMarkdownColoredBackground')]
      .map(e => e.textContent).filter(t => t.includes('colour'));
  return {links, images, coloured, pwned: window.__pwned !== undefined, text: document.body.innerText};
}"""


def _inert(page, requests: list[str], where: str, *, shown: tuple[str, ...] = (":red[colour]",)) -> None:
    page.wait_for_timeout(500)  # a picture's request leaves as soon as its element is drawn
    seen = page.evaluate(_LOOK)
    problems = []
    if seen["links"]:
        problems.append(f"links off the page {seen['links']}")
    if seen["images"]:
        problems.append(f"pictures off the page {seen['images']}")
    if seen["coloured"]:
        problems.append(f"coloured text {seen['coloured']}")
    if seen["pwned"]:
        problems.append("a script from the payload ran")
    if requests:
        problems.append(f"the browser asked {sorted(set(requests))}")
    missing = [s for s in shown if s not in seen["text"]]
    if missing:
        problems.append(f"not shown as typed: {missing}")
    assert not problems, f"{where}: " + "; ".join(problems)


def _hover_help(page, scope: str) -> None:
    """Open every help tooltip under ``scope``: a tooltip is Markdown too, drawn only when hovered."""
    icons = page.locator(f'{scope} [data-testid="stTooltipIcon"] [data-testid="stTooltipHoverTarget"]')
    for i in range(icons.count()):
        icons.nth(i).scroll_into_view_if_needed()
        icons.nth(i).hover(force=True)
        page.wait_for_timeout(400)
        page.mouse.move(0, 0)


def _png(color=(40, 90, 160)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buf, "PNG")
    return buf.getvalue()


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("P", (64, 64), 3).save(buf, "GIF")
    return buf.getvalue()


def seed(data_dir) -> dict:
    store = Store(data_dir)
    params = {"prompt": STORED, "model": "gpt-image-2", "size": "1024x1024", "quality": "low", "n": 1,
              "output_format": "png", "background": "auto", "moderation": "auto", "output_compression": 100,
              "partial_images": 0}
    # Generate: a failed run (the API's error and request id) and one that made a picture (its revised prompt)
    failed = store.start_run("generate", "gpt-image-2", STORED, params, {"dollars": 0.01}, requested=1)
    store.finish_run(failed, "failed", error=f"The request failed: {STORED}", request_id=f"req_1 {STORED}")
    made = store.start_run("generate", "gpt-image-2", STORED, params, {"dollars": 0.01}, requested=1)
    rec = store.add_image(made, 0, render("a bottle", 256, 256, quality="low", index=0), "png", 256, 256,
                          revised_prompt=f"Revised: {STORED}")
    store.finish_run(made, "ok", actual_dollars=0.01, usage={"total_tokens": 300}, request_id=f"req_2 {STORED}")
    # Compare: beside a plain picture, the prompt row differs and shows the payload in a table cell
    plain = store.start_run("generate", "gpt-image-2", "a plain lamp", {**params, "prompt": "a plain lamp"},
                            {"dollars": 0.01}, requested=1)
    other = store.add_image(plain, 0, render("a plain lamp", 256, 256, quality="low", index=1), "png", 256, 256)
    store.finish_run(plain, "ok", actual_dollars=0.01, usage={"total_tokens": 300})
    # Sweep: a cell labelled with a template value, its error, and the Batch API's line error
    group = "payload-sweep"
    cells = store.start_runs([
        {"page": "sweep", "model": "gpt-image-2", "prompt": f"a cat {value}", "params": params,
         "status": "queued", "requested": 1, "group_id": group, "label": f"style={value}"}
        for value in (PAYLOADS[0], PAYLOADS[3])])
    store.finish_run(cells[0], "failed", error=f"Batch line failed: {STORED}")
    store.finish_run(cells[1], "cancelled")
    batch = store.add_batch(group, "/v1/images/generations", "offline", cells)
    store.update_batch(batch, status="in_progress", error=f"Line 1: {STORED}", total=2)
    # Conversation: what the person asked, the model's reply, its revised prompt, a failed turn and a note
    conv = store.new_conversation(STORED)
    first = store.add_turn(conv, parent_id=None, run_id=None, prompt=STORED, attachments=[], status="ok",
                           reply=f"Reply: {STORED}", revised_prompt=f"Revised: {STORED}",
                           response_id=f"resp_{STORED}", note=f"Note: {STORED}")
    store.add_turn(conv, parent_id=first, run_id=None, prompt=f"Again {STORED}", attachments=[], status="failed",
                   error=f"The request failed: {STORED}")
    # The prompt library: a saved entry's title, tags and text
    store.save_prompt(STORED, f"Saved text {STORED}", [PAYLOADS[0], PAYLOADS[3]], source=STORED)
    return {"image": rec, "other": other}


@pytest.fixture(scope="module")
def seeded_app(tmp_path_factory):
    data = tmp_path_factory.mktemp("untrusted-data")
    facts = seed(data)
    with launch_app(data) as server:
        yield server | facts


@pytest.fixture
def watched(page):
    """The page, and every request it makes to the payload's address."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if REMOTE in r.url else None)
    return page, asked


def test_run_cards_show_prompts_errors_and_request_ids_as_text(seeded_app, watched):
    page, asked = watched
    page.goto(seeded_app["url"] + "/Generate")
    wait_idle(page)
    page.locator('[class*="st-key-run_"]').first.wait_for()
    _hover_help(page, '[class*="st-key-run_"]')
    _inert(page, asked, "Generate's run cards", shown=(":red[colour]", "[x](http://127.0.0.1:9/p)", "req_1"))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.locator('[class*="st-key-run_"]', has_text="The request failed").first.scroll_into_view_if_needed()
    screenshot(page, "untrusted_run_cards")


def test_gallery_cards_and_detail_show_prompts_and_request_ids_as_text(seeded_app, watched):
    page, asked = watched
    page.goto(seeded_app["url"] + "/Gallery")
    wait_idle(page)
    _inert(page, asked, "the Gallery's cards")
    page.locator(f'.st-key-btn_gallery_detail_{seeded_app["image"].id} button').first.click()
    wait_idle(page)
    page.get_by_text("req_2", exact=False).first.wait_for()
    _inert(page, asked, "the Gallery's detail", shown=(":red[colour]", "Revised: [x]", "req_2"))
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, "untrusted_gallery_detail")


def _sweep_page(page, url: str) -> None:
    """The Sweep page, drawn: while the seeded batch is active its fragment keeps waiting for news, so the
    page is seldom idle; what it shows is waited for instead."""
    page.goto(url + "/Sweep")
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]')
    page.get_by_text("Batch line failed", exact=False).first.wait_for()


def test_compare_shows_differing_prompts_as_text(seeded_app, watched):
    page, asked = watched
    page.goto(seeded_app["url"] + "/Gallery")
    wait_idle(page)
    for rec in (seeded_app["image"], seeded_app["other"]):
        page.locator(f".st-key-gallery_sel_{rec.id} label").click()
        wait_idle(page)
    page.locator(".st-key-btn_gallery_compare button").first.click()
    page.wait_for_url("**/Compare*")
    wait_idle(page)
    page.get_by_text("a plain lamp", exact=False).first.wait_for()
    _inert(page, asked, "Compare's table", shown=("[x](http://127.0.0.1:9/p)",))  # cut short before :red[


def test_sweep_grid_shows_labels_and_batch_errors_as_text(seeded_app, watched):
    page, asked = watched
    _sweep_page(page, seeded_app["url"])
    _inert(page, asked, "the Sweep grid", shown=(":red[colour]", "Line 1: [x]", "style=[x](http://127.0.0.1:9/p)"))


def test_conversation_shows_prompts_replies_and_errors_as_text(seeded_app, watched):
    page, asked = watched
    page.goto(seeded_app["url"] + "/Conversation")
    wait_idle(page)
    page.get_by_text("Reply:", exact=False).first.wait_for()
    for details in page.get_by_text("Details", exact=True).all():
        details.click()
    page.wait_for_timeout(300)
    _inert(page, asked, "the Conversation", shown=(":red[colour]", "Reply: [x]", "Revised: [x]", "Note: [x]"))


def test_prompt_library_shows_saved_entries_as_text(seeded_app, watched):
    page, asked = watched
    page.goto(seeded_app["url"] + "/Generate")
    wait_idle(page)
    page.get_by_text("Prompt tools: improve", exact=False).click()
    wait_idle(page)
    page.get_by_role("tab", name="Library").click()
    page.get_by_text("Saved text", exact=False).first.wait_for()
    _inert(page, asked, "the prompt library", shown=(":red[colour]", "Saved text [x]"))


def test_uploads_name_files_as_text(seeded_app, watched):
    page, asked = watched
    page.goto(seeded_app["url"] + "/Reference_edit")
    wait_idle(page)
    uploader = page.locator('[class*="st-key-upl_ref_"] input[type=file]')
    # A file named with the payload that is no picture: refused by its name
    uploader.set_input_files(files=[{"name": f"{PAYLOAD}.png", "mimeType": "image/png", "buffer": b"not a picture"}])
    page.get_by_text("is not an image ImageLab can read", exact=False).first.wait_for()
    wait_idle(page)
    _inert(page, asked, "a refused upload", shown=(":red[colour]", "[x](http://127.0.0.1:9/p)"))
    # A GIF named with the payload: converted, with a note naming it, and listed by its name
    uploader.set_input_files(files=[{"name": f"{PAYLOAD}.gif", "mimeType": "image/gif", "buffer": _gif()}])
    page.locator('[class*="st-key-btn_ref_remove_"]').first.wait_for()
    wait_idle(page)
    _inert(page, asked, "an uploaded GIF", shown=(":red[colour]", "[x](http://127.0.0.1:9/p)"))


def test_loaded_settings_notes_quote_the_file_as_text(seeded_app, watched, tmp_path):
    page, asked = watched
    record = {"prompt": "a lamp", "page": PAYLOADS[0], "model": f"{PAYLOADS[1]} {PAYLOADS[3]}",
              "params": {PAYLOADS[2]: 1, PAYLOADS[4]: 2, "size": PAYLOADS[3]}}
    path = tmp_path / "settings.png"
    path.write_bytes(embed_metadata(_png(), "png", record))
    page.goto(seeded_app["url"] + "/Gallery")
    wait_idle(page)
    page.get_by_text("Load settings from an image").click()
    wait_idle(page)
    page.locator(".st-key-upl_gallery_settings input[type=file]").set_input_files(str(path))
    wait_idle(page)
    page.locator(".st-key-btn_gallery_load button").first.click()
    page.wait_for_url("**/Generate*")
    wait_idle(page)
    page.get_by_text("unknown page", exact=False).first.wait_for()
    _inert(page, asked, "the notes on loaded settings",
           shown=(":red[colour]", "[x](http://127.0.0.1:9/p)", "<img src=x onerror=window.__pwned=1>"))


def test_sweep_problems_quote_an_items_label_as_text(seeded_app, watched):
    page, asked = watched
    _sweep_page(page, seeded_app["url"])
    template = page.locator(".st-key-sweep_template textarea")
    template.fill("A {thing} on a table")
    template.blur()
    # a value long enough that its prompt is refused, so the problem quotes the item's label
    values = page.locator(".st-key-sweep_values_thing textarea")
    values.fill(f"{PAYLOAD} {'x' * 32_000}\nred cup")
    values.blur()
    page.get_by_text("Item 1 (thing=", exact=False).first.wait_for()
    _inert(page, asked, "a sweep's problem", shown=(":red[colour]", "Item 1 (thing=[x](http://127.0.0.1:9/p)"))
