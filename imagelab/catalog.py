"""The model catalog: what each image model accepts and what it costs.

The figures live in ``catalog.json`` beside this file, each with a source note, so they can
be corrected without touching code. This module only reads them and answers questions.

A model's place in its lifecycle depends on the day: a retiring model whose announced (or reported)
shut-down date has passed is "shut down" (or "reported shut down"). ``today()`` is the clock every
such question asks unless it is given a day (``on``); tests replace it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "ModelInfo",
    "Catalog",
    "catalog",
    "model_info",
    "image_models",
    "current_models",
    "offered_models",
    "today",
    "gif_sizes",
    "gif_max_frames",
    "svg_rules",
    "picker_groups",
    "picker_choices",
    "group_of",
    "GROUP_CURRENT",
    "GROUP_SNAPSHOTS",
    "GROUP_RETIRING",
    "GROUP_SHUT_DOWN",
    "GROUP_RETIRED",
    "shape_of",
    "parse_size",
]

CATALOG_FILE = Path(__file__).with_name("catalog.json")


def today() -> date:
    """The day lifecycle questions are asked on (UTC): the real date unless a test replaces this."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class ModelInfo:
    """What one image model accepts."""

    name: str
    status: str  # "current", "retiring" (still sent, with a warning) or "retired" (never sent)
    successor: str | None
    retired_on: str | None
    sizes: tuple[str, ...]
    custom_sizes: bool
    qualities: tuple[str, ...]
    formats: tuple[str, ...]
    preview_formats: tuple[str, ...]
    backgrounds: tuple[str, ...]
    input_fidelity: tuple[str, ...]
    markup: bool
    max_input_images: int
    moderation: tuple[str, ...]
    price_table: str | None
    token_table: str | None
    note: str = ""
    snapshot_of: str | None = None
    tokens_exact: bool = True  # False where the token table is borrowed from another model
    # documented as a preview feature: may be refused by the API; offered only when marked as preview
    preview_backgrounds: tuple[str, ...] = ()
    purpose: str = ""                  # one line: what the model is for
    retiring_on: str | None = None     # the announced (or reported) shut-down date of a retiring model
    retiring_reported: bool = False    # the date comes from third parties, not from OpenAI
    lifecycle_source: str = ""         # where the retirement date comes from

    @property
    def retired(self) -> bool:
        return self.status == "retired"

    @property
    def retiring(self) -> bool:
        """Marked as retiring in the catalog, whether or not its date has passed (see ``shut_down``)."""
        return self.status == "retiring"

    def shut_down(self, on: date | None = None) -> bool:
        """A retiring model whose announced or reported shut-down date is ``on`` (default today) or earlier.

        Still sent when asked for (the date may only be reported), but not offered by default."""
        if not self.retiring or not self.retiring_on:
            return False
        return date.fromisoformat(self.retiring_on) <= (on or today())

    def stage(self, on: date | None = None) -> str:
        """Where the model is on ``on``: "current", "retiring", "reported shut down", "shut down" or "retired"."""
        if self.retired:
            return "retired"
        if self.shut_down(on):
            return "reported shut down" if self.retiring_reported else "shut down"
        return "retiring" if self.retiring else "current"

    def retiring_sentence(self, on: date | None = None) -> str:
        """The warning shown when a retiring model is chosen, before its date or after it."""
        if self.shut_down(on):
            said = "was reported shut down" if self.retiring_reported else "was shut down"
            return (f"{self.name} {said} on {self.retiring_on}: the API will likely answer that it does not exist. "
                    f"Choose {self.successor}, its successor; you can still send this one, since the date "
                    f"{'is only reported' if self.retiring_reported else 'may have moved'}. "
                    "Work made with it stays in the history.")
        reported = " is reported to shut down" if self.retiring_reported else " shuts down"
        return (f"{self.name}{reported} on {self.retiring_on}. Work made with it stays in the history; "
                f"{self.successor} is its successor.")

    def gone_sentence(self) -> str:
        """What to say when the API answers that this model does not exist."""
        if self.retired:
            return (f"The API no longer has {self.name}: it was retired on {self.retired_on}. "
                    f"Choose {self.successor}, its successor.")
        if self.retiring and self.retiring_on:
            said = "was reported to shut down" if self.retiring_reported else "shut down"
            return (f"The API no longer has {self.name}: it {said} on {self.retiring_on}. "
                    f"Choose {self.successor}, its successor.")
        return f"The API says {self.name} does not exist for this key; choose another model."

    @property
    def all_formats(self) -> tuple[str, ...]:
        return self.formats + self.preview_formats

    def retirement_sentence(self) -> str:
        return (
            f"The model {self.name} was retired on {self.retired_on}; "
            f"choose {self.successor} instead."
        )


@dataclass(frozen=True)
class Catalog:
    raw: dict[str, Any]
    models: dict[str, ModelInfo] = field(default_factory=dict)

    @property
    def default_model(self) -> str:
        name: str = self.raw["default_model"]
        return name

    @property
    def default_tool_model(self) -> str:
        name: str = self.raw["default_tool_model"]
        return name

    @property
    def default_responses_model(self) -> str:
        name: str = self.raw["default_responses_model"]
        return name

    @property
    def responses_models(self) -> list[str]:
        """The mainline models a conversation turn can use, in the order the page offers them."""
        return [str(name) for name in self.raw["responses_models"]]

    @property
    def limits(self) -> dict[str, Any]:
        limits: dict[str, Any] = self.raw["limits"]
        return limits

    def prices(self, model: str) -> dict[str, Any] | None:
        table = self.models[model].price_table
        return self.raw["prices"].get(table) if table else None

    def output_table(self, model: str) -> dict[str, Any] | None:
        table = self.models[model].token_table
        return self.raw["output_tokens"].get(table) if table else None

    @property
    def input_tokens(self) -> dict[str, Any]:
        rules: dict[str, Any] = self.raw["input_tokens"]
        return rules


def _load(path: Path) -> Catalog:
    raw = json.loads(path.read_text(encoding="utf-8"))
    models = {}
    for name, m in raw["models"].items():
        models[name] = ModelInfo(
            name=name,
            status=m["status"],
            successor=m["successor"],
            retired_on=m["retired_on"],
            sizes=tuple(m["sizes"]),
            custom_sizes=bool(m["custom_sizes"]),
            qualities=tuple(m["qualities"]),
            formats=tuple(m["formats"]),
            preview_formats=tuple(m["preview_formats"]),
            backgrounds=tuple(m["backgrounds"]),
            input_fidelity=tuple(m["input_fidelity"]),
            markup=bool(m["markup"]),
            max_input_images=int(m["max_input_images"]),
            moderation=tuple(m["moderation"]),
            price_table=m["prices"],
            token_table=m["tokens"],
            note=m.get("note", ""),
            snapshot_of=m.get("snapshot_of"),
            tokens_exact=bool(m.get("tokens_exact", True)),
            preview_backgrounds=tuple(m.get("preview_backgrounds", ())),
            purpose=m.get("purpose", ""),
            retiring_on=m.get("retiring_on"),
            retiring_reported=bool(m.get("retiring_reported", False)),
            lifecycle_source=m.get("lifecycle_source", ""),
        )
    return Catalog(raw=raw, models=models)


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The catalog, read once per process (it is immutable)."""
    return _load(CATALOG_FILE)


def model_info(name: str) -> ModelInfo | None:
    return catalog().models.get(name)


def image_models() -> list[str]:
    """Every model the catalog knows, current ones first."""
    models = catalog().models.values()
    return [m.name for m in models if not m.retired] + [m.name for m in models if m.retired]


def current_models() -> list[str]:
    """Every model that can still be sent (not retired), in catalog order."""
    return [m.name for m in catalog().models.values() if not m.retired]


def offered_models(on: date | None = None) -> list[str]:
    """The models offered by default on ``on``: neither retired nor past their shut-down date."""
    return [m.name for m in catalog().models.values() if not m.retired and not m.shut_down(on)]


GROUP_CURRENT = "Current"
GROUP_SNAPSHOTS = "Dated snapshots"
GROUP_RETIRING = "Retiring"
GROUP_SHUT_DOWN = "Shut down"
GROUP_RETIRED = "Retired"
OLDER_GROUPS = (GROUP_SHUT_DOWN, GROUP_RETIRED)  # behind the picker's switch


def _group_of(info: ModelInfo, on: date | None = None) -> str:
    if info.retired:
        return GROUP_RETIRED
    if info.shut_down(on):
        return GROUP_SHUT_DOWN
    if info.retiring:
        return GROUP_RETIRING
    return GROUP_SNAPSHOTS if info.snapshot_of else GROUP_CURRENT


def picker_groups(on: date | None = None) -> list[tuple[str, list[str]]]:
    """The models as the picker offers them on ``on`` (default today): current ones, dated snapshots and
    retiring ones (still before their date), then shut-down and retired ones (the last two behind a
    toggle), each group in catalog order; empty groups left out."""
    order = (GROUP_CURRENT, GROUP_SNAPSHOTS, GROUP_RETIRING, GROUP_SHUT_DOWN, GROUP_RETIRED)
    groups: dict[str, list[str]] = {g: [] for g in order}
    for info in catalog().models.values():
        groups[_group_of(info, on)].append(info.name)
    return [(g, groups[g]) for g in order if groups[g]]


def picker_choices(show_older: bool, chosen: str | None = None, on: date | None = None) -> list[str]:
    """The names the picker lists: shut-down and retired models only when ``show_older`` (or when one of
    them is the ``chosen`` model, so a loaded setting is never silently swapped)."""
    names = []
    for group, members in picker_groups(on):
        older = group in OLDER_GROUPS
        names += [n for n in members if show_older or not older or n == chosen]
    return names


def group_of(name: str, on: date | None = None) -> str | None:
    info = model_info(name)
    return _group_of(info, on) if info else None


def gif_sizes() -> dict[str, int]:
    """GIF frame sizes and the most frames each fits (approximate: see the catalog's source note)."""
    sizes: dict[str, int] = catalog().limits["gif"]["sizes"]
    return sizes


def gif_max_frames(size: str) -> int | None:
    """The most frames a GIF of ``size`` fits, or None when GIF output does not take that size."""
    return gif_sizes().get(size)


def svg_rules() -> dict[str, Any]:
    """What SVG output takes: reference sizes, qualities, complexities and author reasoning efforts."""
    rules: dict[str, Any] = catalog().limits["svg"]
    return rules


def parse_size(size: str) -> tuple[int, int] | None:
    """'1536x1024' -> (1536, 1024); anything else (including 'auto') -> None."""
    parts = size.lower().strip().split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    w, h = int(parts[0]), int(parts[1])
    return (w, h) if w > 0 and h > 0 else None


def shape_of(width: int, height: int) -> str:
    """'square', 'landscape' or 'portrait', as the token tables are keyed."""
    if width == height:
        return "square"
    return "landscape" if width > height else "portrait"
