"""Prompt sweeps: one template, several values per ``{variable}`` and several option values, run as a batch.

    sweep = Sweep("Photo of a {item} on a white backdrop",
                  values={"item": ["dining chair", "bench"]},
                  axes={"quality": ["low", "high"]},
                  base=GenerateSpec(size="1024x1024"))
    sweep.problems()           # sentences; empty when the sweep can run
    plan = sweep.plan()        # items, request count, summed estimate
    group, run_ids = submit_sweep(engine, plan.items, connection)

Items are the cartesian product of the variables' values (in template order) and the option
axes (in the order given), the first dimension varying slowest. Each item is one request
(``images.generate`` with the item's ``n``).

``sweep_grid(runs)`` lays a sweep's runs out by their axis values from their labels: the last
axis that varies across the columns, the others down the rows.

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

from imagelab.client import Connection
from imagelab.costs import estimate
from imagelab.people import Person
from imagelab.specs import GenerateSpec, OutputOptions
from imagelab.store import StorageError

from .engine import EventCall, JobRequest, NotAllSent, RunEngine
from .kinds import Job, kind_of

__all__ = ["MAX_REQUESTS", "template_variables", "fill_template", "Sweep", "SweepItem", "SweepPlan", "plan_items",
           "submit_sweep", "cancel_sweep", "SweepGrid", "parse_label", "sweep_grid", "Preset", "load_presets",
           "PRESETS_FILE"]

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
    request_count: int
    total_estimate_dollars: float
    approximate: bool

    @property
    def image_count(self) -> int:
        return sum(item.spec.n for item in self.items)

    @property
    def grid(self) -> SweepGrid:
        """How the results will be laid out: rows and columns by axis values."""
        return sweep_grid([(item.index, item.label) for item in self.items])

    def describe(self) -> str:
        """What the plan is, in a sentence: how many requests, laid out how, and how many pictures."""
        grid = self.grid
        requests = f"{self.request_count} request{'s' if self.request_count != 1 else ''}"
        pictures = f"{self.image_count} picture{'s' if self.image_count != 1 else ''}"

        def some(values: list[str]) -> str:
            return ", ".join(values[:4]) + (f" and {len(values) - 4} more" if len(values) > 4 else "")

        if grid.column_axis:
            down = (f"{grid.row_axis} ({some(grid.rows)})" if " · " not in grid.row_axis
                    else f"{grid.row_axis} ({len(grid.rows)} combinations)")
            return (f"{requests} in a grid of {len(grid.rows)} rows by {len(grid.columns)} columns: {down} down, "
                    f"{grid.column_axis} ({some(grid.columns)}) across; {pictures}.")
        if grid.row_axis:
            return f"{requests}, a row for each {grid.row_axis}: {some(grid.rows)}; {pictures}."
        return f"{requests}; {pictures}."

    def needs_confirmation(self, threshold_dollars: float, *, billed: bool = True) -> bool:
        """True when the summed estimate exceeds the threshold (ask before spending that much).

        Never for an unbilled (offline) connection: nothing is spent there."""
        return billed and self.total_estimate_dollars > threshold_dollars


def plan_items(items: list[SweepItem]) -> SweepPlan:
    ests = [estimate(item.spec) for item in items]
    return SweepPlan(items=list(items), request_count=len(items),
                     total_estimate_dollars=sum(e.dollars for e in ests),
                     approximate=any(e.approximate for e in ests))


# --- showing ----------------------------------------------------------------------------------

_LABEL_PART = re.compile(r" · (?=[A-Za-z_][A-Za-z0-9_]*=)")
_LABEL_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)


def parse_label(label: str | None) -> list[tuple[str, str]] | None:
    """An item's label back into its (axis, value) pairs; ``[]`` for a sweep with nothing varying
    ("#1"), ``None`` for a label not made by ``SweepItem``."""
    if not label:
        return None
    if re.fullmatch(r"#\d+", label):
        return []
    pairs = []
    for part in _LABEL_PART.split(label):
        m = _LABEL_NAME.fullmatch(part)
        if m is None:
            return None
        pairs.append((m.group(1), m.group(2)))
    return pairs


@dataclass(frozen=True)
class SweepGrid:
    """A sweep's runs by axis values: ``cells[r][c]`` is the run id at row ``rows[r]`` and column
    ``columns[c]`` (``None`` where no run has those values). One axis, or none: a single column ``""``."""

    row_axis: str
    column_axis: str
    rows: list[str]
    columns: list[str]
    cells: list[list[int | None]]


def _in_order(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def sweep_grid(runs: list[tuple[int, str | None]]) -> SweepGrid:
    """Lay out (run id, label) pairs, in the order they were submitted, as rows by columns.

    Two axes: the first down the rows, the second across. More: every axis but the last down the
    rows ("item=chair · quality=low"), the last across. One: a row per value. Labels that are not
    a sweep's (or disagree on their axes) give a row per run.
    """
    runs = sorted(runs, key=lambda r: r[0])
    parsed = [parse_label(label) for _, label in runs]
    names = [tuple(k for k, _ in p) for p in parsed if p is not None]
    if not runs or len(names) < len(runs) or len(set(names)) != 1:
        rows = [label or f"#{i + 1}" for i, (_, label) in enumerate(runs)]
        return SweepGrid("", "", rows, [""], [[run_id] for run_id, _ in runs])
    axes = names[0]
    if len(axes) < 2:
        row_of = [p[0][1] if p else f"#{i + 1}" for i, p in enumerate(parsed) if p is not None]
        rows = _in_order(row_of)
        cells: list[list[int | None]] = [[None] for _ in rows]
        for (run_id, _), row in zip(runs, row_of, strict=True):
            cells[rows.index(row)][0] = cells[rows.index(row)][0] or run_id
        return SweepGrid(axes[0] if axes else "", "", rows, [""], cells)
    many = len(axes) > 2
    row_of = [" · ".join(f"{k}={v}" if many else v for k, v in p[:-1]) for p in parsed if p is not None]
    col_of = [p[-1][1] for p in parsed if p is not None]
    rows, columns = _in_order(row_of), _in_order(col_of)
    cells = [[None] * len(columns) for _ in rows]
    for (run_id, _), row, col in zip(runs, row_of, col_of, strict=True):
        r, c = rows.index(row), columns.index(col)
        cells[r][c] = cells[r][c] or run_id
    return SweepGrid(" · ".join(axes[:-1]), axes[-1], rows, columns, cells)


# --- running --------------------------------------------------------------------------------

def submit_sweep(engine: RunEngine, items: list[SweepItem], connection: Connection, *, group: str | None = None,
                 budget: Any = None, moderate: bool = False, owner: Person | None = None,
                 call: EventCall | None = None) -> tuple[str, list[int]]:
    """Hand every item to the run engine as one job (page ``"sweep"``), grouped; return (group, run ids).

    Each cell is a job as data (``kinds.Job``: its kind and spec as JSON), so on a shared history any worker
    may send it; ``call`` sends it another way, in this process (tests). The engine's workers bound how many
    run at once; one item's failure loses none of the others, and cancelling the group's runs stops what has
    not finished, keeping what was saved. With a ``budget`` guard (``budgets.Guard``) each run is checked as
    it starts: the sweep stops at a spending limit.
    """
    group = group or uuid.uuid4().hex[:12]
    ids: list[int] = []
    for item in items:
        job = Job.of(kind_of(item.spec), item.spec, connection, page="sweep", group=group, label=item.label,
                     owner=owner.subject if owner is not None else None, moderate=moderate)
        request: JobRequest = job.request(connection.api_key, budget=budget, owner=owner, call=call)
        try:
            ids.append(engine.submit(request))
        except StorageError as exc:  # the history stopped taking rows: the rest are not sent
            if not ids:
                raise
            raise NotAllSent(group, ids, len(items), exc.sentence) from None
    return group, ids



def cancel_sweep(engine: RunEngine, group: str) -> int:
    """Cancel the group's runs that have not finished; returns how many were active."""
    return engine.cancel_many([job.run_id for job in engine.active(group=group)])


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
