"""What the offline "mainline model" writes when it is asked for words, not pictures (no tools): pure functions.

- With an input image: ``describe_picture`` — a prompt that would recreate it, built from the
  picture itself: its orientation and size, its dominant colours (named after ``render``'s colour
  words) and, when the file carries ImageLab's metadata (the ``imagelab`` record ``export`` embeds
  in PNG, WebP and JPEG downloads), the words it was made from. The offline renderer writes no
  text chunks itself, so a picture straight from it is described from its pixels alone.
- Without one, when the instructions ask to improve or rewrite a prompt: ``improve_prompt`` — the
  prompt tidied (spacing, capital, full stop), vague words made specific (``SPECIFIC``) and, for
  what it leaves unsaid, a sentence each on composition, lighting and detail.

Both are deterministic: the same picture or prompt always gets the same words.
"""

from __future__ import annotations

import re

from PIL import Image

from imagelab.export import read_metadata

from .render import COLOUR_WORDS

__all__ = ["describe_picture", "improve_prompt", "asks_to_rewrite", "dominant_colours", "SPECIFIC"]

# Vague words and what the rewrite says instead.
SPECIFIC = {"nice": "striking", "beautiful": "elegant", "good": "well-crafted", "big": "large", "pic": "picture",
            "cool": "bold", "pretty": "graceful", "stuff": "objects", "thing": "object", "things": "objects"}
_ADDITIONS = (
    (("composition", "centered", "centred", "framing", "close-up", "wide shot", "in the foreground"),
     "Composition: the subject centred, clear foreground and background."),
    (("light", "lighting", "lit ", "sunset", "dawn", "dusk", "golden hour", "shadow"),
     "Lighting: soft natural light with gentle shadows."),
    (("detail", "sharp", "texture", "high quality", "4k", "8k"),
     "Rendering: high detail, crisp textures, sharp focus."),
)


def asks_to_rewrite(instructions: str) -> bool:
    low = instructions.lower()
    return "prompt" in low and any(word in low for word in ("improve", "rewrite", "rephrase"))


def _nearest_name(rgb: tuple[int, int, int]) -> str:
    def distance(name: str) -> int:
        c = COLOUR_WORDS[name]
        return sum((a - b) ** 2 for a, b in zip(c, rgb, strict=True))

    return min((n for n in COLOUR_WORDS if n not in ("gray", "golden")), key=distance)


def dominant_colours(picture: Image.Image, count: int = 3) -> list[str]:
    """The names of the picture's main colours, the most area first (repeats merged)."""
    small = picture.convert("RGB")
    small.thumbnail((96, 96))
    quant = small.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    palette: list[int] = list(quant.getpalette() or [])
    names: list[str] = []
    for _, index in sorted(quant.getcolors() or [], reverse=True):
        at = int(index) * 3  # type: ignore[call-overload]  # a "P" image's colours are palette indexes
        rgb = (palette[at], palette[at + 1], palette[at + 2])
        name = _nearest_name(rgb)
        if name not in names:
            names.append(name)
        if len(names) == count:
            break
    return names


def _orientation(width: int, height: int) -> str:
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"


def _listing(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe_picture(data: bytes, picture: Image.Image) -> str:
    """A prompt that would recreate the picture (see the module docstring)."""
    width, height = picture.size
    colours = _listing(dominant_colours(picture))
    made_from = ""
    meta = read_metadata(data)
    if meta and isinstance(meta.get("prompt"), str) and meta["prompt"].strip():
        made_from = " ".join(meta["prompt"].split())
        made_from = made_from[0].upper() + made_from[1:]
    shape = f"A {_orientation(width, height)} {width}x{height} picture"
    if made_from:
        return (f"{made_from.rstrip('.')}. {shape}, its palette mostly {colours}; keep the same composition, "
                "subject placement and style.")
    return (f"{shape} in mostly {colours}: a central subject of simple overlapping shapes on a smooth gradient "
            "background, with a line of caption text across its lower part; flat, clean digital illustration.")


def improve_prompt(prompt: str) -> str:
    """The prompt made more specific (see the module docstring); the same prompt always gets the same rewrite."""
    words = prompt.split()
    fixed = []
    for word in words:
        core = re.sub(r"\W+$", "", word)
        tail = word[len(core):]
        better = SPECIFIC.get(core.lower())
        fixed.append((better if core.islower() or not better else better.capitalize()) + tail if better else word)
    text = " ".join(fixed).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?\"'”":
        text += "."
    low = text.lower()
    extra = [sentence for cues, sentence in _ADDITIONS if not any(cue in low for cue in cues)]
    return " ".join([text, *extra])
