"""The prompt library: prompts saved with a title and tags, and the image guide's gallery prompts shipped with ImageLab.

Saved prompts live in the store (``Store.save_prompt`` / ``saved_prompts`` / ``delete_prompt``); the
shipped ones are read from ``prompt_library.json`` beside this file, each with its source, and
cannot be changed (save a copy to change one). ``search`` finds prompts whose title, text, tags or
source contain every word of a query, best matches first; ``parse_tags`` turns what a person
typed into clean tags.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["LibraryPrompt", "shipped_prompts", "search", "parse_tags", "all_tags", "TITLE_CHARS", "MAX_TAGS"]

LIBRARY_FILE = Path(__file__).with_name("prompt_library.json")
TITLE_CHARS = 120
MAX_TAGS = 12


@dataclass(frozen=True)
class LibraryPrompt:
    """One prompt in the library; ``id`` is None for a shipped one (its ``source`` says where it is from)."""

    title: str
    text: str
    tags: tuple[str, ...] = ()
    id: int | None = None
    source: str = ""
    note: str = ""
    size: str | None = None
    quality: str | None = None
    created_at: float = 0.0

    @property
    def shipped(self) -> bool:
        return self.id is None


@lru_cache(maxsize=1)
def shipped_prompts() -> tuple[LibraryPrompt, ...]:
    """The image guide's gallery prompts, as shipped in ``prompt_library.json``."""
    raw = json.loads(LIBRARY_FILE.read_text(encoding="utf-8"))
    return tuple(LibraryPrompt(title=p["title"], text=p["prompt"], tags=tuple(p.get("tags", ())),
                               source=p.get("source", ""), note=p.get("note", ""), size=p.get("size"),
                               quality=p.get("quality")) for p in raw["prompts"])


def parse_tags(typed: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Tags from "Poster, ad;  Kyoto" (or a list): trimmed, lower case, inner spaces kept, no repeats."""
    items = re.split(r"[,;\n]", typed) if isinstance(typed, str) else list(typed)
    seen: list[str] = []
    for item in items:
        tag = " ".join(str(item).split()).lower()[:40]
        if tag and tag not in seen:
            seen.append(tag)
    return tuple(seen[:MAX_TAGS])


def all_tags(prompts: list[LibraryPrompt] | tuple[LibraryPrompt, ...]) -> list[str]:
    """Every tag used, the most used first (then alphabetically)."""
    counts: dict[str, int] = {}
    for p in prompts:
        for tag in p.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))


def _score(prompt: LibraryPrompt, words: list[str]) -> int:
    title, text = prompt.title.lower(), prompt.text.lower()
    tags, source = " ".join(prompt.tags), prompt.source.lower()
    score = 0
    for word in words:
        hit = 0
        if word in prompt.tags:
            hit = 4
        elif word in title:
            hit = 3
        elif word in tags:
            hit = 2
        elif word in text or word in source:
            hit = 1
        if not hit:
            return 0
        score += hit
    return score


def search(prompts: list[LibraryPrompt] | tuple[LibraryPrompt, ...], query: str = "",
           tags: list[str] | tuple[str, ...] = ()) -> list[LibraryPrompt]:
    """The prompts carrying every tag in ``tags`` and containing every word of ``query`` (in the title, tags,
    text or source, case ignored); the best matches first (tag and title hits before text hits), then the
    person's own prompts before shipped ones, newest first."""
    words = [w for w in query.lower().split() if w]
    wanted = set(parse_tags(list(tags)))
    found = []
    for p in prompts:
        if not wanted <= set(p.tags):
            continue
        score = _score(p, words) if words else 1
        if score:
            found.append((score, p))
    found.sort(key=lambda sp: (-sp[0], sp[1].shipped, -sp[1].created_at, sp[1].title.lower()))
    return [p for _, p in found]
