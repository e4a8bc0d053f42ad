"""Thumbnails as files with stable names, so a browser keeps them between views.

A picture shown from bytes (``st.image(data)``) is served by Streamlit from memory with no
caching headers, so every view of a page downloads it again. A thumbnail written once to a
folder Streamlit serves as static files (``server.enableStaticServing``) has a URL that never
changes for the same picture and is sent with ``Last-Modified``. Streamlit sends no
``Cache-Control`` for them, so a browser judges freshness by the file's age (a tenth of the time
since it was last modified); a thumbnail never changes under its name, so its modification time is
set to a fixed day long past and the browser keeps it for years without asking again. Names are
``<content hash>-<side>.<ext>``, so two data folders or two processes writing the same thumbnail
write the same bytes; a file is written whole (a temporary name, then a rename) so a reader never
sees half of one.

    folder = ThumbnailFolder(Path("static/thumbs"), "/app/static/thumbs")
    url = folder.url(digest, lambda: store.read_bytes(digest, fmt))   # None: show the bytes instead
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from PIL import Image

__all__ = ["THUMBNAIL_SIDE", "ThumbnailFolder", "thumbnail_bytes"]

# The Gallery shows four pictures a row, about 270 px wide on a 1440 px screen: a 360 px copy stays
# sharp there and at 1.25× zoom, at a tenth of a 768 px preview's bytes.
THUMBNAIL_SIDE = 360
_EXTENSIONS = (".jpg", ".png")
# The modification time every thumbnail carries (2001-01-01): content-addressed files never change.
_SETTLED = 978_307_200


def thumbnail_bytes(data: bytes, side: int = THUMBNAIL_SIDE) -> tuple[bytes, str]:
    """(bytes, extension) of a copy at most ``side`` px on its long edge: JPEG, or PNG where there is
    transparency. Raises what Pillow raises for bytes that are no picture."""
    with Image.open(io.BytesIO(data)) as img:
        img.draft("RGB", (side, side))  # a JPEG decodes at a reduced scale directly
        still = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P", "PA") else "RGB")
    still.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    lowest_alpha = still.getchannel("A").getextrema()[0] if still.mode == "RGBA" else 255
    if isinstance(lowest_alpha, (int, float)) and lowest_alpha < 255:
        out = io.BytesIO()
        still.save(out, "PNG", optimize=False, compress_level=6)
        return out.getvalue(), ".png"
    out = io.BytesIO()
    still.convert("RGB").save(out, "JPEG", quality=80, progressive=True)
    return out.getvalue(), ".jpg"


class ThumbnailFolder:
    """Thumbnails in ``root`` (served at ``url_prefix``), made once per picture and side."""

    def __init__(self, root: Path, url_prefix: str, side: int = THUMBNAIL_SIDE) -> None:
        self.root = root
        self.url_prefix = url_prefix.rstrip("/")
        self.side = side
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def url(self, digest: str, load: Callable[[], bytes]) -> str | None:
        """The thumbnail's URL, made from ``load()`` the first time; ``None`` when the folder cannot be
        written (a read-only install): the caller shows the picture's bytes instead."""
        name = self._names.get(digest) or self._existing(digest)
        if name is None:
            data, ext = thumbnail_bytes(load(), self.side)
            name = f"{digest}-{self.side}{ext}"
            try:
                self._write(name, data)
            except OSError:
                return None
        with self._lock:
            self._names[digest] = name
        return f"{self.url_prefix}/{name}"

    def forget(self, digest: str) -> None:
        """Remove a picture's thumbnails (it was deleted from the history)."""
        with self._lock:
            self._names.pop(digest, None)
        for ext in _EXTENSIONS:
            (self.root / f"{digest}-{self.side}{ext}").unlink(missing_ok=True)

    def _existing(self, digest: str) -> str | None:
        for ext in _EXTENSIONS:
            name = f"{digest}-{self.side}{ext}"
            if (self.root / name).is_file():
                return name
        return None

    def _write(self, name: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.utime(tmp, (_SETTLED, _SETTLED))
            os.replace(tmp, self.root / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
