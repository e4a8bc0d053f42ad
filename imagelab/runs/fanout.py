"""One prompt, several models: the same request adapted to each model or quality level it goes to.

A target is a model name, or ``"model · quality"``. ``adapt(spec, target)`` returns the spec that
target would be sent, with each option it had to change said in words (the catalog decides what a
model takes), so nothing is changed silently.

    for target in ["gpt-image-1.5", "gpt-image-2 · low"]:
        sent, changes = adapt(spec, target)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from imagelab.catalog import model_info, offered_models
from imagelab.specs import size_problem

__all__ = ["MAX_TARGETS", "MIN_TARGETS", "SEPARATOR", "FanoutTarget", "target_choices", "adapt", "plan"]

MIN_TARGETS, MAX_TARGETS = 2, 6
SEPARATOR = " · "


def target_choices() -> list[str]:
    """Every model offered today (not retired, not past its shut-down date), then each of its quality levels."""
    out = list(offered_models())
    for name in offered_models():
        info = model_info(name)
        out += [f"{name}{SEPARATOR}{q}" for q in (info.qualities if info else ()) if q != "auto"]
    return out


@dataclass(frozen=True)
class FanoutTarget:
    target: str
    spec: Any
    changes: tuple[str, ...]


def adapt(spec: Any, target: str) -> FanoutTarget:
    """``spec`` as ``target`` would take it, and what had to change."""
    model, _, quality = target.partition(SEPARATOR)
    info = model_info(model)
    if info is None:
        return FanoutTarget(target, spec.with_changes(model=model), ())
    changes: dict[str, Any] = {"model": model}
    said: list[str] = []

    def change(name: str, value: Any, why: str) -> None:
        changes[name] = value
        said.append(why)

    fmt = spec.output_format
    if fmt not in info.all_formats:
        fmt = "png"
        change("output_format", fmt, f"format {spec.output_format} → png")
        changes.update(frame_count=None, frame_duration_ms=None, svg_model=None, svg_effort=None)
    qualities = spec.with_changes(output_format=fmt).qualities_for(info)  # an SVG's reference has its own
    if quality:
        changes["quality"] = quality
    elif spec.quality not in qualities:
        fallback = "auto" if "auto" in qualities else qualities[0]
        change("quality", fallback, f"quality {spec.quality} → {fallback}")
    if size_problem(spec.size, info, fmt):  # after the format: GIF and SVG have sizes of their own
        fallback = "auto" if "auto" in info.sizes else info.sizes[0]
        change("size", fallback, f"size {spec.size} → {fallback}")
    if spec.output_compression != 100 and fmt not in ("jpeg", "webp"):
        change("output_compression", 100, "no compression (PNG)")
    if spec.background not in info.backgrounds + info.preview_backgrounds:
        change("background", "auto", f"background {spec.background} → auto")
    elif spec.background == "transparent" and fmt not in ("png", "webp"):
        change("background", "auto", "background transparent → auto")
    if info.moderation and spec.moderation not in info.moderation:
        change("moderation", info.moderation[0], f"moderation {spec.moderation} → {info.moderation[0]}")
    return FanoutTarget(target, spec.with_changes(**changes), tuple(said))


def plan(spec: Any, targets: list[str]) -> list[FanoutTarget]:
    return [adapt(spec, t) for t in targets[:MAX_TARGETS]]
