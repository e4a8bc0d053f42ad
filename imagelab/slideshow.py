"""A self-contained HTML slideshow: large images, captions, arrow keys, autoplay, full screen.

The page around it says how to use it; the stage itself shows only the pictures, their captions and a count."""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = ["script_json", "slideshow_html"]

_TEMPLATE = """<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;height:100%;background:#0e0e12;color:#f2f2f5;font-family:system-ui,sans-serif}
#stage{position:relative;height:100%;display:flex;flex-direction:column;align-items:center;justify-content:center}
#stage img{max-width:96%;max-height:calc(100% - 90px);object-fit:contain;box-shadow:0 10px 40px #000a}
#caption{margin-top:14px;font-size:18px;max-width:90%;text-align:center;line-height:1.4}
#meta{margin-top:4px;font-size:13px;color:#9a9aa8}
#count{position:absolute;top:10px;right:16px;font-size:13px;color:#9a9aa8}
</style></head><body tabindex="0"><div id="stage">
<img id="slide" alt=""><div id="caption"></div><div id="meta"></div><div id="count"></div></div>
<script>
const slides = __SLIDES__;
const interval = __INTERVAL__;
let i = 0, timer = null;
function show(n) {
  i = (n + slides.length) % slides.length;
  const s = slides[i];
  document.getElementById('slide').src = s.src;
  document.getElementById('slide').alt = s.caption;
  document.getElementById('caption').textContent = s.caption;
  document.getElementById('meta').textContent = s.meta;
  document.getElementById('count').textContent = (i + 1) + ' / ' + slides.length;
  document.body.dataset.index = i;
}
function play() {
  if (timer) { clearInterval(timer); timer = null; } else { timer = setInterval(() => show(i + 1), interval); }
}
document.addEventListener('keydown', e => {
  if (e.key === 'ArrowRight' || e.key === 'PageDown') show(i + 1);
  else if (e.key === 'ArrowLeft' || e.key === 'PageUp') show(i - 1);
  else if (e.key === ' ') { e.preventDefault(); play(); }
  else if (e.key === 'f' || e.key === 'F') {
    document.fullscreenElement ? document.exitFullscreen() : document.documentElement.requestFullscreen();
  }
});
// A click on the slide only lets the keys work (the page's bar says so); the keys move the slides.
show(0); document.body.focus();
if (__AUTOPLAY__) play();
</script></body></html>"""


def slideshow_html(slides: list[tuple[bytes | str, str, str, str]], *, autoplay: bool = False,
                   seconds: float = 4.0) -> str:
    """``slides`` are (image bytes and their MIME type, or a URL and "", caption, small print). Captions are shown
    as text, never run."""
    data = [{"src": img if isinstance(img, str) else f"data:{mime};base64,{base64.b64encode(img).decode('ascii')}",
             "caption": caption, "meta": meta} for img, mime, caption, meta in slides]
    # The slides go in last, so a caption that spells a placeholder's name stays as written.
    return (_TEMPLATE.replace("__INTERVAL__", str(int(seconds * 1000)))
            .replace("__AUTOPLAY__", "true" if autoplay else "false").replace("__SLIDES__", script_json(data)))


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: ``<``, ``>`` and ``&`` (and the JavaScript line
    separators) escaped as ``\\uXXXX``, so no text can close the element or open an HTML comment."""
    return (json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
