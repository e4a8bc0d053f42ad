"""``POST /v1/images/generations`` for the offline backend: a JSON body, validated like the real API.

Owns ``validate_generation`` (the body → ``GenerationSpec``), ``generation_events`` (the
streamed answer) and the handler ``create_generation``, which answers with the real
``ImagesResponse`` shape, or server-sent events when ``stream`` is true; the pictures come from
``render`` (GIF: an animation whose frames change, ``render_gif``; SVG: a small drawing, ``render_svg``,
carrying a script when the ``svg-script`` fault is on). Builds on ``render``, ``protocol``, ``sse``,
``faults``, ``validation``, ``images`` and ``workload`` (at most so many pictures drawn at once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import render
from .faults import Faults, apply_faults
from .images import GENERATION_PARAMS, generation_usage, image_events, images_response
from .protocol import read_json
from .sse import event_stream
from .validation import (
    GenerationSpec,
    check_moderation,
    check_prompt,
    refuse_unknown,
    resolve_model,
    validate_output_options,
)
from .workload import RenderGate, render_gate

__all__ = ["validate_generation", "generation_events", "create_generation"]


def validate_generation(body: dict[str, Any]) -> GenerationSpec:
    refuse_unknown(body, GENERATION_PARAMS)
    info = resolve_model(body)
    prompt = check_prompt(body)
    spec = validate_output_options(body, info, prompt)
    check_moderation(prompt)
    return spec


def generation_events(spec: GenerationSpec, faults: Faults, gate: RenderGate) -> AsyncIterator[bytes]:
    def produce(index: int) -> tuple[list[bytes], bytes]:
        return render.render_partials(spec.prompt, spec.width, spec.height, spec.partial_images,
                                      output_format=spec.output_format, quality=spec.quality, index=index,
                                      transparent=spec.background == "transparent", compression=spec.compression)

    return image_events(spec, faults, "image_generation", produce, generation_usage(spec, 1, spec.partial_images),
                        gate)


async def create_generation(request: Request) -> Response:
    body = await read_json(request)
    model = body.get("model") if isinstance(body.get("model"), str) else None
    err, faults = await apply_faults(request, model, spread=body.get("stream") is True)
    if err:
        return err
    spec = validate_generation(body)
    gate = render_gate(request)
    if spec.stream:
        gate.admit()  # a stream's answer begins at once: a busy server refuses it here or never
        return event_stream(generation_events(spec, faults, gate))

    def work() -> list[bytes]:
        if spec.output_format == "gif":
            return [render.render_gif(spec.prompt, spec.width, spec.height, frames=spec.frame_count,
                                      duration_ms=spec.frame_duration_ms, quality=spec.quality, index=i)
                    for i in range(spec.n)]
        if spec.output_format == "svg":
            return [render.render_svg(spec.prompt, spec.width, spec.height, quality=spec.quality,
                                      hostile=faults.svg_script)]
        return [render.render(spec.prompt, spec.width, spec.height, output_format=spec.output_format,
                              quality=spec.quality, index=i, transparent=spec.background == "transparent",
                              compression=spec.compression) for i in range(spec.n)]

    images = await gate.run(work)
    return images_response(spec, faults, images, generation_usage(spec, spec.n, 0))
