"""What a person typed stays: Generate's prompt and options survive a trip to other pages and a reload,
and so does the Sweep template; the API key typed in the sidebar is never written to the history."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from imagelab.store import Store

from .conftest import launch_app, wait_idle

pytestmark = pytest.mark.e2e

PROMPT = "Keep me: a lighthouse drawn in ink"
TEMPLATE = "A {thing} made of paper, kept across reloads"


@pytest.fixture
def fresh_app(tmp_path):
    with launch_app(tmp_path / "data") as server:
        yield server


def _go(page, name: str) -> None:
    page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"] a', has_text=name).first.click()
    wait_idle(page)


def _generate_form(page) -> tuple[str, str, str]:
    return (page.locator(".st-key-gen_prompt textarea").input_value(),
            page.locator(".st-key-gen_opt_quality input").input_value(),
            page.locator(".st-key-gen_opt_n input").input_value())


def test_generate_and_sweep_forms_survive_pages_and_reloads(fresh_app, page):
    page.goto(fresh_app["url"] + "/Generate")
    wait_idle(page)
    area = page.locator(".st-key-gen_prompt textarea")
    area.fill(PROMPT)
    area.blur()
    # the form's count shows the server has the prompt (the page can read as idle before that rerun begins)
    page.get_by_text(f"{len(PROMPT)} / 32,000 characters").wait_for(timeout=30_000)
    wait_idle(page)
    page.locator(".st-key-gen_opt_quality").click()
    page.get_by_role("option", name="low", exact=True).click()
    wait_idle(page)
    page.locator(".st-key-gen_opt_n input").fill("3")
    page.locator(".st-key-gen_opt_n input").press("Enter")
    wait_idle(page)
    typed = _generate_form(page)
    assert typed == (PROMPT, "low", "3"), typed

    for elsewhere in ("Gallery", "Home", "Sweep"):
        _go(page, elsewhere)
        _go(page, "Generate")
        assert _generate_form(page) == typed, elsewhere
    page.reload()
    wait_idle(page)
    assert _generate_form(page) == typed

    _go(page, "Sweep")
    template = page.locator(".st-key-sweep_template textarea")
    template.fill(TEMPLATE)
    template.blur()
    wait_idle(page)
    page.wait_for_timeout(1200)  # the draft is written shortly after, off the script's thread
    page.reload()
    wait_idle(page)
    assert page.locator(".st-key-sweep_template textarea").input_value() == TEMPLATE


def test_another_tab_starts_with_a_form_of_its_own(fresh_app, browser):
    first = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    first.goto(fresh_app["url"] + "/Generate")
    wait_idle(first)
    area = first.locator(".st-key-gen_prompt textarea")
    area.fill(PROMPT)
    area.blur()
    wait_idle(first)
    first.wait_for_timeout(1200)
    other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    other.goto(fresh_app["url"] + "/Generate")
    wait_idle(other)
    assert other.locator(".st-key-gen_prompt textarea").input_value() == ""
    first.reload()
    wait_idle(first)
    assert first.locator(".st-key-gen_prompt textarea").input_value() == PROMPT
    first.context.close()
    other.context.close()


def test_the_key_typed_in_the_sidebar_is_not_in_the_kept_draft(fresh_app, page):
    key = "sk-draft-test-0123456789abcdefXYZ"
    page.goto(fresh_app["url"] + "/Generate")
    wait_idle(page)
    page.locator(".st-key-conn_backend").click()
    page.get_by_role("option", name="Custom base URL").click()
    wait_idle(page)
    page.locator(".st-key-conn_api_key input").fill(key)
    page.locator(".st-key-conn_api_key input").press("Enter")
    wait_idle(page)
    area = page.locator(".st-key-gen_prompt textarea")
    area.fill(PROMPT)
    area.blur()
    wait_idle(page)
    page.wait_for_timeout(1200)
    tab = parse_qs(urlparse(page.url).query)["w"][0]
    draft = Store(fresh_app["data_dir"]).setting(f"draft:{tab}") or ""
    assert PROMPT in draft
    for path in fresh_app["data_dir"].rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
