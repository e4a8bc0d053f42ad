"""Synthetic pictures for the offline backend: pure functions, no server.

Every picture is deterministic for the same prompt and settings (the seed is a hash of
prompt, size, quality and image index), has exactly the size and format asked for, and is
visibly tied to the prompt: colour words in the prompt pick the background gradient, a few
shapes sit in the middle, the prompt's words are written on it, and a small
"SYNTHETIC · offline" label makes sure nobody mistakes it for a real model output.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = [
    "COLOUR_WORDS",
    "LABEL",
    "prompt_colours",
    "seed_for",
    "compose",
    "encode",
    "partial_states",
    "render",
    "render_partials",
    "render_gif",
    "animate",
    "render_svg",
    "HOSTILE_SVG_PARTS",
]

LABEL = "SYNTHETIC · offline"

COLOUR_WORDS: dict[str, tuple[int, int, int]] = {
    "red": (220, 38, 38),
    "crimson": (190, 18, 60),
    "scarlet": (230, 40, 20),
    "orange": (249, 115, 22),
    "amber": (245, 158, 11),
    "gold": (234, 179, 8),
    "golden": (234, 179, 8),
    "yellow": (250, 204, 21),
    "lime": (132, 204, 22),
    "green": (22, 163, 74),
    "emerald": (16, 185, 129),
    "teal": (13, 148, 136),
    "cyan": (6, 182, 212),
    "turquoise": (45, 212, 191),
    "blue": (37, 99, 235),
    "navy": (30, 41, 99),
    "indigo": (79, 70, 229),
    "violet": (139, 92, 246),
    "purple": (147, 51, 234),
    "magenta": (217, 70, 239),
    "pink": (236, 72, 153),
    "rose": (244, 63, 94),
    "brown": (120, 72, 40),
    "beige": (222, 205, 170),
    "black": (12, 12, 14),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "silver": (192, 192, 200),
    "white": (245, 245, 245),
}

_WORD = re.compile(r"[a-z]+")


def prompt_colours(prompt: str) -> list[tuple[int, int, int]]:
    """The colours named in the prompt, in order of appearance (duplicates dropped)."""
    seen: list[tuple[int, int, int]] = []
    for word in _WORD.findall(prompt.lower()):
        rgb = COLOUR_WORDS.get(word)
        if rgb and rgb not in seen:
            seen.append(rgb)
    return seen


def seed_for(prompt: str, width: int, height: int, quality: str, index: int, salt: str = "") -> int:
    key = f"{prompt}\x00{width}x{height}\x00{quality}\x00{index}\x00{salt}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def _hash_colour(rng: random.Random) -> tuple[int, int, int]:
    # Pleasant-ish: moderately saturated colours.
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(rng.random(), 0.45 + 0.4 * rng.random(), 0.55 + 0.4 * rng.random())
    return int(r * 255), int(g * 255), int(b * 255)


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    if factor >= 1:
        return tuple(int(c + (255 - c) * (factor - 1)) for c in rgb)  # type: ignore[return-value]
    return tuple(int(c * factor) for c in rgb)  # type: ignore[return-value]


def _palette(prompt: str,
             rng: random.Random) -> tuple[tuple[int, int, int], tuple[int, int, int], list[tuple[int, int, int]]]:
    named = prompt_colours(prompt)
    if len(named) >= 2:
        a, b = named[0], named[1]
    elif len(named) == 1:
        a = named[0]
        b = _shade(a, 0.7 if sum(a) > 300 else 1.25)
    else:
        a, b = _hash_colour(rng), _hash_colour(rng)
    extras = named[2:] + [_hash_colour(rng) for _ in range(4)]
    return a, b, extras


def _gradient(width: int, height: int, a: tuple[int, int, int], b: tuple[int, int, int], angle: float) -> np.ndarray:
    """An RGB linear gradient from colour a to colour b along `angle` (radians)."""
    xs = np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :]
    ys = np.linspace(-0.5, 0.5, height, dtype=np.float32)[:, None]
    t = xs * np.cos(angle) + ys * np.sin(angle)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    a_ = np.asarray(a, dtype=np.float32)
    b_ = np.asarray(b, dtype=np.float32)
    img = a_[None, None, :] * (1 - t[..., None]) + b_[None, None, :] * t[..., None]
    pixels: np.ndarray = img.clip(0, 255).astype(np.uint8)
    return pixels


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: int,
          max_lines: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= max_width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
        if len(lines) >= max_lines:
            break
    if current and len(lines) < max_lines:
        lines.append(current)
    if len(lines) == max_lines and " ".join(lines) != " ".join(words):
        last = lines[-1]
        while last and draw.textlength(last + " …", font=font) > max_width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines


def compose(
    prompt: str,
    width: int,
    height: int,
    *,
    quality: str = "high",
    index: int = 0,
    transparent: bool = False,
) -> Image.Image:
    """The final picture as a PIL image (RGB, or RGBA when `transparent`)."""
    rng = random.Random(seed_for(prompt, width, height, quality, index))
    a, b, extras = _palette(prompt, rng)
    angle = rng.uniform(0, 2 * np.pi)
    grad = _gradient(width, height, a, b, angle)
    short = min(width, height)

    base = Image.fromarray(grad, "RGB")
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)

    # The "subject": a disc of the gradient's colours (kept in transparent mode) holding a few shapes.
    cx = width / 2 + rng.uniform(-0.08, 0.08) * width
    cy = height / 2 + rng.uniform(-0.08, 0.08) * height
    radius = short * rng.uniform(0.30, 0.38)
    subject_box = (cx - radius, cy - radius, cx + radius, cy + radius)

    shapes = rng.randint(3, 6)
    for i in range(shapes):
        colour = extras[i % len(extras)] if i % 2 else _shade(a if i % 4 == 0 else b, rng.choice([0.6, 1.3]))
        r = radius * rng.uniform(0.18, 0.45)
        ang = rng.uniform(0, 2 * np.pi)
        dist = radius * rng.uniform(0.0, 0.55)
        x, y = cx + dist * np.cos(ang), cy + dist * np.sin(ang)
        kind = rng.choice(["ellipse", "rect", "triangle"])
        fill = (*colour, 230)
        outline = (*_shade(colour, 0.5), 255)
        w = max(1, short // 200)
        if kind == "ellipse":
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill, outline=outline, width=w)
        elif kind == "rect":
            draw.rounded_rectangle((x - r, y - r * 0.7, x + r, y + r * 0.7), radius=r * 0.2, fill=fill,
                                   outline=outline, width=w)
        else:
            rot = rng.uniform(0, 2 * np.pi)
            pts = [(x + r * np.cos(rot + k * 2.094), y + r * np.sin(rot + k * 2.094)) for k in range(3)]
            draw.polygon(pts, fill=fill, outline=outline)

    # The prompt, written across the lower part of the subject.
    font_size = max(10, short // 24)
    font = _font(font_size)
    max_w = int(min(width * 0.86, radius * 2.6))
    lines = _wrap(draw, prompt, font, max_w, max_lines=4 if short >= 512 else 2)
    line_h = int(font_size * 1.25)
    block_h = line_h * len(lines)
    ty = int(min(cy + radius * 0.55, height - block_h - short * 0.04))
    pad = font_size // 2
    if lines:
        text_w = int(max(draw.textlength(line, font=font) for line in lines))
        box = (width / 2 - text_w / 2 - pad, ty - pad, width / 2 + text_w / 2 + pad, ty + block_h + pad // 2)
        draw.rounded_rectangle(box, radius=pad, fill=(0, 0, 0, 150))
        for k, line in enumerate(lines):
            lw = draw.textlength(line, font=font)
            draw.text((width / 2 - lw / 2, ty + k * line_h), line, font=font, fill=(255, 255, 255, 255))
    else:
        box = None

    # The label, small, top-left.
    lfont = _font(max(9, short // 48))
    lpad = max(3, short // 160)
    lw = draw.textlength(LABEL, font=lfont)
    lh = lfont.size if hasattr(lfont, "size") else 12
    draw.rectangle((lpad, lpad, lpad * 3 + lw, lpad * 3 + lh * 1.2), fill=(0, 0, 0, 170))
    draw.text((lpad * 2, lpad * 2), LABEL, font=lfont, fill=(255, 255, 255, 255))

    if not transparent:
        base = base.convert("RGBA")
        base.alpha_composite(layer)
        return base.convert("RGB")

    # Transparent: keep the gradient only inside the subject disc; everything else alpha 0.
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse(subject_box, fill=255)
    out = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    out.paste(base.convert("RGBA"), (0, 0), mask)
    out.alpha_composite(layer)
    return out


def encode(image: Image.Image, output_format: str = "png", compression: int | None = None) -> bytes:
    """Encode as png / jpeg / webp. `compression` (0-100) is the jpeg/webp quality."""
    buf = io.BytesIO()
    fmt = output_format.lower()
    if fmt == "png":
        image.save(buf, "PNG", compress_level=1)
    elif fmt in ("jpeg", "jpg"):
        q = 90 if compression is None else max(1, min(100, int(compression)))
        image.convert("RGB").save(buf, "JPEG", quality=q)
    elif fmt == "webp":
        q = 90 if compression is None else max(0, min(100, int(compression)))
        image.save(buf, "WEBP", quality=q, method=0)
    elif fmt == "gif":
        return animate(image)
    elif fmt == "svg":
        return _svg_of_raster(image)
    else:
        raise ValueError(f"unsupported output format {output_format!r}")
    return buf.getvalue()


def partial_states(final: Image.Image, count: int) -> list[Image.Image]:
    """`count` earlier, rougher states of `final`: heavy downscale + blur, progressively sharper."""
    states = []
    w, h = final.size
    for k in range(count):
        factor = 2 ** (count - k + 2)  # e.g. count 3: 1/32, 1/16, 1/8
        small = final.resize((max(1, w // factor), max(1, h // factor)), Image.Resampling.BILINEAR)
        img = small.resize((w, h), Image.Resampling.BILINEAR)
        img = img.filter(ImageFilter.BoxBlur(max(1, factor // 4)))
        states.append(img)
    return states


def render(
    prompt: str,
    width: int,
    height: int,
    *,
    output_format: str = "png",
    quality: str = "high",
    index: int = 0,
    transparent: bool = False,
    compression: int | None = None,
) -> bytes:
    """The final picture, encoded."""
    img = compose(prompt, width, height, quality=quality, index=index, transparent=transparent)
    return encode(img, output_format, compression)


def render_partials(
    prompt: str,
    width: int,
    height: int,
    count: int,
    *,
    output_format: str = "png",
    quality: str = "high",
    index: int = 0,
    transparent: bool = False,
    compression: int | None = None,
) -> tuple[list[bytes], bytes]:
    """(partial images, final image), all encoded."""
    img = compose(prompt, width, height, quality=quality, index=index, transparent=transparent)
    partials = [encode(p, output_format, compression) for p in partial_states(img, count)]
    return partials, encode(img, output_format, compression)


def render_gif(prompt: str, width: int, height: int, *, frames: int = 9, duration_ms: int = 200,
               quality: str = "high", index: int = 0) -> bytes:
    """An animated GIF of the prompt's picture: a bright band sweeps across it and a counter shows the frame.

    Every frame differs from the one before (the band moves, the counter changes); the picture under
    them is the same ``compose`` result a PNG of this prompt would show. One palette for all frames
    keeps the encoding quick.
    """
    return animate(compose(prompt, width, height, quality=quality, index=index), frames, duration_ms)


def animate(picture: Image.Image, frames: int = 9, duration_ms: int = 200) -> bytes:
    """``picture`` as an animated GIF of ``frames`` frames, each visibly different (see ``render_gif``)."""
    base = picture.convert("RGB")
    width, height = base.size
    palette = base.quantize(colors=240, method=Image.Quantize.MEDIANCUT)
    short = min(width, height)
    font = _font(max(12, short // 16))
    pictures = []
    for k in range(frames):
        frame = base.copy()
        draw = ImageDraw.Draw(frame)
        band = max(8, width // (frames + 2))
        x = int((width - band) * k / max(1, frames - 1))
        draw.rectangle((x, 0, x + band, height), fill=(255, 255, 255))
        label = f"{k + 1}/{frames}"
        draw.rectangle((width - short // 4, height - short // 8, width, height), fill=(0, 0, 0))
        draw.text((width - short // 4 + short // 40, height - short // 9), label, font=font, fill=(255, 255, 255))
        pictures.append(frame.quantize(palette=palette, dither=Image.Dither.NONE))
    buf = io.BytesIO()
    pictures[0].save(buf, "GIF", save_all=True, append_images=pictures[1:], duration=duration_ms, loop=0,
                     optimize=False, disposal=1)
    return buf.getvalue()


def _svg_of_raster(image: Image.Image) -> bytes:
    """An edited picture as SVG: the picture itself (scaled down, embedded) inside a valid SVG document."""
    import base64

    width, height = image.size
    small = image.copy()
    small.thumbnail((512, 512))
    buf = io.BytesIO()
    small.save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><image width="{width}" height="{height}" '
            f'href="data:image/png;base64,{data}"/></svg>').encode()


def _xml_text(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))


# What ``render_svg(..., hostile=True)`` adds: markup a viewer must never run (script, a handler, a link out).
HOSTILE_SVG_PARTS = ('<script>window.__pwned = 1; document.title = "pwned";</script>',
                     '<image href="https://example.invalid/track.png" width="1" height="1"/>')


def render_svg(prompt: str, width: int, height: int, *, quality: str = "high", index: int = 0,
               hostile: bool = False) -> bytes:
    """A small, valid SVG of the prompt: the same two colours as its PNG in a gradient, a few shapes, the
    prompt's words and the synthetic label. ``hostile`` adds a ``<script>``, an ``onload`` handler and an
    external image (the fault ``svg-script``), so a viewer's safety can be tested."""
    rng = random.Random(seed_for(prompt, width, height, quality, index, salt="svg"))
    a, b, extras = _palette(prompt, rng)
    hexa = "#%02x%02x%02x"
    shapes = []
    for i in range(rng.randint(3, 5)):
        colour = hexa % extras[i % len(extras)]
        cx, cy = width * rng.uniform(0.3, 0.7), height * rng.uniform(0.3, 0.7)
        r = min(width, height) * rng.uniform(0.08, 0.18)
        if i % 2:
            shapes.append(f'<rect x="{cx - r:.0f}" y="{cy - r:.0f}" width="{2 * r:.0f}" height="{1.4 * r:.0f}" '
                          f'rx="{r * 0.2:.0f}" fill="{colour}" fill-opacity="0.9"/>')
        else:
            shapes.append(f'<circle cx="{cx:.0f}" cy="{cy:.0f}" r="{r:.0f}" fill="{colour}" fill-opacity="0.9"/>')
    size = max(12, min(width, height) // 24)
    words = _xml_text(prompt if len(prompt) <= 80 else prompt[:79] + "…")
    onload = ' onload="window.__pwned = 2"' if hostile else ""
    extra = "".join(HOSTILE_SVG_PARTS) if hostile else ""
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}"{onload}>'
           f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
           f'<stop offset="0" stop-color="{hexa % a}"/><stop offset="1" stop-color="{hexa % b}"/>'
           f'</linearGradient></defs>'
           f'<rect width="{width}" height="{height}" fill="url(#g)"/>{"".join(shapes)}'
           f'<text x="{width / 2:.0f}" y="{height * 0.85:.0f}" font-size="{size}" text-anchor="middle" '
           f'fill="#ffffff" font-family="sans-serif">{words}</text>'
           f'<text x="{size // 2}" y="{size}" font-size="{size * 0.6:.0f}" fill="#ffffff" '
           f'font-family="sans-serif">{_xml_text(LABEL)}</text>{extra}</svg>')
    return svg.encode("utf-8")
