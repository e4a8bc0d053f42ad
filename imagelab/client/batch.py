"""The Batch API and the moderation endpoint: a batch's input lines, upload, create, poll, cancel, results.

``request_line(custom_id, spec)`` turns a ``GenerateSpec`` or ``EditSpec`` into one JSONL line
(edits carry their images as base64 data URLs, the edit endpoint's JSON body);
``start_batch`` uploads the lines (``purpose="batch"``) and creates the batch;
``batch_progress`` / ``cancel_batch`` follow and stop it; ``batch_results`` reads the output and error
files into ``LineResult``s, one a ``custom_id``, with checked images and a translated error.
``moderate(client, prompt, images)`` asks ``omni-moderation-latest`` and returns what it flagged.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

from imagelab.text import scrub

from .decode import final_image
from .errors import RequestFailed, translate_error
from .events import FinalImage

__all__ = ["ENDPOINTS", "MODERATION_MODEL", "request_line", "endpoint_of", "start_batch", "batch_progress",
           "cancel_batch", "batch_results", "LineResult", "BatchProgress", "Verdict", "moderate", "TERMINAL"]

ENDPOINTS = {"generate": "/v1/images/generations", "edit": "/v1/images/edits"}
MODERATION_MODEL = "omni-moderation-latest"
TERMINAL = ("completed", "failed", "expired", "cancelled")


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def endpoint_of(spec: Any) -> str:
    return ENDPOINTS["edit"] if getattr(spec, "images", None) else ENDPOINTS["generate"]


def request_line(custom_id: str, spec: Any) -> dict[str, Any]:
    """One line of a batch's input file: the spec's request as the endpoint's JSON body (never streamed)."""
    body = {"prompt": spec.prompt, **spec.option_kwargs()}
    body.pop("stream", None)
    body.pop("partial_images", None)
    if getattr(spec, "images", None):
        body["images"] = [{"image_url": _data_url(img.data, img.mime)} for img in spec.images]
        if spec.mask is not None:
            body["mask"] = {"image_url": _data_url(spec.mask.data, "image/png")}
        if spec.input_fidelity is not None:
            body["input_fidelity"] = spec.input_fidelity
    return {"custom_id": custom_id, "method": "POST", "url": endpoint_of(spec), "body": body}


@dataclass(frozen=True)
class BatchProgress:
    batch_id: str
    status: str
    total: int
    completed: int
    failed: int
    output_file_id: str | None
    error_file_id: str | None
    usage: dict[str, Any] | None
    errors: tuple[str, ...] = ()


def _progress(batch: Any, secrets: tuple[str | None, ...]) -> BatchProgress:
    counts = batch.request_counts
    usage = batch.usage.model_dump() if batch.usage is not None else None
    errors = tuple(scrub(str(e.message or e.code or ""), secrets)
                   for e in ((batch.errors.data or []) if batch.errors else []))
    return BatchProgress(batch.id, batch.status, counts.total if counts else 0, counts.completed if counts else 0,
                         counts.failed if counts else 0, batch.output_file_id, batch.error_file_id, usage, errors)


def start_batch(client: openai.OpenAI, lines: list[dict[str, Any]], endpoint: str) -> BatchProgress:
    """Upload the lines as JSONL and create a batch on ``endpoint`` with the 24-hour window."""
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    uploaded = client.files.create(file=("imagelab-batch.jsonl", data, "application/jsonl"), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint=endpoint,  # type: ignore[arg-type]
                                  completion_window="24h", metadata={"made_by": "imagelab"})
    return _progress(batch, (client.api_key,))


def batch_progress(client: openai.OpenAI, batch_id: str) -> BatchProgress:
    return _progress(client.batches.retrieve(batch_id), (client.api_key,))


def cancel_batch(client: openai.OpenAI, batch_id: str) -> BatchProgress:
    return _progress(client.batches.cancel(batch_id), (client.api_key,))


@dataclass
class LineResult:
    """What one line of a batch came back with: its images (checked), usage, request id, or an error."""

    custom_id: str
    images: list[FinalImage] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    request_id: str | None = None
    error: RequestFailed | None = None


def _server_text(value: object, secrets: tuple[str | None, ...]) -> str | None:
    """A text field of a result line as it may be kept: scrubbed of the key and anything key-shaped."""
    return None if value is None else scrub(str(value), secrets)


def _line_error(client: openai.OpenAI, status: int, body: Any, request_id: str | None, model: str | None
                ) -> RequestFailed:
    """The error of one failed line, said like the same error from a direct request."""
    request = httpx2.Request("POST", f"{client.base_url}images")
    response = httpx2.Response(status, json=body, request=request, headers={"x-request-id": request_id or ""})
    error = body.get("error") if isinstance(body, dict) else None
    message = (error or {}).get("message") if isinstance(error, dict) else None
    exc = client._make_status_error(message or f"Error code: {status}", body=error, response=response)
    return translate_error(exc, base_url=str(client.base_url), model=model, secrets=(client.api_key,))


def batch_results(client: openai.OpenAI, progress: BatchProgress, formats: dict[str, tuple[str, str]]
                  ) -> list[LineResult]:
    """Read the output and error files; ``formats`` maps each custom_id to (output format, model).

    Every text a line carries (request id, error, revised prompt) is scrubbed of the connection's key and
    anything key-shaped: a server that echoes the key must not put it in the history or on a page."""
    secrets = (client.api_key,)
    out: list[LineResult] = []
    for file_id in (progress.output_file_id, progress.error_file_id):
        if not file_id:
            continue
        text = client.files.content(file_id).text
        for raw in text.splitlines():
            if not raw.strip():
                continue
            line = json.loads(raw)
            custom_id = str(line.get("custom_id"))
            fmt, model = formats.get(custom_id, ("png", ""))
            result = LineResult(custom_id)
            response = line.get("response") or {}
            body = response.get("body") or {}
            result.request_id = _server_text(response.get("request_id"), secrets)
            if line.get("error"):
                err = line["error"] if isinstance(line["error"], dict) else {"message": line["error"]}
                message = _server_text(err.get("message"), secrets)
                result.error = RequestFailed(f"The batch could not run this request: {message}",
                                             api_message=message, code=_server_text(err.get("code"), secrets))
            elif response.get("status_code") != 200:
                result.error = _line_error(client, int(response.get("status_code") or 500), body,
                                           result.request_id, model)
            else:
                result.usage = body.get("usage")
                for i, item in enumerate(body.get("data") or []):
                    image = final_image(i, item.get("b64_json"), body.get("output_format") or fmt,
                                        _server_text(item.get("revised_prompt"), secrets))
                    if isinstance(image, FinalImage):
                        result.images.append(image)
                    elif result.error is None:
                        result.error = image.error
            out.append(result)
    return out


@dataclass(frozen=True)
class Verdict:
    """What the moderation endpoint said of a prompt and its images."""

    flagged: bool
    categories: tuple[str, ...]

    def sentence(self) -> str:
        what = ", ".join(self.categories) or "an unnamed category"
        return (f"The check before spending flagged this request ({what}), so it was not sent to the image model "
                "and nothing was paid for it. Reword the prompt, or turn the check off in the sidebar.")


def moderate(client: openai.OpenAI, prompt: str, images: Iterable[tuple[bytes, str]] = ()) -> Verdict:
    """Ask the moderation endpoint about the prompt and input images (bytes, MIME type)."""
    parts: list[Any] = [{"type": "text", "text": prompt}]
    parts += [{"type": "image_url", "image_url": {"url": _data_url(data, mime)}} for data, mime in images]
    result = client.moderations.create(model=MODERATION_MODEL, input=parts).results[0]
    flagged = sorted(name for name, on in result.categories.model_dump(by_alias=True).items() if on)
    return Verdict(bool(result.flagged), tuple(flagged))
