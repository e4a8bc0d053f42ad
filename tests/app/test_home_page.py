"""Home: a place to start for someone new (sample prompts that open Generate filled in) and the latest pictures."""

from components import state
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page


def test_a_sample_opens_generate_with_its_prompt_filled_in(data_dir):
    at = open_page("app.py").run()
    assert not at.exception
    assert "Start here" in [h.value for h in at.subheader]
    sample = at.button(key="btn_home_sample_poster")
    sample.click().run()
    assert not at.exception
    prompt = at.text_area(key=state.GEN_PROMPT).value
    assert prompt.startswith("A travel poster of a lighthouse at dusk")
    assert at.button(key=state.GEN_BUTTON)  # now on Generate, ready to run


def test_home_shows_the_newest_pictures_once_there_are_some(data_dir):
    at = open_page("app.py").run()
    assert "Latest pictures" not in [h.value for h in at.subheader]
    store = Store(data_dir)
    for i in range(8):
        run = store.start_run("generate", "gpt-image-2", f"picture {i}", {"n": 1}, billed=False)
        store.add_image(run, 0, render(f"picture {i}", 64, 64), "png", 64, 64)
        store.finish_run(run, "ok")
    at.run()
    assert not at.exception
    assert "Latest pictures" in [h.value for h in at.subheader]
    alts = [m.value[2:m.value.index("]")] for m in at.main.markdown if m.value.startswith("![")]
    assert alts == [f"picture {i}" for i in range(7, 1, -1)]
