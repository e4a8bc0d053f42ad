"""Conversation and Sweep in a real browser at two window sizes: the chat input stays pinned in view
with the newest turn above it, and a sweep's pictures form a grid by their axis values."""

import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from imagelab.store import Store

from .conftest import cut_words, launch_app, screenshot, type_into, wait_idle, wait_until

pytestmark = pytest.mark.e2e

SIZES = [(1440, 900), (1280, 720)]
INPUT = '[data-testid="stChatInput"]'


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with launch_app(tmp_path_factory.mktemp("chat-sweep-data")) as server:
        yield server


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def sized(request, browser):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    pg = context.new_page()
    yield pg, width, height
    context.close()


def box(page, selector):
    found = page.locator(selector).last.bounding_box()
    assert found is not None, f"{selector} is not on the page"
    return found


def inside(b, width, height) -> bool:
    return b["x"] >= -1 and b["y"] >= -1 and b["x"] + b["width"] <= width + 1 and b["y"] + b["height"] <= height + 1


def test_three_turns_keep_the_input_and_the_newest_turn_in_view(app, sized):
    page, width, height = sized
    store = Store(app["data_dir"])
    page.goto(app["url"] + "/Conversation")
    wait_idle(page)
    for attempt in range(3):  # a conversation of its own for this window size; a rerun may close the list
        page.locator(".st-key-conv_picker").click()
        try:
            page.get_by_role("option", name="New conversation").click(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            wait_idle(page)
    wait_idle(page)
    before = {c.id for c in store.conversations()}
    for n, text in enumerate(["A lighthouse on a rocky coast at dusk", "Make the sky deep purple",
                              "Add a small red boat"], start=1):
        chat = page.locator(f'{INPUT} textarea')
        chat.fill(text)
        chat.press("Enter")
        conv = wait_until(lambda: [c for c in store.conversations() if c.id not in before], what="the conversation")[0]
        wait_until(lambda c=conv.id, n=n: [t for t in store.turns(c) if t.status == "ok"][n - 1:],
                   what=f"turn {n} saved")
        wait_idle(page)
        page.wait_for_function(
            f"document.querySelectorAll('.st-key-conv_turns [data-testid=\"stChatMessage\"]').length == {2 * n}"
            " && [...document.querySelectorAll('.st-key-conv_turns [data-testid=\"stChatMessage\"] img')]"
            ".slice(-1).every(i => i.complete && i.naturalWidth > 0)", timeout=90_000)
        newest = (f'.st-key-conv_turns [data-testid="stChatMessage"]:has(strong:text-is("Turn {n}"))',
                  '.st-key-conv_turns [data-testid="stChatMessage"] [data-testid="stImage"] img')

        def settled(newest=newest) -> bool:  # the page scrolls to the newest turn in steps (its script's timers)
            chat = box(page, INPUT)
            return all(inside(b, width, height) and b["y"] + b["height"] <= chat["y"] + 1
                       for b in (box(page, s) for s in newest))

        page.wait_for_timeout(800)  # let the scroll to the newest turn finish
        deadline = time.time() + 5
        while not settled() and time.time() < deadline:
            page.wait_for_timeout(200)
        screenshot(page, f"conversation-{width}x{height}-turn{n}")
        chat_box = box(page, INPUT)
        assert inside(chat_box, width, height), (n, chat_box)
        newest_text, newest_picture = (box(page, s) for s in newest)
        for part in (newest_text, newest_picture):
            assert inside(part, width, height), (n, part)
            assert part["y"] + part["height"] <= chat_box["y"] + 1, (n, part, chat_box)  # not under the input
        assert newest_picture["height"] >= 280, newest_picture  # large enough to judge
    screenshot(page, f"conversation-{width}x{height}")
    # A reload reopens this conversation, scrolled to its newest turn.
    page.reload()
    wait_idle(page)
    page.wait_for_selector('strong:text-is("Turn 3")', timeout=60_000)
    screenshot(page, f"conversation-{width}x{height}-reloaded")
    first = page.locator('.st-key-conv_turns [data-testid="stChatMessage"]').first
    assert "Turn 1 A lighthouse on a rocky coast at dusk" in " ".join(first.inner_text().split())
    assert inside(box(page, INPUT), width, height)
    assert cut_words(page, ".st-key-conv_picker") == []  # a long title ends in "…", not mid-word


def pick(page, key: str, option: str) -> None:
    """Choose ``option`` in a multiselect; a rerun that lands as the list opens closes it, so try again."""
    for attempt in range(4):
        page.locator(f".st-key-{key} input").click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            break
        except Exception:
            if attempt == 3:
                raise
            page.keyboard.press("Escape")
            wait_idle(page)
    wait_idle(page)
    page.keyboard.press("Escape")


def test_a_two_by_two_sweep_is_a_grid_in_axis_order(app, sized):
    page, width, height = sized
    store = Store(app["data_dir"])
    page.goto(app["url"] + "/Sweep")
    wait_idle(page)
    type_into(page, "sweep_template", "A {thing} on a wooden table")
    type_into(page, "sweep_values_thing", "red cup\nblue vase")
    for quality in ("low", "high"):
        pick(page, "sweep_axis_quality", quality)
    page.wait_for_selector("text=4 requests in a grid of 2 rows by 2 columns")
    before = {r.id for r in store.runs(500, page="sweep")}
    page.locator(".st-key-btn_sweep_run button").first.click()
    runs = wait_until(lambda: (lambda rs: rs if len(rs) == 4 and not any(r.active for r in rs) else None)(
        [r for r in store.runs(500, page="sweep") if r.id not in before]), what="the sweep")
    assert all(r.status == "ok" for r in runs)
    wait_idle(page)
    page.wait_for_selector("text=4 of 4 request(s) made pictures", timeout=60_000)
    where = {}
    for r in runs:
        where[("red cup" if "red cup" in r.prompt else "blue vase", r.params["quality"])] = r.id
        page.locator(f".st-key-sweep_cell_{r.id}").scroll_into_view_if_needed()
        page.wait_for_function(f"(() => {{ const i = document.querySelector('.st-key-sweep_cell_{r.id} img');"
                               " return i && i.complete && i.naturalWidth > 0; })()", timeout=60_000)
    # every cell measured at one scroll position
    rects = page.evaluate("""ids => ids.map(id => {
        const cell = document.querySelector('.st-key-sweep_cell_' + id), img = cell.querySelector('img');
        const box = r => ({x: r.x, y: r.y, width: r.width, height: r.height});
        return [box(cell.getBoundingClientRect()), box(img.getBoundingClientRect())];
    })""", list(where.values()))
    cells = dict(zip(where, rects, strict=True))
    print(f"sweep cell picture width at {width}x{height}: {min(v[1]['width'] for v in cells.values()):.0f} px")
    assert len(cells) == 4
    page.locator(".st-key-sweep_plan").scroll_into_view_if_needed()
    screenshot(page, f"sweep-{width}x{height}")
    grid = {k: v[0] for k, v in cells.items()}
    # rows: red cup above blue vase, each row level; columns: low left of high, each column aligned
    for thing in ("red cup", "blue vase"):
        assert abs(grid[(thing, "low")]["y"] - grid[(thing, "high")]["y"]) < 2
        assert grid[(thing, "low")]["x"] + grid[(thing, "low")]["width"] <= grid[(thing, "high")]["x"]
    for quality in ("low", "high"):
        assert abs(grid[("red cup", quality)]["x"] - grid[("blue vase", quality)]["x"]) < 2
        above, below = grid[("red cup", quality)], grid[("blue vase", quality)]
        assert above["y"] + above["height"] <= below["y"]
    assert min(v[1]["width"] for v in cells.values()) >= 200, [v[1]["width"] for v in cells.values()]

    # the column heads stay in view while the grid scrolls under them
    # scrolled with the wheel, as a person does (scrollIntoView would also shift the app's fixed frame)
    last_row = page.locator(f".st-key-sweep_cell_{where[('blue vase', 'low')]}").bounding_box()
    page.mouse.move(width * 0.7, height / 2)
    page.mouse.wheel(0, last_row["y"] + last_row["height"] / 2 - height / 2)
    page.wait_for_timeout(500)
    heads = box(page, "[class*='st-key-sweep_axes_']")
    first_row = page.locator(f".st-key-sweep_cell_{where[('red cup', 'low')]}").bounding_box()
    assert first_row["y"] < heads["y"] + heads["height"], "the first row never went under the heads: scroll further"
    assert 0 <= heads["y"] <= 100, heads
    screenshot(page, f"sweep-heads-{width}x{height}")
    # Compact: the pictures alone and smaller, so the whole sweep takes far less room
    comfortable = box(page, "[class*='st-key-sweep_grid_']")["height"]
    page.locator(".st-key-sweep_density").get_by_text("Compact", exact=True).click()
    wait_idle(page)
    page.wait_for_selector("[class*='st-key-sweep_grid_compact_']", timeout=30_000)
    compact = box(page, "[class*='st-key-sweep_grid_']")["height"]
    assert compact < comfortable * 0.75, (compact, comfortable)
    assert page.locator("[class*='st-key-sweep_grid_'] [class*='st-key-picture_actions_']").count() == 0
    page.wait_for_function("() => { const s = [...document.querySelectorAll(\"[class*='st-key-sweep_cell_'] img\")];"
                           " return s.length === 4 && s.every(i => i.complete && i.naturalWidth > 0); }",
                           timeout=60_000)
    page.locator("[class*='st-key-sweep_grid_']").last.scroll_into_view_if_needed()
    screenshot(page, f"sweep-compact-{width}x{height}")
    page.locator(".st-key-sweep_density").get_by_text("Comfortable", exact=True).click()
    wait_idle(page)
