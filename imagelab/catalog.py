"""The model catalog: what each image model accepts and what it costs.

The figures live in ``catalog.json`` beside this file, each with a source note, so they can
be corrected without touching code. This module only reads them and answers questions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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
    "picker_groups",
    "picker_choices",
    "group_of",
    "GROUP_CURRENT",
    "GROUP_SNAPSHOTS",
    "GROUP_RETIRING",
    "GROUP_RETIRED",
    "shape_of",
    "parse_size",
]

CATALOG_FILE = Path(__file__).with_name("catalog.json")


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
        return self.status == "retiring"

    def retiring_sentence(self) -> str:
        """The warning shown when a retiring model is chosen."""
        reported = " is reported to shut down" if self.retiring_reported else " shuts down"
        return (f"{self.name}{reported} on {self.retiring_on}. Work made with it stays in the history; "
                f"{self.successor} is its successor.")

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
    return [m.name for m in catalog().models.values() if not m.retired]


GROUP_CURRENT = "Current"
GROUP_SNAPSHOTS = "Dated snapshots"
GROUP_RETIRING = "Retiring"
GROUP_RETIRED = "Retired"


def _group_of(info: ModelInfo) -> str:
    if info.retired:
        return GROUP_RETIRED
    if info.retiring:
        return GROUP_RETIRING
    return GROUP_SNAPSHOTS if info.snapshot_of else GROUP_CURRENT


def picker_groups() -> list[tuple[str, list[str]]]:
    """The models as the picker offers them: current ones, then dated snapshots, then retiring and
    retired ones (the last two behind a toggle), each group in catalog order; empty groups left out."""
    order = (GROUP_CURRENT, GROUP_SNAPSHOTS, GROUP_RETIRING, GROUP_RETIRED)
    groups: dict[str, list[str]] = {g: [] for g in order}
    for info in catalog().models.values():
        groups[_group_of(info)].append(info.name)
    return [(g, groups[g]) for g in order if groups[g]]


def picker_choices(show_older: bool, chosen: str | None = None) -> list[str]:
    """The names the picker lists: retiring and retired models only when ``show_older`` (or when one of
    them is the ``chosen`` model, so a loaded setting is never silently swapped)."""
    names = []
    for group, members in picker_groups():
        older = group in (GROUP_RETIRING, GROUP_RETIRED)
        names += [n for n in members if show_older or not older or n == chosen]
    return names


def group_of(name: str) -> str | None:
    info = model_info(name)
    return _group_of(info) if info else None


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
