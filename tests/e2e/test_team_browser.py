"""A team's ImageLab in a real browser: people log in through a real OpenID Connect provider
(``oidc-provider-mock``), and someone not logged in is served nothing of it."""

from __future__ import annotations

import re

import pytest

from imagelab.store import Store
from tests.services.oidc import ALICE, BOB, login_secrets, oidc_provider

from .conftest import _free_port, launch_app, screenshot, wait_idle

pytestmark = pytest.mark.e2e

ALICE_PROMPT = "Alice's lighthouse under a violet moon"


@pytest.fixture(scope="module")
def team_app(tmp_path_factory):
    """ImageLab with login, its history already holding one picture of Alice's."""
    folder = tmp_path_factory.mktemp("team")
    data = folder / "data"
    store = Store(data)
    run_id = store.start_run("generate", "gpt-image-1", ALICE_PROMPT, {"n": 1}, status="ok", requested=1,
                             backend="Offline backend", billed=False)
    store.add_image(run_id, 0, _png(), "png", 64, 64)
    store.close()
    with oidc_provider([ALICE, BOB], folder / "oidc.log") as issuer:
        port = _free_port()
        secrets = login_secrets(folder / "secrets", issuer, port)
        with launch_app(data, port=port, secrets=secrets) as server:
            yield server | {"issuer": issuer}


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 40, 200)).save(out, "PNG")
    return out.getvalue()


def log_in(page, url: str, person: dict[str, str]) -> None:
    """Log ``person`` in through the provider's own page, as a browser does."""
    page.goto(url)
    page.locator(".st-key-btn_login button").click()
    page.get_by_role("button", name=person["sub"], exact=True).click()
    page.wait_for_url(f"{url}/**")
    wait_idle(page)


def _served_nothing(page) -> None:
    html = page.content()
    assert ALICE_PROMPT.split()[1] not in html  # "lighthouse"
    assert page.locator("img").count() == 0
    # Streamlit serves pictures under /media/ (its own fonts are under /static/media/), thumbnails under
    # /app/static/thumbs, shared storage by presigned URL
    assert not re.search(r"(?<!static)/media/|static/thumbs|X-Amz-", html)
    assert "$" not in page.locator('[data-testid="stApp"]').inner_text()  # no spend figure


def test_a_browser_not_logged_in_is_served_a_login_button_and_nothing_else(team_app, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    for where in ("", "/Gallery", "/Generate", "/Present", "/Conversation"):
        page.goto(team_app["url"] + where)
        wait_idle(page)
        assert page.locator(".st-key-btn_login button").is_visible()
        assert "Log in to use ImageLab." in page.locator('[data-testid="stMain"]').inner_text()
        _served_nothing(page)
    screenshot(page, "team_logged_out")


def test_a_person_logs_in_through_the_provider_and_out_from_the_sidebar(team_app, page):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, team_app["url"], ALICE)
    page.goto(team_app["url"] + "/Gallery")
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "alice@example.com" in sidebar.inner_text()
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=30_000)
    screenshot(page, "team_logged_in_gallery")
    page.locator(".st-key-btn_logout button").click()
    page.get_by_role("button", name="End session").click()  # the provider asks to end its session too
    page.locator(".st-key-btn_login button").wait_for(timeout=30_000)
    wait_idle(page)
    page.goto(team_app["url"] + "/Gallery")
    wait_idle(page)
    _served_nothing(page)
