"""Fault injection for the offline backend: what can be asked for, and applying it to a request.

Request header ``x-imagelab-fault`` (``FAULT_HEADER``; or, for the whole server,
``create_app(faults=...)`` / ``start_server(faults=...)`` / env ``IMAGELAB_OFFLINE_FAULT``,
``FAULT_ENV``) holds a comma-separated list, parsed by ``parse_faults`` into ``Faults``:
``latency:<seconds>`` (a plain answer waits that long; a stream spreads it over its images, each
partial and final image arriving at its share of it, ``LatencySpread``); ``429`` (rate limit,
``retry-after: 1``, code ``rate_limit_exceeded``); ``500`` (server error); ``401`` (invalid API key); ``403`` ("Your
organization must be verified …"); ``404`` (the model asked for does not exist, code ``model_not_found``, as
the API answers for a model that was shut down); ``cut-stream`` (a stream closes after the first partial
image, without a completed event); ``cut-after:<k>`` (a stream closes after ``k`` finished
images); ``cut-after-events:<k>`` (a stream's HTTP connection closes after it has sent ``k``
events; a background response's work goes on); ``corrupt:<i>`` (image ``i`` is sent as base64 of
bytes that are not an image); ``drift`` or ``drift:<levels>`` (an edit with a mask or markup changes
the pixels it should keep by up to that many levels per channel, default ``DEFAULT_DRIFT`` — what
the real models do; without it those pixels come back exact); ``svg-script`` (SVG output carries a
``<script>``, an ``onload`` handler and an external image, for testing that viewers run none of
it). ``apply_faults`` sleeps and answers with the error a handler should return; the streaming and
JSON bodies apply the rest. Builds on ``protocol``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from imagelab.catalog import catalog

from .protocol import api_error, b64

__all__ = [
    "FAULT_HEADER",
    "FAULT_ENV",
    "Faults",
    "parse_faults",
    "fault_response",
    "request_faults",
    "apply_faults",
    "LatencySpread",
    "DEFAULT_DRIFT",
]

FAULT_HEADER = "x-imagelab-fault"
FAULT_ENV = "IMAGELAB_OFFLINE_FAULT"
DEFAULT_DRIFT = 6  # levels per channel: a few ΔE, about what a real model's repaint moves kept pixels


@dataclass
class Faults:
    latency: float = 0.0
    status: int | None = None  # 401, 403, 404, 429, 500
    cut_stream: bool = False
    cut_after: int | None = None  # close the stream after this many finished images
    cut_after_events: int | None = None  # close a stream's connection after it has sent this many events
    corrupt: set[int] = field(default_factory=set)  # indexes of images sent as bytes that are not an image
    drift: int = 0  # an edit's kept pixels change by up to this many levels per channel
    unknown: list[str] = field(default_factory=list)
    svg_script: bool = False  # SVG output carries a script, a handler and an external link (viewer tests)

    def merged(self, other: Faults) -> Faults:
        cut_after = other.cut_after if other.cut_after is not None else self.cut_after
        cut_events = other.cut_after_events if other.cut_after_events is not None else self.cut_after_events
        return Faults(latency=self.latency + other.latency, status=other.status or self.status,
                      cut_stream=self.cut_stream or other.cut_stream, cut_after=cut_after,
                      cut_after_events=cut_events,
                      corrupt=self.corrupt | other.corrupt, drift=other.drift or self.drift,
                      unknown=self.unknown + other.unknown, svg_script=self.svg_script or other.svg_script)

    def image_b64(self, index: int, data: bytes) -> str:
        """The image as sent: base64 of its bytes, or of a text that is no image when told to corrupt it."""
        return b64(b"this is not an image" if index in self.corrupt else data)


def parse_faults(spec: str | None) -> Faults:
    """``"latency:0.5,429"`` → Faults(latency=0.5, status=429). Unknown items are kept in ``unknown``."""
    faults = Faults()
    for item in (spec or "").split(","):
        item = item.strip().lower()
        if not item:
            continue
        if item.startswith("latency"):
            _, _, secs = item.partition(":")
            try:
                faults.latency += max(0.0, float(secs or "1"))
            except ValueError:
                faults.unknown.append(item)
        elif item in ("401", "403", "404", "429", "500"):
            faults.status = int(item)
        elif item in ("cut-stream", "cut_stream", "cutstream"):
            faults.cut_stream = True
        elif item == "svg-script":
            faults.svg_script = True
        elif item == "drift" or item.startswith("drift:"):
            levels = item.partition(":")[2] or str(DEFAULT_DRIFT)
            if levels.isdigit() and 0 < int(levels) <= 255:
                faults.drift = int(levels)
            else:
                faults.unknown.append(item)
        elif item.startswith("cut-after-events:"):
            number = item.partition(":")[2]
            if number.isdigit():
                faults.cut_after_events = int(number)
            else:
                faults.unknown.append(item)
        elif item.startswith(("cut-after:", "corrupt:")):
            name, _, number = item.partition(":")
            if not number.isdigit():
                faults.unknown.append(item)
            elif name == "cut-after":
                faults.cut_after = int(number)
            else:
                faults.corrupt.add(int(number))
        else:
            faults.unknown.append(item)
    return faults


def fault_response(status: int, model: str | None = None) -> JSONResponse:
    if status == 429:
        return api_error(429, "Rate limit reached for images per minute (offline fault injection). "
                              "Please try again in 1s.", type="requests", code="rate_limit_exceeded",
                         headers={"retry-after": "1"})
    if status == 401:
        return api_error(401, "Incorrect API key provided: sk-***. You can find your API key at "
                              "https://platform.openai.com/account/api-keys.", code="invalid_api_key")
    if status == 404:
        return api_error(404, f"The model `{model or catalog().default_model}` does not exist or you do not have "
                              "access to it.", param="model", code="model_not_found")
    if status == 403:
        return api_error(403, "Your organization must be verified to use the model "
                              f"`{model or catalog().default_model}`. "
                              "Please go to: https://platform.openai.com/settings/organization/general and click on "
                              "Verify Organization. If you just verified, it can take up to 15 minutes for access "
                              "to propagate.")
    return api_error(500, "The server had an error while processing your request. Sorry about that!",
                     type="server_error")


def request_faults(request: Request) -> Faults:
    server = getattr(request.app.state, "faults", None) or Faults()
    return server.merged(parse_faults(request.headers.get(FAULT_HEADER)))


async def apply_faults(request: Request, model: str | None = None, *,
                       spread: bool = False) -> tuple[Response | None, Faults]:
    """Sleep for any injected latency; return (error response or None, the faults in force).

    ``spread``: the caller streams and spreads the latency over its events (``LatencySpread``), so
    only an error answer waits here.
    """
    faults = request_faults(request)
    if faults.latency and (not spread or faults.status):
        await asyncio.sleep(faults.latency)
    if faults.status:
        return fault_response(faults.status, model), faults
    return None, faults


class LatencySpread:
    """An injected latency spread over the ``steps`` milestones of a stream (its partial and final images).

    Milestone ``k`` (from 1) is due ``latency * k / steps`` seconds after this object was made: with 2
    partial images and 3 s, a partial at ~1 s, the other at ~2 s and the final image at ~3 s.
    """

    def __init__(self, latency: float, steps: int) -> None:
        self.latency = latency
        self.steps = max(1, steps)
        self.start = time.monotonic()

    async def reach(self, milestone: int) -> None:
        """Wait until ``milestone`` (1 … steps) is due."""
        if self.latency <= 0:
            return
        due = self.start + self.latency * min(milestone, self.steps) / self.steps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
