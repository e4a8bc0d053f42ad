"""SVG and GIF in the history: sanitising, drawing, previews, export, slides and long searches."""

import base64
import io
import json
import zipfile
from html.parser import HTMLParser

import pytest
from PIL import Image

from imagelab.export import embed_metadata, export_zip, read_metadata
from imagelab.images import preview_bytes
from imagelab.slideshow import slideshow_html
from imagelab.store import MAX_SEARCH_TEXT, Store
from imagelab.svg import NotAnSvg, sanitize_svg, svg_size, svg_to_png

HEAD = b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="20">'


def svg(body: bytes, head: bytes = HEAD) -> bytes:
    return head + b'<rect width="40" height="20" fill="#0000ff"/>' + body + b"</svg>"


@pytest.mark.parametrize("body, gone", [
    (b"<script>alert(1)</script>", b"alert"),
    (b'<rect onclick="alert(1)" width="1" height="1"/>', b"onclick"),
    (b'<rect ONMouseOver="alert(1)" width="1" height="1"/>', b"alert"),
    (b'<image href="https://evil.example/a.png" width="1" height="1"/>', b"evil.example"),
    (b'<use xlink:href="http://evil.example/s.svg#x"/>', b"evil.example"),
    (b'<image href=" javascript:alert(1)" width="1" height="1"/>', b"javascript"),
    (b'<image href="data:image/svg+xml;base64,PHN2Zz4=" width="1" height="1"/>', b"svg+xml"),
    (b'<a href="javascript:alert(1)"><text>x</text></a>', b"javascript"),
    (b'<circle r="2" style="fill:url(https://evil.example/p.svg#f)"/>', b"evil.example"),
    (b'<circle r="2" fill="url( \'//evil.example/p#f\' )"/>', b"evil.example"),
    (b"<style>@import url(https://evil.example/a.css);</style>", b"evil.example"),
    (b'<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">hi</p></foreignObject>', b"foreignObject"),
    (b'<iframe src="https://evil.example/"/>', b"iframe"),
    (b'<embed src="https://evil.example/"/>', b"embed"),
    (b'<object data="https://evil.example/"/>', b"object"),
    (b'<html:script xmlns:html="http://www.w3.org/1999/xhtml">alert(1)</html:script>', b"alert"),
    (b'<set attributeName="onmouseover" to="alert(1)"/>', b"onmouseover"),
    (b'<html:meta xmlns:html="http://www.w3.org/1999/xhtml" http-equiv="refresh" content="0;url=https://evil.example/"/>',
     b"evil.example"),
    (b'<animate attributeName="href" to="javascript:alert(1)"/>', b"javascript"),
])
def test_sanitize_takes_away_what_could_run_or_reach_out(body, gone):
    clean = sanitize_svg(svg(body))
    assert gone.lower() not in clean.lower()
    assert b'<rect width="40" height="20" fill="#0000ff"' in clean  # the drawing stays


def test_sanitize_keeps_fragments_and_embedded_rasters():
    raster = b"data:image/png;base64,iVBORw0KGgo="
    clean = sanitize_svg(svg(b'<defs><linearGradient id="g"/></defs><circle r="2" fill="url(#g)"/>'
                             b'<image href="' + raster + b'" width="1" height="1"/>'))
    assert b'fill="url(#g)"' in clean and raster in clean


@pytest.mark.parametrize("data", [
    b"",
    b"<html><body>hi</body></html>",
    b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
    (b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
     b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'),
    b'<!DOCTYPE svg SYSTEM "http://evil.example/x.dtd"><svg xmlns="http://www.w3.org/2000/svg"/>',
])
def test_what_is_not_a_plain_svg_is_refused_with_a_sentence(data):
    with pytest.raises(NotAnSvg, match=r"\w+ .*\."):
        sanitize_svg(data)


def test_an_svg_without_a_namespace_is_drawn_too():
    png = svg_to_png(b'<svg width="30" height="60"><rect width="30" height="60" fill="#ff0000"/></svg>')
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (30, 60)
        assert img.convert("RGB").getpixel((15, 30)) == (255, 0, 0)


def test_svg_is_drawn_at_display_size_keeping_its_shape():
    big = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4000 2000"><rect width="4000" height="2000"/></svg>'
    assert svg_size(big) == (4000, 2000)
    with Image.open(io.BytesIO(preview_bytes(big, max_side=500))) as img:
        assert img.format == "PNG" and img.size == (500, 250)


def gif(size, frames=5) -> bytes:
    out = io.BytesIO()
    pics = [Image.new("RGB", size, (50 * i, 0, 0)) for i in range(frames)]
    pics[0].save(out, "GIF", save_all=True, append_images=pics[1:], duration=120, loop=0)
    return out.getvalue()


def test_gif_preview_keeps_playing():
    small = gif((64, 48))
    assert preview_bytes(small) == small
    with Image.open(io.BytesIO(preview_bytes(gif((1200, 600)), max_side=300))) as img:
        assert img.format == "GIF" and img.size == (300, 150) and img.n_frames == 5


def test_export_zip_sanitises_svg_and_keeps_gif():
    evil = svg(b'<script>alert(1)</script><image href="https://evil.example/a.png"/>',
               HEAD.replace(b"<svg ", b'<svg onload="alert(2)" '))
    animated = gif((32, 32))
    files = {"a" * 64: evil, "b" * 64: animated}
    records = [{"hash": h, "format": f, "prompt": "p", "model": "gpt-image-2", "page": "generate", "params": {}}
               for h, f in (("a" * 64, "svg"), ("b" * 64, "gif"))]
    with zipfile.ZipFile(io.BytesIO(export_zip(records, lambda h, f: files[h]))) as zf:
        names = zf.namelist()
        exported_svg = zf.read(next(n for n in names if n.endswith(".svg")))
        exported_gif = zf.read(next(n for n in names if n.endswith(".gif")))
    assert b"<rect" in exported_svg
    assert b"alert" not in exported_svg and b"onload" not in exported_svg and b"evil.example" not in exported_svg
    assert exported_gif == animated


@pytest.mark.parametrize("data", [svg(b"<script>alert(1)</script>"), gif((16, 16))])
def test_loading_settings_from_svg_or_gif_finds_none(data):
    assert read_metadata(data) is None
    assert embed_metadata(data, "svg" if data.startswith(b"<") else "gif", {"prompt": "p", "params": {}}) == data


class Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self._in, self.comments = [], False, []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in = False

    def handle_data(self, data):
        if self._in:
            self.scripts[-1] += data

    def handle_comment(self, data):
        self.comments.append(data)


@pytest.mark.parametrize("caption", ["<!--<script>alert(1)</script>-->", "</script><script>alert(1)//",
                                     "a & b <> __AUTOPLAY__ \u2028"])
def test_slideshow_captions_cannot_break_out_of_the_script(caption):
    page = slideshow_html([(b"\x89PNG....", "image/png", caption, caption)])
    parser = Scripts()
    parser.feed(page)
    assert len(parser.scripts) == 1 and not parser.comments
    # Browsers (unlike html.parser) enter an escaped state at "<!--" and "<script" inside a script,
    # where "</script>" no longer ends it: none of these may appear in the data.
    assert not any(bit in parser.scripts[0].lower() for bit in ("<!--", "-->", "<script", "</script"))
    data = parser.scripts[0].split("const slides = ", 1)[1].split(";\nconst interval", 1)[0]
    slides = json.loads(data)
    assert slides[0]["caption"] == caption and slides[0]["meta"] == caption
    assert base64.b64decode(slides[0]["src"].split(",", 1)[1]) == b"\x89PNG...."


def test_search_refuses_overlong_text_with_a_sentence(tmp_path):
    store = Store(tmp_path)
    assert store.search_images(text="x" * MAX_SEARCH_TEXT) == ([], 0)
    with pytest.raises(ValueError, match="limited to 500 characters"):
        store.search_images(text="x" * 100_000)


def test_the_store_keeps_svg_results_sanitised(tmp_path):
    store = Store(tmp_path)
    run = store.start_run("generate", "gpt-image-2", "p", {"prompt": "p"})
    rec = store.add_image(run, 0, svg(b'<script>alert(1)</script><image href="https://evil.example/a.png"/>'),
                          "svg", None, None)
    kept = store.read_bytes(rec.hash, "svg")
    assert b"<rect" in kept and b"alert" not in kept and b"evil.example" not in kept
    assert rec.bytes == len(kept)
