"""Prompt sweeps: one template, several values per ``{variable}`` and several option values, run as a batch.

    sweep = Sweep("Photo of a {item} on a white backdrop",
                  values={"item": ["dining chair", "bench"]},
                  axes={"quality": ["low", "high"]},
                  base=GenerateSpec(size="1024x1024"))
    sweep.problems()           # sentences; empty when the sweep can run
    plan = sweep.plan()        # items, request count, summed estimate
    group, run_ids = submit_sweep(engine, plan.items, client.generate, connection)

Items are the cartesian product of the variables' values (in template order) and the option
axes (in the order given), the first dimension varying slowest. Each item is one request
(``images.generate`` with the item's ``n``).

``load_presets()`` reads ``presets.json`` beside this module: the image-generation guide's
gallery prompts as sweeps to start from.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .client import Connection
from .costs import Estimate, estimate
from .jobs import EventCall, JobRequest, RunEngine
from .specs import GenerateSpec, OutputOptions

__all__ = ["MAX_REQUESTS", "template_variables", "fill_template", "Sweep", "SweepItem", "SweepPlan", "plan_items",
           "submit_sweep", "cancel_sweep", "Preset", "load_presets", "PRESETS_FILE"]

MAX_REQUESTS = 200
PRESETS_FILE = Path(__file__).with_name("presets.json")

# ``{{`` and ``}}`` are literal braces; ``{name}`` is a placeholder (letters, digits, underscores).
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_AXES = tuple(f.name for f in fields(OutputOptions))


def template_variables(template: str) -> list[str]:
    """The ``{name}`` placeholders of ``template`` in order of first appearance, each once."""
    out: list[str] = []
    for m in _TOKEN.finditer(template):
        name = m.group(1)
        if name and name not in out:
            out.append(name)
    return out


def fill_template(template: str, bindings: dict[str, str]) -> str:
    """Replace each ``{name}`` by its binding (unbound ones stay as written) and ``{{``/``}}`` by braces."""
    def sub(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok == "{{":
            return "{"
        if tok == "}}":
            return "}"
        return str(bindings.get(m.group(1), tok))
    return _TOKEN.sub(sub, template)


def _label(parts: list[tuple[str, Any]]) -> str:
    return " · ".join(f"{k}={v}" for k, v in parts)


@dataclass(frozen=True)
class SweepItem:
    """One request of a sweep: its label, what was bound, and the finished spec."""

    index: int
    label: str
    bindings: dict[str, Any]
    spec: GenerateSpec


@dataclass
class Sweep:
    template: str
    values: dict[str, list[str]] = field(default_factory=dict)
    axes: dict[str, list[Any]] = field(default_factory=dict)
    base: GenerateSpec = field(default_factory=GenerateSpec)

    @property
    def variables(self) -> list[str]:
        return template_variables(self.template)

    def _dimensions(self) -> list[tuple[str, list[Any]]]:
        dims = [(name, list(self.values.get(name) or [])) for name in self.variables]
        dims += [(name, list(vals or [])) for name, vals in self.axes.items()]
        return dims

    @property
    def request_count(self) -> int:
        """How many requests ``expand()`` would make, without making them."""
        return math.prod(len(vals) for _, vals in self._dimensions())

    def structure_problems(self) -> list[str]:
        """Problems with the template, values and axes themselves (not with the finished specs)."""
        out: list[str] = []
        variables = self.variables
        if not self.template.strip():
            out.append("Write a prompt template: it is empty.")
        for name in variables:
            if name not in self.values:
                out.append(f"The placeholder {{{name}}} has no values; add at least one value for it "
                           f"or take it out of the template.")
            elif not self.values[name]:
                out.append(f"The list of values for {{{name}}} is empty; add at least one value.")
            elif any(not str(v).strip() for v in self.values[name]):
                out.append(f"One of the values for {{{name}}} is blank; fill it in or remove it.")
        for name in self.values:
            if name not in variables:
                out.append(f"Values are given for {{{name}}}, but the template has no placeholder by that name; "
                           f"add {{{name}}} to the template or remove its values.")
        for name, vals in self.axes.items():
            if name not in _AXES:
                out.append(f"'{name}' is not an option that can be swept; choose from {', '.join(_AXES)}.")
            elif not vals:
                out.append(f"The list of values for the option '{name}' is empty; "
                           "add at least one or remove the option.")
        if not out:
            count = self.request_count
            if count > MAX_REQUESTS:
                out.append(f"This sweep would send {count:,} requests; the limit is {MAX_REQUESTS}. "
                           "Remove some values or options.")
        return out

    def expand(self) -> list[SweepItem]:
        """Every combination as a ``SweepItem``; unknown option axes are left out (``problems()`` names them)."""
        dims = [(n, v) for n, v in self._dimensions() if n in self.values or n in self.variables or n in _AXES]
        varying = [n for n, v in dims if len(v) > 1]
        variables = set(self.variables)
        items: list[SweepItem] = []
        for i, combo in enumerate(itertools.product(*(vals for _, vals in dims))):
            bindings = {name: val for (name, _), val in zip(dims, combo, strict=True)}
            words = {k: v for k, v in bindings.items() if k in variables}
            options = {k: v for k, v in bindings.items() if k not in variables}
            spec = self.base.with_changes(prompt=fill_template(self.template, words), **options)
            shown = [(k, v) for k, v in bindings.items() if k in varying] or list(bindings.items())
            items.append(SweepItem(i, _label(shown) or f"#{i + 1}", bindings, spec))
        return items

    def problems(self) -> list[str]:
        """Every reason the sweep cannot run, as sentences; an empty list means it can."""
        out = self.structure_problems()
        if out:
            return out
        grouped: dict[str, list[SweepItem]] = {}
        for item in self.expand():
            for p in item.spec.problems():
                grouped.setdefault(p.message, []).append(item)
        for message, items in grouped.items():
            first = items[0]
            more = f" (and {len(items) - 1} more item{'s' if len(items) > 2 else ''})" if len(items) > 1 else ""
            out.append(f"Item {first.index + 1} ({first.label}){more}: {message}")
        return out

    def plan(self) -> SweepPlan:
        return plan_items(self.expand())


@dataclass(frozen=True)
class SweepPlan:
    items: list[SweepItem]
    estimates: list[Estimate]
    request_count: int
    total_estimate_dollars: float
    approximate: bool

    @property
    def image_count(self) -> int:
        return sum(item.spec.n for item in self.items)

    def needs_confirmation(self, threshold_dollars: float) -> bool:
        """True when the summed estimate exceeds the threshold (ask before spending that much)."""
        return self.total_estimate_dollars > threshold_dollars


def plan_items(items: list[SweepItem]) -> SweepPlan:
    ests = [estimate(item.spec) for item in items]
    return SweepPlan(items=list(items), estimates=ests, request_count=len(items),
                     total_estimate_dollars=sum(e.dollars for e in ests),
                     approximate=any(e.approximate for e in ests))


# --- running --------------------------------------------------------------------------------

def submit_sweep(engine: RunEngine, items: list[SweepItem], call: EventCall, connection: Connection, *,
                 group: str | None = None, budget: Any = None, moderate: bool = False) -> tuple[str, list[int]]:
    """Hand every item to the run engine as one job (page ``"sweep"``), grouped; return (group, run ids).

    The engine's worker pool bounds how many run at once; one item's failure loses none of the
    others, and cancelling the group's runs stops what has not finished, keeping what was saved. With a
    ``budget`` guard (``budgets.Guard``) each run is checked as it starts: the sweep stops at a spending limit.
    """
    group = group or uuid.uuid4().hex[:12]
    ids = [engine.submit(JobRequest(item.spec, call, connection, "sweep", group=group, label=item.label,
                                    budget=budget, moderate=moderate))
           for item in items]
    return group, ids


def cancel_sweep(engine: RunEngine, group: str) -> int:
    """Cancel the group's runs that have not finished; returns how many were active."""
    return sum(engine.cancel(job.run_id) for job in engine.active(group=group))


# --- presets --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    """A sweep to start from: the template, values for each variable and suggested option axes."""

    name: str
    template: str
    values: dict[str, list[str]]
    axes: dict[str, list[Any]] = field(default_factory=dict)
    base: dict[str, Any] = field(default_factory=dict)  # options to start from, e.g. {"size": "1024x1024"}
    source: str = ""
    note: str = ""

    def to_sweep(self, base: GenerateSpec | None = None) -> Sweep:
        spec = (base or GenerateSpec()).with_changes(**self.base)
        return Sweep(self.template, {k: list(v) for k, v in self.values.items()},
                     {k: list(v) for k, v in self.axes.items()}, spec)


def load_presets(path: str | Path | None = None) -> list[Preset]:
    raw = json.loads(Path(path or PRESETS_FILE).read_text(encoding="utf-8"))
    out = []
    for p in raw["presets"]:
        out.append(Preset(name=p["name"], template=p["template"], values={k: list(v) for k, v in p["values"].items()},
                          axes={k: list(v) for k, v in (p.get("axes") or {}).items()}, base=dict(p.get("base") or {}),
                          source=p.get("source", ""), note=p.get("note", "")))
    return out
