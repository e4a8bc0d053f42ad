"""A run from spec to saved images: calls the client, saves each image before it is passed on.

``execute`` yields the client's partial images as they come, a ``Saved`` record for every
image once it is on disk and in the database, ``Failed`` for anything that went wrong, and
finally a ``RunResult``. A failure in one image loses none of the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .client import Failed, FinalImage, ImageLabError, UsageReport
from .costs import Cost, Estimate, actual, estimate
from .store import ImageRecord, Store

__all__ = ["Saved", "RunResult", "execute"]


@dataclass(frozen=True)
class Saved:
    record: ImageRecord


@dataclass
class RunResult:
    run_id: int
    page: str
    model: str
    prompt: str
    estimate: Estimate
    images: list[ImageRecord] = field(default_factory=list)
    errors: list[ImageLabError] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    cost: Cost | None = None
    request_id: str | None = None
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.errors:
            return "ok"
        return "partial" if self.images else "failed"


def execute(events: Callable[[], Iterator[Any]], spec: Any, store: Store, *, page: str, backend: str,
            parents: list[str] | None = None, est: Estimate | None = None) -> Iterator[Any]:
    """Run ``events()`` for ``spec``, saving as it goes; yields client events, ``Saved`` and a ``RunResult``."""
    est = est or estimate(spec)
    params = spec.to_record()
    run_id = store.start_run(page, spec.model, getattr(spec, "prompt", ""), params, asdict(est), backend)
    result = RunResult(run_id, page, spec.model, getattr(spec, "prompt", ""), est, params=params)
    started = time.perf_counter()
    try:
        for ev in events():
            if isinstance(ev, FinalImage):
                try:
                    rec = store.add_image(run_id, ev.image_index, ev.data, ev.output_format, ev.width, ev.height,
                                          ev.revised_prompt, parents)
                except OSError as exc:
                    err = ImageLabError(f"The image could not be saved to the history folder: {exc.strerror or exc}. "
                                        "Free some disk space or check IMAGELAB_DATA_DIR.")
                    result.errors.append(err)
                    yield Failed(err, ev.image_index)
                    continue
                rec = ImageRecord(**{**rec.__dict__, "prompt": result.prompt, "model": spec.model, "page": page})
                result.images.append(rec)
                yield Saved(rec)
            elif isinstance(ev, Failed):
                result.errors.append(ev.error)
                yield ev
            elif isinstance(ev, UsageReport):
                result.usage = ev.usage
                result.request_id = ev.request_id or result.request_id
                if ev.usage:
                    result.cost = actual(ev.usage, spec.model)
            else:  # partial images and anything else the caller may want (a turn's reply)
                yield ev
    finally:
        result.seconds = time.perf_counter() - started
        first_error = result.errors[0] if result.errors else None
        request_id = result.request_id or (first_error.request_id if first_error else None)
        result.request_id = request_id
        store.finish_run(run_id, result.status, usage=result.usage,
                         actual_dollars=result.cost.dollars if result.cost else None, request_id=request_id,
                         error="; ".join(e.sentence for e in result.errors) or None)
    yield result
