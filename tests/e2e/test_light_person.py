"""The team benchmark's light person (tests/bench/light_person.py) does what a page does: on the single-user
app it types a prompt, presses Generate and fetches the picture the click brought, with nothing drawn."""

import urllib.request

import pytest

from components import state
from tests.bench.light_person import LightPeople

pytestmark = pytest.mark.e2e


def test_a_light_person_types_clicks_and_fetches_the_new_picture(app_server):
    people = LightPeople()
    who = people.open(app_server["url"], {}, "Generate")
    try:
        who.type(state.GEN_PROMPT, "A light person's paper lantern")
        clicked = who.click(state.GEN_BUTTON)
        shown = who.shown_ms()
        assert shown > clicked
        new = [path for path in who.images if path not in (who.before or set())]
        assert new, "the click brought no picture"
        with urllib.request.urlopen(app_server["url"] + new[0], timeout=10) as answer:
            assert answer.read()[:3] in (b"\xff\xd8\xff", b"\x89PN")  # a JPEG or PNG picture, as the page shows it
        assert "A light person's paper lantern" in who.transcript()
    finally:
        who.close()
        people.stop()
