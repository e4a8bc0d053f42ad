"""Generate's prompt tools through AppTest on the offline backend: improve with a visible diff, describe a
picture from the history, and the prompt library."""

from components import state
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page, page_text, settle

TIMEOUT = 60


def app():
    at = open_page("pages/1_Generate.py", TIMEOUT)
    at.session_state[state.PROMPT_TOOLS] = True  # the person opened the prompt tools
    return at


def html_of(at) -> str:
    return " ".join(str(h.proto.body) for h in at.get("html"))


def test_improve_shows_the_changes_and_changes_nothing_until_accepted(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a nice pic of a big dog on grass").run()
    at.button(key="btn_improve").click().run()
    assert not at.exception
    settle(at, data_dir)
    assert not at.exception and not at.error
    diff = html_of(at)
    assert "<del>big</del>" in diff and "<ins>large</ins>" in diff
    # shown, not applied
    assert at.text_area(key=state.GEN_PROMPT).value == "a nice pic of a big dog on grass"
    rewrite = at.text_area(key=state.IMPROVE_EDIT).value
    assert rewrite.startswith("A striking picture of a large dog")
    # the person edits the rewrite, then accepts: exactly their text goes into the prompt
    at.text_area(key=state.IMPROVE_EDIT).input(rewrite + " Add a red ball.").run()
    at.button(key="btn_improve_accept").click().run()
    assert at.text_area(key=state.GEN_PROMPT).value == rewrite + " Add a red ball."
    assert "<del>" not in html_of(at)  # the suggestion is closed
    run = Store(data_dir).runs(1, page="rewrite")[0]
    assert run.status == "ok" and run.reply == rewrite


def test_rejecting_keeps_the_prompt(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a cool car").run()
    at.button(key="btn_improve").click().run()
    settle(at, data_dir)
    at.button(key="btn_improve_reject").click().run()
    assert at.text_area(key=state.GEN_PROMPT).value == "a cool car"
    assert "<ins>" not in html_of(at)


def test_describe_a_picture_from_the_history_and_open_it_in_generate(data_dir):
    store = Store(data_dir)
    run_id = store.start_run("generate", "gpt-image-2", "old", {}, None, "test")
    rec = store.add_image(run_id, 0, render("a blue whale", 640, 640), "png", 640, 640)
    store.finish_run(run_id, "ok")
    at = app()
    at.session_state[state.handoff_key(state.DESCRIBE)] = [rec.hash]
    at.run()
    assert not at.exception
    at.button(key="btn_describe").click().run()
    settle(at, data_dir)
    assert not at.exception and not at.error
    described = Store(data_dir).runs(1, page="describe")[0]
    assert described.status == "ok" and "640x640" in described.reply
    assert described.reply in [t.value for t in at.get("text")]
    at.button(key=f"btn_describe_use_{described.id}").click().run()
    assert at.text_area(key=state.GEN_PROMPT).value == described.reply


def test_save_search_and_insert_from_the_library(data_dir):
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("A paper fox in a snowy forest").run()
    at.text_input(key=state.LIBRARY_TITLE).input("Paper fox").run()
    at.text_input(key=state.LIBRARY_NEW_TAGS).input("Origami, winter").run()
    at.button(key="btn_library_save").click().run()
    assert not at.exception
    saved = Store(data_dir).saved_prompts()
    assert [(p.title, p.tags) for p in saved] == [("Paper fox", ("origami", "winter"))]
    at.text_input(key=state.LIBRARY_QUERY).input("kyoto").run()
    assert "Discover Kyoto" in page_text(at.main)
    at.button(key="btn_library_use_0").click().run()
    prompt = at.text_area(key=state.GEN_PROMPT).value
    assert prompt.startswith("A paper fox in a snowy forest\n\n") and "Discover Kyoto" in prompt
    at.text_input(key=state.LIBRARY_QUERY).input("origami").run()
    at.text_area(key=state.GEN_PROMPT).input("").run()
    at.button(key="btn_library_use_0").click().run()
    assert at.text_area(key=state.GEN_PROMPT).value == "A paper fox in a snowy forest"


def test_the_diff_shows_markup_in_a_prompt_as_text():
    from components.prompt_tools import diff_html

    shown = diff_html('a <b onclick="x()">bold</b> fox', "a <script>alert(1)</script> fox")
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "<b " not in shown
    assert "<del>&lt;b onclick=&quot;x()&quot;&gt;bold&lt;/b&gt;</del>" in shown


def test_generate_a_gif_from_the_page(data_dir):
    import io

    from PIL import Image

    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a spinning red top").run()
    at.selectbox(key=state.GEN_MODEL).select("gpt-image-2.6-flare").run()
    at.selectbox(key=f"{state.GEN_OPTS}_format").select("gif").run()
    assert any("cannot stream" in c.value for c in at.caption)
    at.number_input(key=f"{state.GEN_OPTS}_frames").set_value(3).run()
    at.number_input(key=f"{state.GEN_OPTS}_frame_ms").set_value(20).run()
    at.button(key=state.GEN_BUTTON).click().run()
    settle(at, data_dir)
    assert not at.exception and not at.error
    store = Store(data_dir)
    image = store.recent_images()[0]
    assert image.format == "gif"
    with Image.open(io.BytesIO(store.read_bytes(image.hash, "gif"))) as gif:
        assert gif.n_frames == 3 and gif.info["duration"] == 20


def test_describe_a_gif_result_reads_its_first_frame(data_dir):
    from imagelab.offline.render import render_gif

    store = Store(data_dir)
    run_id = store.start_run("generate", "gpt-image-2.5-flare", "a bouncing ball", {"output_format": "gif"}, None,
                             "test", requested=1)
    rec = store.add_image(run_id, 0, render_gif("a bouncing ball", 1024, 576, frames=3), "gif", 1024, 576)
    store.finish_run(run_id, "ok")
    at = app().run()
    at.button(key=f"btn_gen.{run_id}_describe_{rec.id}").click().run()
    assert not at.exception and not at.error
    settle(at, data_dir)
    described = Store(data_dir).runs(1, page="describe")[0]
    assert described.status == "ok" and "landscape 1024x576" in described.reply
    # the words are shown under the picture asked about, exactly as written
    assert " ".join(described.reply.split()) in " ".join(page_text(at).split())


def test_improve_and_describe_are_priced_and_stop_at_an_exhausted_limit(data_dir, monkeypatch, compatible_server):
    """Paid text requests pass the same guard as pictures: priced from the text model's published price, they
    are refused once the limit is spent, and nothing reaches the server."""
    from imagelab.costs import estimate
    from imagelab.prompts import DESCRIBE, REWRITE, PromptRequest
    from imagelab.specs import GenerateSpec

    assert estimate(GenerateSpec(prompt="x")).dollars > 0
    rewrite = PromptRequest(kind=REWRITE, prompt="a dog", model="gpt-5-mini").estimate()
    assert rewrite.dollars > 0 and not any("no price" in n for n in rewrite.notes)
    unpublished = PromptRequest(kind=DESCRIBE, model="gpt-5.5", image=None).estimate()
    assert unpublished.dollars > 0 and any("no price is published for gpt-5.5" in n for n in unpublished.notes)

    server = compatible_server()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    store = Store(data_dir)
    store.set_limit("day", 0.01)
    spent = store.start_run("generate", "gpt-image-2", "earlier", {}, {"dollars": 0.01}, "Custom: proxy",
                            status="running")
    store.finish_run(spent, "ok", usage={"total_tokens": 1}, actual_dollars=0.01)  # the day's limit is used up
    at = app().run()
    at.text_area(key=state.GEN_PROMPT).input("a nice pic of a big dog on grass").run()
    at.button(key="btn_improve").click().run()
    assert not at.exception
    assert "daily limit" in page_text(at)
    settle(at, data_dir)
    assert [r.page for r in store.runs(10)] == ["generate"]  # nothing was sent for the rewrite
