"""Gallery thumbnails: small files with stable names, made once per picture."""

import io

from PIL import Image

from imagelab.offline.render import render
from imagelab.thumbnails import THUMBNAIL_SIDE, ThumbnailFolder


def test_a_thumbnail_is_made_once_at_thumbnail_size(tmp_path):
    folder = ThumbnailFolder(tmp_path / "thumbs", "/app/static/thumbs")
    picture = render("a harbour at dusk", 1536, 1024, output_format="png", quality="low", index=0)
    loads = []

    def load():
        loads.append(1)
        return picture

    url = folder.url("abc123", load)
    assert url == f"/app/static/thumbs/abc123-{THUMBNAIL_SIDE}.jpg"
    made = tmp_path / "thumbs" / url.rsplit("/", 1)[1]
    with Image.open(made) as img:
        assert img.format == "JPEG" and img.size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE * 2 // 3)
    assert made.stat().st_size < len(picture) / 10
    # the same URL again, and again from a new process's folder object, without reading the picture
    assert folder.url("abc123", load) == url
    assert ThumbnailFolder(tmp_path / "thumbs", "/app/static/thumbs").url("abc123", load) == url
    assert len(loads) == 1
    assert [p.name for p in (tmp_path / "thumbs").iterdir()] == [made.name]  # no temporary file left


def test_transparency_stays_a_png_and_forget_removes_it(tmp_path):
    folder = ThumbnailFolder(tmp_path / "thumbs", "/app/static/thumbs")
    buf = io.BytesIO()
    Image.new("RGBA", (800, 800), (10, 200, 10, 90)).save(buf, "PNG")
    url = folder.url("see-through", buf.getvalue)
    assert url is not None and url.endswith(".png")
    with Image.open(tmp_path / "thumbs" / url.rsplit("/", 1)[1]) as img:
        assert img.mode == "RGBA" and img.getpixel((5, 5))[3] == 90
    folder.forget("see-through")
    assert list((tmp_path / "thumbs").iterdir()) == []


def test_a_folder_that_cannot_be_written_gives_no_url(tmp_path):
    blocker = tmp_path / "thumbs"
    blocker.write_text("a file where the folder should be")
    folder = ThumbnailFolder(blocker, "/app/static/thumbs")
    assert folder.url("abc", lambda: render("x", 256, 256, output_format="png", quality="low", index=0)) is None
