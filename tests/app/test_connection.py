"""Connections: a custom base URL, an unreachable one, a bad server, the rule that the API key never
reaches disk, logs or the page, and the built-in backend answering only the app."""

import httpx2

from components import state
from components.connection import offline_backend
from imagelab.store import Store

from .conftest import open_page, settle, shown

SENTINEL = "sk-SENTINEL-7f3c9e1d-never-store-me"


def generate(at, prompt="a quiet harbour at dawn"):
    at.run()
    at.text_area(key=state.GEN_PROMPT).input(prompt).run()
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception
    settle(at)
    assert not at.exception
    return at


def rendered(at, skip_key: str | None = None) -> str:
    """Everything the page sends to the browser, as text: each element's protobuf message (markdown,
    captions, code, JSON, dataframe bytes, labels, options, defaults) and each widget's current value.
    The widget keyed ``skip_key`` (where the person typed the key) is left out."""
    parts: list[str] = []

    def walk(node) -> None:
        if skip_key is None or getattr(node, "key", None) != skip_key:
            proto = getattr(node, "proto", None)
            if proto is not None:
                parts.append(str(proto))
            value = getattr(node, "value", None) if hasattr(node, "proto") else None
            if value is not None:
                parts.append(repr(value))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)


def test_sentinel_key_never_reaches_disk_logs_or_page(data_dir, monkeypatch, compatible_server, capfd, caplog):
    srv = compatible_server()
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    at = generate(open_page())
    assert not at.error, shown(at.error)
    assert at.sidebar.selectbox(key=state.BACKEND_CHOICE).value == "Custom base URL"
    store = Store(data_dir)
    assert store.count_images() == 1
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes(), path
    out, err = capfd.readouterr()
    assert SENTINEL not in out and SENTINEL not in err and SENTINEL not in caplog.text
    assert SENTINEL not in rendered(at)


def test_key_typed_in_the_sidebar_is_used_and_kept_out_of_the_store(data_dir, monkeypatch, compatible_server):
    srv = compatible_server(token=SENTINEL)  # it answers only a request that carries the typed key
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    at = open_page().run()
    at.sidebar.text_input(key=state.API_KEY).input(SENTINEL).run()
    generate(at)
    assert not at.error
    assert Store(data_dir).count_images() == 1
    assert all(SENTINEL.encode() not in p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert SENTINEL not in rendered(at, skip_key=state.API_KEY)


def test_the_leak_check_sees_what_the_page_renders(data_dir):
    """The check above would catch the key: it reads a value typed into a widget, and text the page
    draws (the prompt beneath the result)."""
    shown = "a harbour marked 7f3c9e1d in the prompt"
    at = open_page().run()
    at.text_area(key=state.GEN_PROMPT).input(shown).run()
    assert shown in rendered(at)  # in its box
    assert shown not in rendered(at, skip_key=state.GEN_PROMPT)  # nowhere else yet
    at.selectbox(key=f"{state.GEN_OPTS}_quality").select("low").run()
    at.button(key=state.GEN_BUTTON).click().run()
    assert not at.exception and not at.error
    assert shown in rendered(at, skip_key=state.GEN_PROMPT)  # drawn beneath the picture


def test_unreachable_base_url_gets_a_sentence_and_keeps_the_prompt(data_dir, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    at = generate(open_page(), "a lighthouse")
    errors = shown(at.error)
    assert any("Could not reach http://127.0.0.1:9/v1" in e for e in errors), errors
    assert at.text_area(key=state.GEN_PROMPT).value == "a lighthouse"
    assert Store(data_dir).count_images() == 0 and Store(data_dir).runs()[0].status == "failed"


def test_a_server_that_sends_no_image_saves_nothing_corrupt(data_dir, monkeypatch, compatible_server):
    srv = compatible_server(faults="corrupt:0")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
    at = generate(open_page())
    assert any("not an image" in e for e in shown(at.error))
    store = Store(data_dir)
    assert store.count_images() == 0 and not list(store.images_dir.rglob("*.*"))


def test_the_built_in_backend_answers_only_the_app(data_dir):
    at = generate(open_page())  # no key, no base URL: the built-in offline backend
    assert not at.error, shown(at.error)
    assert Store(data_dir).count_images() == 1  # the app's own requests carry the backend's key
    url = offline_backend().base_url + "/models"
    assert httpx2.get(url, timeout=10).status_code == 401
    r = httpx2.get(url, headers={"Authorization": "Bearer sk-offline"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
