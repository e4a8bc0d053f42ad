"""What the two ``/v1/images`` endpoints (generations and edits) share: their parameters and answers.

Owns ``GENERATION_PARAMS`` (the generations body's parameters, which edits extend),
``generation_usage`` (the usage body of an images answer), ``image_events`` (the
``<prefix>.partial_image`` / ``<prefix>.completed`` server-sent events) and
``images_response`` (the ``ImagesResponse`` JSON body); the stream faults (cut-stream,
cut-after, cut-after-events, corrupt) and the spread latency apply in both. Builds on
``protocol``, ``sse``, ``faults``, ``validation`` and ``workload``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import JSONResponse

from imagelab.catalog import catalog
from imagelab.costs import text_tokens

from .faults import Faults, LatencySpread
from .protocol import b64, output_tokens_per_image, usage_body
from .sse import sse
from .validation import GenerationSpec
from .workload import RenderGate

__all__ = ["GENERATION_PARAMS", "generation_usage", "image_events", "images_response"]

GENERATION_PARAMS = {
    "prompt", "background", "complexity", "frame_count", "frame_duration_ms", "model", "moderation", "n",
    "output_compression", "output_format", "partial_images", "quality", "safety_identifier", "size", "stream",
    "svg", "user",
}


def generation_usage(spec: GenerationSpec, images: int, partials_per_image: int,
                     input_image_tokens: int = 0) -> dict[str, Any]:
    per = output_tokens_per_image(spec.model.name, spec.quality, spec.width, spec.height)
    partial_cost = catalog().limits.get("partial_image_tokens", 100)
    out = images * (per + partial_cost * partials_per_image)
    return usage_body(text_tokens(spec.prompt), out, input_image_tokens)


async def image_events(spec: GenerationSpec, faults: Faults, prefix: str,
                       produce: Callable[[int], tuple[list[bytes], bytes]],
                       usage: dict[str, Any], gate: RenderGate) -> AsyncIterator[bytes]:
    """SSE events ``<prefix>.partial_image`` / ``<prefix>.completed`` for ``spec.n`` images.

    ``produce(index) -> (partial images, final image)`` (encoded bytes) runs in a thread through ``gate`` (the
    request was admitted before its answer began);
    ``usage`` goes on every completed event. Faults cut_stream / cut_after / cut_after_events /
    corrupt apply; an injected latency is spread over every partial and final image of every image.
    """
    common = {"background": spec.background, "output_format": spec.output_format, "quality": spec.quality,
              "size": spec.size}
    per_image = spec.partial_images + 1
    pace = LatencySpread(faults.latency, spec.n * per_image)
    sent = 0
    limit = faults.cut_after_events
    for index in range(spec.n):
        if faults.cut_after is not None and index >= faults.cut_after:
            return
        partials, final = await gate.run(produce, index, admitted=True)
        for k, data in enumerate(partials):
            if limit is not None and sent >= limit:
                return
            await pace.reach(index * per_image + k + 1)
            yield sse(f"{prefix}.partial_image", {
                "type": f"{prefix}.partial_image", "b64_json": b64(data), "created_at": int(time.time()),
                "partial_image_index": k, **common})
            sent += 1
            if faults.cut_stream:
                return
            await asyncio.sleep(0)
        if faults.cut_stream or (limit is not None and sent >= limit):
            return
        await pace.reach((index + 1) * per_image)
        yield sse(f"{prefix}.completed", {
            "type": f"{prefix}.completed", "b64_json": faults.image_b64(index, final),
            "created_at": int(time.time()), **common, "usage": usage})
        sent += 1


def images_response(spec: GenerationSpec, faults: Faults, images: list[bytes], usage: dict[str, Any]) -> JSONResponse:
    """The ``ImagesResponse`` JSON body (faults.corrupt applies)."""
    return JSONResponse({
        "created": int(time.time()),
        # GPT image models leave revised_prompt out (only DALL·E 3 wrote one)
        "data": [{"b64_json": faults.image_b64(i, b)} for i, b in enumerate(images)],
        "background": spec.background,
        "output_format": spec.output_format,
        "quality": spec.quality,
        "size": spec.size,
        "usage": usage,
    })
