"""A team's ImageLab in AppTest: a logged-in person (``at.user``) with ``[auth]`` in the secrets. The login
itself, through a real OpenID Connect provider, is driven in tests/e2e/test_team_browser.py."""

from components import state
from components.connection import CUSTOM
from imagelab.people import Person
from imagelab.store import Store

from .conftest import open_page, page_text
from .test_connection import generate

TEAM_KEY = "sk-team-5e1f0c-never-leave-the-server"
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "imagelab",
        "client_secret": "s", "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
BOB = {"is_logged_in": True, "sub": "bob", "email": "bob@example.com"}


def as_bob(path: str = "pages/1_Generate.py"):
    at = open_page(path)
    at.secrets["auth"] = AUTH
    at.user = dict(BOB)
    return at


def test_a_base_url_a_person_types_gets_their_own_key_never_the_team_key(data_dir, monkeypatch,
                                                                        compatible_server):
    team = compatible_server(token=TEAM_KEY)
    elsewhere = compatible_server(token=TEAM_KEY)  # a server of Bob's choosing that would take the team's key
    monkeypatch.setenv("OPENAI_API_KEY", TEAM_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", team.base_url)
    at = generate(as_bob())
    assert Store(data_dir).runs()[0].status == "ok"  # the team key serves Bob where the server sends it
    at.sidebar.selectbox(key=state.BACKEND_CHOICE).select(CUSTOM).run()
    at.sidebar.text_input(key=state.BASE_URL).input(elsewhere.base_url).run()
    generate(at, "a second harbour")
    last = Store(data_dir).runs()[0]
    assert last.prompt == "a second harbour" and last.status == "failed"  # it got "none", not the team's key
    assert last.owner == "bob"


def test_a_conversation_and_a_saved_prompt_are_their_owners(data_dir):
    store = Store(data_dir)
    alice = Person("alice", "alice@example.com")
    store.new_conversation("Alice's harbour chat", alice)
    store.save_prompt("Alice's secret recipe", "a harbour at dawn", owner=alice)
    store.new_conversation("Bob's tram chat", Person("bob", "bob@example.com"))
    at = as_bob("pages/4_Conversation.py").run()
    assert not at.exception
    titles = list(at.selectbox(key=state.CONV_PICKER).options)
    assert any("Bob's tram chat" in t for t in titles) and not any("Alice" in t for t in titles), titles
    store.save_prompt("Bob's own recipe", "a tram at dusk", owner=Person("bob", "bob@example.com"))
    at = as_bob()
    at.session_state[state.PROMPT_TOOLS] = True  # the tools' fold open: its library is drawn
    at.run()
    text = page_text(at)
    assert "Bob's own recipe" in text and "Alice's secret recipe" not in text  # the library is Bob's
    assert "1 saved by you" in text


def test_without_auth_everything_is_the_one_persons_as_before(data_dir):
    store = Store(data_dir)
    store.new_conversation("An old chat")
    at = open_page("pages/4_Conversation.py").run()
    assert not at.exception
    assert any("An old chat" in str(o) for o in at.selectbox(key=state.CONV_PICKER).options)


def test_a_tabs_draft_is_each_persons(data_dir):
    import time

    tab = "0123456789abcdef"  # the same address handed from Alice to Bob
    alice = open_page()
    alice.secrets["auth"] = AUTH
    alice.user = {"is_logged_in": True, "sub": "alice", "email": "alice@example.com"}
    alice.query_params["w"] = tab
    alice.run()
    alice.text_area(key=state.GEN_PROMPT).input("Alice's unsent idea").run()
    store = Store(data_dir)
    deadline = time.monotonic() + 10
    while "Alice's unsent idea" not in (store.setting(f"draft:alice:{tab}") or "") and time.monotonic() < deadline:
        time.sleep(0.1)  # the first run's draft (no prompt yet) may be written before the typed one
    bob = as_bob()
    bob.query_params["w"] = tab
    bob.run()
    assert bob.text_area(key=state.GEN_PROMPT).value == ""  # Bob finds nothing of Alice's
    again = open_page()
    again.secrets["auth"] = AUTH
    again.user = {"is_logged_in": True, "sub": "alice", "email": "alice@example.com"}
    again.query_params["w"] = tab
    again.run()
    assert again.text_area(key=state.GEN_PROMPT).value == "Alice's unsent idea"  # her reload finds it
