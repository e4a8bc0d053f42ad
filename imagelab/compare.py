"""Comparing images: which settings differ, and a before/after split of two pictures."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

__all__ = ["settings_table", "before_after"]

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
