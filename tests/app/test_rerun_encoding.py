"""A rerun that changes no picture encodes no picture: previews and thumbnails are made once per content
hash, and Streamlit passes them to the browser as they are (JPEG, PNG) instead of re-encoding them."""

import io

import pytest
from PIL import Image

from components import state
from imagelab.offline.render import render
from imagelab.store import Store

from .conftest import open_page

TIMEOUT = 60


def _seed(data_dir) -> None:
    """Eight finished Generate runs: opaque PNGs, a WebP and a PNG with transparency."""
    store = Store(data_dir)
    for i in range(8):
        run_id = store.start_run("generate", "gpt-image-2", f"a harbour at dusk {i}", {}, requested=1)
        png = render(f"a harbour at dusk {i}", 1024, 1024, output_format="png", quality="low", index=0)
        fmt, data = "png", png
        if i == 3:
            fmt, buf = "webp", io.BytesIO()
            Image.open(io.BytesIO(png)).save(buf, "WEBP")
            data = buf.getvalue()
        if i == 5:
            buf = io.BytesIO()
            Image.new("RGBA", (512, 512), (200, 40, 40, 120)).save(buf, "PNG")
            data = buf.getvalue()
        store.add_image(run_id, 0, data, fmt, 1024, 1024)
        store.finish_run(run_id, "ok")


@pytest.fixture
def encodes(monkeypatch):
    """Every picture Pillow encodes from here on (ours or Streamlit's), by format."""
    seen: list[str] = []
    save = Image.Image.save

    def counting(self, fp, format=None, **params):  # noqa: A002 (Pillow's own parameter name)
        seen.append(str(format or getattr(fp, "name", "?")))
        return save(self, fp, format, **params)

    def start():
        monkeypatch.setattr(Image.Image, "save", counting)
        return seen

    return start


@pytest.mark.parametrize("path", ["pages/1_Generate.py", "pages/6_Gallery.py"])
def test_a_rerun_encodes_no_picture(data_dir, encodes, path):
    _seed(data_dir)
    at = open_page(path, TIMEOUT).run()
    assert not at.exception
    thumbnails = [m for m in at.main.markdown if m.value.startswith("![")]  # the Gallery's grid
    assert len(at.get("image")) + len(thumbnails) >= 4  # the pictures are on the page
    seen = encodes()
    at.run()
    assert not at.exception
    assert seen == [], f"a rerun encoded {len(seen)} picture(s): {seen}"


def test_typing_in_the_prompt_encodes_no_picture(data_dir, encodes):
    _seed(data_dir)
    at = open_page("pages/1_Generate.py", TIMEOUT).run()
    seen = encodes()
    at.text_area(key=state.GEN_PROMPT).input("A lantern on a jetty").run()
    assert not at.exception
    assert seen == [], f"typing encoded {len(seen)} picture(s): {seen}"
