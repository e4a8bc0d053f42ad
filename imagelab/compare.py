"""Comparing images: which settings differ, and a before/after split of two pictures.

``slider_html`` is the split the browser draws: both pictures go in once, and dragging the line
(or pressing the arrow keys) moves it in the page itself, with no round trip to the server.
``before_after`` draws one split as a picture (for exports and tests).
"""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

__all__ = ["settings_table", "before_after", "slider_html", "pair_labels"]

_SKIP = {"images", "mask", "markup"}


def _flat(params: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in params.items():
        if key in _SKIP:
            if value:
                out[key] = f"{len(value)} image(s)" if isinstance(value, list) else "yes"
            continue
        out[key] = "—" if value is None else str(value)
    return out


def settings_table(records: list[dict[str, Any]]) -> tuple[list[str], list[list[str]], list[bool]]:
    """Rows of settings for side-by-side images: (setting names, values per image, differs?)."""
    flats = [_flat({"model": r.get("model"), "prompt": r.get("prompt"), **(r.get("params") or {})}) for r in records]
    names: list[str] = []
    for flat in flats:
        names += [k for k in flat if k not in names]
    values = [[flat.get(name, "—") for flat in flats] for name in names]
    differs = [len(set(row)) > 1 for row in values]
    return names, values, differs


def before_after(before: bytes, after: bytes, split: float, max_side: int = 1024) -> bytes:
    """One picture: ``before`` left of ``split`` (0–1 of the width), ``after`` right of it, a line between."""
    with Image.open(io.BytesIO(before)) as before_file, Image.open(io.BytesIO(after)) as after_file:
        b = before_file.convert("RGB")
        a = (after_file.convert("RGB").resize(b.size, Image.Resampling.LANCZOS) if after_file.size != b.size
             else after_file.convert("RGB"))
    scale = min(1.0, max_side / max(b.size))
    if scale < 1.0:
        size = (round(b.width * scale), round(b.height * scale))
        b, a = b.resize(size, Image.Resampling.LANCZOS), a.resize(size, Image.Resampling.LANCZOS)
    x = max(0, min(b.width, round(b.width * split)))
    out = a.copy()
    out.paste(b.crop((0, 0, x, b.height)), (0, 0))
    if 0 < x < b.width:
        line = Image.new("RGB", (max(2, b.width // 300), b.height), (255, 255, 255))
        out.paste(line, (max(0, x - line.width // 2), 0))
    buf = io.BytesIO()
    out.save(buf, "WEBP", quality=90)
    return buf.getvalue()


_SLIDER = """<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;background:transparent;font-family:system-ui,sans-serif}
#frame{position:relative;width:min(100%, __MAXW__px);aspect-ratio:__RATIO__;margin:0 auto;overflow:hidden;
  cursor:ew-resize;user-select:none;touch-action:none;border-radius:6px;
  background:repeating-conic-gradient(#d8d8d8 0 25%,#f4f4f4 0 50%) 0 0/16px 16px}
#frame img{position:absolute;inset:0;width:100%;height:100%;object-fit:contain;pointer-events:none}
#line{position:absolute;top:0;bottom:0;width:3px;margin-left:-1.5px;background:#fff;box-shadow:0 0 4px #0009}
#knob{position:absolute;top:50%;left:50%;width:34px;height:34px;margin:-17px 0 0 -17px;border-radius:50%;
  background:#fff;box-shadow:0 1px 6px #0008;display:flex;align-items:center;justify-content:center;
  font-size:16px;color:#333}
.tag{position:absolute;bottom:8px;padding:2px 8px;border-radius:4px;background:#000a;color:#fff;font-size:12px}
#range{position:absolute;left:0;bottom:0;width:100%;opacity:0;height:100%;margin:0;cursor:ew-resize}
</style></head><body>
<div id="frame" data-split="50"><img id="after" alt="after"><img id="before" alt="before">
<span class="tag" style="left:8px">Before</span><span class="tag" style="right:8px">After</span>
<div id="line"><div id="knob">&#x2194;</div></div>
<input id="range" type="range" min="0" max="100" step="0.5" value="50" aria-label="Before and after split"></div>
<script>
const frame = document.getElementById('frame'), before = document.getElementById('before'),
      line = document.getElementById('line'), range = document.getElementById('range');
document.getElementById('after').src = __AFTER__;
before.src = __BEFORE__;
function split(pct) {
  pct = Math.max(0, Math.min(100, pct));
  before.style.clipPath = 'inset(0 ' + (100 - pct) + '% 0 0)';
  line.style.left = pct + '%';
  range.value = pct;
  frame.dataset.split = pct.toFixed(1);
}
range.addEventListener('input', () => split(parseFloat(range.value)));
split(50);
</script></body></html>"""


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def slider_html(before: tuple[bytes, str], after: tuple[bytes, str], size: tuple[int, int], *,
                max_height: int = 720) -> str:
    """A self-contained page: ``before`` and ``after`` ((bytes, MIME type)) stacked in a frame of the
    after picture's ``size``, the before side clipped at a line the person drags; nothing is fetched."""
    width, height = size
    return (_SLIDER.replace("__RATIO__", f"{max(width, 1)} / {max(height, 1)}")
            .replace("__MAXW__", str(round(max_height * max(width, 1) / max(height, 1))))
            .replace("__AFTER__", f"'{_data_url(*after)}'").replace("__BEFORE__", f"'{_data_url(*before)}'"))


def pair_labels(prompts: list[str], limit: int = 48) -> list[str]:
    """Short names for pictures, from their prompts; pictures whose prompts read alike get their place."""
    short = [(p.strip() or "no prompt")[:limit] + ("…" if len(p.strip()) > limit else "") for p in prompts]
    return [f"{s} (picture {i + 1})" if short.count(s) > 1 else s for i, s in enumerate(short)]
