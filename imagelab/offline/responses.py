"""``/v1/responses`` (the image_generation tool) for the offline backend.

Owns the handlers ``create_response``, ``get_response``, ``cancel_response``, ``delete_response`` and
``list_input_items`` (with ``input_items``, a request's input as the API lists it back), the
in-memory store of responses and their image calls, input and tool parsing (``parse_input``,
``parse_tool``), the picture (``result_picture``, ``revise_prompt``) and the streamed events. ``BoundedStore`` (from
``files``) is re-exported here. Builds on ``render``, ``protocol``, ``sse``, ``faults``,
``validation``, ``uploads``, ``edits`` (the picture rules), ``files`` (input images by file id) and
``background`` (runs that outlive their connection).

Responses: ``POST /v1/responses`` (JSON, every parameter the API defines; the ones nothing here
simulates are accepted and ignored; a tool type the API does not define is refused), ``GET``
/ ``DELETE /v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items``. The offline "mainline
model" (any model string that is not an image model) always calls the ``image_generation`` tool
when one is listed (unless ``tool_choice`` is ``"none"``), then answers with a short message.
Without the tool it answers in words (``words``): given an input image, a prompt that would
recreate it; asked (in the instructions) to improve or rewrite a prompt, a deterministic rewrite.
Stored responses (``store`` not false; at most ``MAX_RESPONSES`` / ``MAX_STORE_BYTES``) can be
continued with ``previous_response_id``; their image calls can be referenced in ``input`` as
``{"type": "image_generation_call", "id": "ig_…"}``.

The picture (deterministic):

- the *base* is the previous image (the last image along the ``previous_response_id`` chain, or
  a referenced image_generation_call); without one, with ``action="edit"`` or an
  ``input_image_mask``, it is the first attached input image;
- attached ``input_image`` s (data URLs or file ids) are *references*;
- ``action="generate"``: a fresh picture from the prompt with every image (previous one first,
  then the references) laid out as tiles (``edits.collage``);
- with a base and an ``input_image_mask`` (PNG with alpha, the base's size): only pixels with
  mask alpha 0 are repainted (``edits.repaint``), as the edits endpoint;
- with a base and no mask: the base is kept pixel-exact except a central window
  (``CENTRE_WINDOW`` of each side) that shows the new prompt's picture (its colours and words),
  with the references as tiles inside it;
- no base: the prompt's picture, with the references as tiles when there are any.

``revised_prompt`` is this turn's user text expanded with the earlier turns' texts, the number
of references and the mask.

Usage (documented choice): ``usage`` = the mainline model's text tokens (input: instructions,
every input text and the earlier turns' texts; output: the message plus the revised prompt it
writes for the tool) PLUS the image tool's tokens (input: revised prompt text tokens and
``costs.input_image_tokens`` of every image given to the tool — high fidelity as in edits;
output: ``output_tokens_per_image`` + 100 per streamed partial image). ``tool_usage.image_gen``
repeats the image tool's part on its own.

Moderation: the user text is checked like generations; a trigger word → 400
``moderation_blocked`` before anything is produced (also before a stream starts).

Streaming: ``response.created``, ``response.in_progress``, ``response.output_item.added``,
``response.image_generation_call.in_progress`` / ``.generating`` / ``.partial_image`` ×
partial_images / ``.completed``, ``response.output_item.done``, then the message
(``output_item.added``, ``content_part.added``, ``output_text.delta`` / ``.done``,
``content_part.done``, ``output_item.done``) and ``response.completed``. Faults: ``cut-stream``
closes after the first partial image (or after ``generating`` without partials);
``cut-after:0`` closes before the image completes; ``cut-after-events:K`` closes after K events;
``corrupt:0`` corrupts the result. An injected latency is spread over the stream: partial image
``k`` of ``p`` at ``latency * (k+1) / (p+1)``, the finished image at ``latency``.

Background mode (``background: true``, which needs ``store`` not false): the work runs in a task on
the server's loop that no connection owns (``background``), so it goes on when the client
disconnects. Without ``stream`` the create answers at once with status ``queued``; with it, the
events stream as above (after ``response.created`` and ``response.queued``, both ``queued``). ``GET
/v1/responses/{id}`` shows its state (status, the output items finished so far); ``?stream=true``
replays its events after ``starting_after`` (sequence numbers from 0, the same numbers and shapes)
and follows the live ones; ``POST /v1/responses/{id}/cancel`` stops the work (``cancelled``;
idempotent). Cancelling a finished or a non-background response is a 400, as the API answers;
streaming a response that was not made in the background is a 404. ``background_options``
(``completion_window`` soonest / 2h / 8h, ``continuation_id``) is accepted; a 2h or 8h window
without background, with ``stream`` true or with a service tier other than standard is a 400
(``_check_background_options``). The offline work is made at once whatever the window.
"""

from __future__ import annotations

import asyncio
import base64
import io
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from imagelab import costs
from imagelab.catalog import catalog, current_models, model_info
from imagelab.costs import text_tokens

from . import render, words
from .background import BackgroundRun, Frame, background_runs, cancel_run, follow, numbered, start_run
from .edits import asks_for_mask, collage, edit_output_size, fit, mask_picture, repaint
from .faults import Faults, LatencySpread, apply_faults
from .files import BoundedStore, cursor_page, file_store, ref_bytes
from .protocol import (
    APIError,
    invalid_value,
    output_tokens_per_image,
    read_json,
    usage_body,
)
from .sse import event_stream
from .uploads import Upload, decode_image, load_guide
from .validation import (
    GenerationSpec,
    check_input_fidelity,
    check_moderation,
    reads_high_fidelity,
    refuse_unknown,
    resolve_model,
    validate_output_options,
)
from .workload import render_gate

__all__ = [
    "BoundedStore",
    "ToolOptions",
    "Turn",
    "parse_tool",
    "parse_input",
    "result_picture",
    "revise_prompt",
    "create_response",
    "get_response",
    "cancel_response",
    "input_items",
    "delete_response",
    "list_input_items",
]

MAX_RESPONSES = 500
MAX_STORE_BYTES = 512 * 1024 * 1024
CENTRE_WINDOW = 0.5  # fraction of each side repainted when continuing without a mask
# The API takes up to 50 MB of (base64) input images in one request, plus the text around them.
MAX_REQUEST_BYTES = 51 * 1024 * 1024

RESPONSE_PARAMS = {
    "model", "input", "tools", "tool_choice", "previous_response_id", "stream", "store", "instructions",
    "metadata", "temperature", "top_p", "user", "safety_identifier", "parallel_tool_calls", "max_output_tokens",
    "reasoning", "text", "truncation", "include", "service_tier", "background", "prompt_cache_key",
    "max_tool_calls", "stream_options", "top_logprobs", "prompt_cache_retention", "background_options",
    # defined by the API, accepted and ignored: nothing here simulates them
    "access_programs", "context_management", "conversation", "image", "moderation", "prompt", "prompt_cache_options",
}
TOOL_PARAMS = {
    "type", "model", "size", "quality", "background", "output_format", "output_compression", "moderation",
    "action", "input_fidelity", "partial_images", "input_image_mask", "complexity", "frame_count",
    "frame_duration_ms", "svg",
}
# Every tool type the API defines; only image_generation does anything offline.
TOOL_TYPES = (
    "function", "file_search", "computer", "computer_use_preview", "web_search", "web_search_2025_08_26", "mcp",
    "code_interpreter", "programmatic_tool_calling", "image_generation", "local_shell", "shell", "custom",
    "namespace", "tool_search", "web_search_preview", "web_search_preview_2025_03_11", "apply_patch",
)


# --------------------------------------------------------------------------- in-memory stores


@dataclass
class StoredCall:
    """An image_generation_call: its (true, uncorrupted) image and the texts that led to it."""

    result: str  # base64
    texts: list[str]


@dataclass
class StoredResponse:
    body: dict[str, Any]
    texts: list[str]  # the user texts of this turn and every earlier one, oldest first
    image: str | None  # base64 of the latest image along the chain


def _stores(request: Request) -> Any:
    """The app's state, with the stored responses and image calls (created on first use)."""
    state = request.app.state
    if not hasattr(state, "imagelab_responses"):
        state.imagelab_responses = BoundedStore(MAX_RESPONSES, MAX_STORE_BYTES)
        state.imagelab_calls = BoundedStore(MAX_RESPONSES, MAX_STORE_BYTES)
    return state


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(24 if prefix == "resp_" else 16)


# --------------------------------------------------------------------------- request parsing (pure)


@dataclass
class ToolOptions:
    index: int  # position in ``tools``
    raw: dict[str, Any]
    out: GenerationSpec  # resolved output options (prompt filled in later)
    action: str
    fidelity: str | None
    mask_ref: dict[str, Any] | None


@dataclass
class Turn:
    """What the input of one request says."""

    texts: list[str] = field(default_factory=list)  # user texts
    other_texts: list[str] = field(default_factory=list)  # system / developer / assistant texts
    images: list[tuple[str, Image.Image]] = field(default_factory=list)  # (param path, picture)
    image_data: list[bytes] = field(default_factory=list)  # the same pictures' bytes, as sent
    call_ref: StoredCall | None = None  # the last referenced image_generation_call

    @property
    def text(self) -> str:
        return " ".join(t.strip() for t in self.texts if t.strip())


def _prefixed(exc: APIError, prefix: str) -> APIError:
    exc.param = f"{prefix}.{exc.param}" if exc.param else prefix
    return exc


def parse_tool(tools: Any, tool_choice: Any) -> ToolOptions | None:
    """The image_generation tool's options (validated), or None when there is none / it is off."""
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise APIError(400, "Invalid type for 'tools': expected an array.", param="tools", code="invalid_type")
    found = None
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise APIError(400, f"Invalid type for 'tools[{i}]': expected an object with a 'type'.",
                           param=f"tools[{i}]", code="invalid_type")
        if tool["type"] not in TOOL_TYPES:
            raise invalid_value(f"tools[{i}].type", tool["type"], TOOL_TYPES)
        if tool["type"] == "image_generation":
            if found is not None:
                raise APIError(400, "The image_generation tool can be listed only once.", param=f"tools[{i}]",
                               code="invalid_value")
            found = (i, tool)
    if found is None or tool_choice == "none":
        return None
    i, tool = found
    prefix = f"tools[{i}]"
    try:
        refuse_unknown(tool, TOOL_PARAMS)
        name = tool.get("model") or catalog().default_tool_model
        if not isinstance(name, str) or model_info(name) is None:
            raise invalid_value("model", name, current_models())
        info = resolve_model({"model": name})
        action = tool.get("action") or "auto"
        if action not in ("generate", "edit", "auto"):
            raise invalid_value("action", action, ["generate", "edit", "auto"])
        body = {k: tool[k] for k in ("size", "quality", "background", "output_format", "output_compression",
                                     "moderation", "partial_images", "complexity", "frame_count",
                                     "frame_duration_ms", "svg") if k in tool}
        out = validate_output_options(body, info, "")
        fidelity = check_input_fidelity(tool, info)
        mask_ref = tool.get("input_image_mask")
        if mask_ref is not None:
            if not isinstance(mask_ref, dict) or not (mask_ref.get("file_id") or mask_ref.get("image_url")):
                raise APIError(400, "Invalid 'input_image_mask': expected an object with 'file_id' or "
                                    "'image_url'.", param="input_image_mask", code="invalid_value")
            if action == "generate":
                raise APIError(400, "'input_image_mask' cannot be used with action 'generate'.",
                               param="input_image_mask", code="invalid_value")
    except APIError as exc:
        if exc.status == 404:  # a retired tool model: a bad value here, not a missing resource
            exc.status = 400
            exc.code = "invalid_value"
        raise _prefixed(exc, prefix) from None
    return ToolOptions(index=i, raw=tool, out=out, action=action, fidelity=fidelity, mask_ref=mask_ref)


def image_from_ref(ref: dict[str, Any], param: str, files: BoundedStore) -> Image.Image:
    data = ref_bytes(ref, param, files)
    try:
        return decode_image(data)
    except Exception:  # noqa: BLE001
        raise APIError(400, f"Invalid image in '{param}': the data is not an image we can read.",
                       param=param, code="invalid_image_file") from None


def _content_parts(content: Any, param: str) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(content, str):
        return [(param, {"type": "input_text", "text": content})]
    if not isinstance(content, list):
        raise APIError(400, f"Invalid type for '{param}': expected a string or an array.", param=param,
                       code="invalid_type")
    return [(f"{param}[{k}]", part) for k, part in enumerate(content)]


def parse_input(value: Any, files: BoundedStore, calls: BoundedStore) -> Turn:
    turn = Turn()
    if isinstance(value, str):
        turn.texts.append(value)
        return turn
    if not isinstance(value, list):
        raise APIError(400, "Invalid type for 'input': expected a string or an array of input items.",
                       param="input", code="invalid_type")
    for i, item in enumerate(value):
        param = f"input[{i}]"
        if not isinstance(item, dict):
            raise APIError(400, f"Invalid type for '{param}': expected an object.", param=param, code="invalid_type")
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "image_generation_call":
            call_id = item.get("id")
            stored = calls.get(call_id) if isinstance(call_id, str) else None
            if stored is None and isinstance(item.get("result"), str):
                stored = StoredCall(item["result"], [])
            if stored is None:
                raise APIError(400, f"Item with id '{call_id}' not found.", param=f"{param}.id",
                               code="item_not_found")
            turn.call_ref = stored
            continue
        if kind != "message":
            raise APIError(400, f"Invalid value: '{kind}'. The offline backend accepts input items of type "
                                "'message' and 'image_generation_call'.", param=f"{param}.type",
                           code="invalid_value")
        role = item.get("role")
        if role not in ("user", "system", "developer", "assistant"):
            raise invalid_value(f"{param}.role", role, ["user", "system", "developer", "assistant"])
        for p, part in _content_parts(item.get("content"), f"{param}.content"):
            ptype = part.get("type") if isinstance(part, dict) else None
            if ptype in ("input_text", "output_text"):
                text = part.get("text")
                if not isinstance(text, str):
                    raise APIError(400, f"Invalid type for '{p}.text': expected a string.", param=f"{p}.text",
                                   code="invalid_type")
                (turn.texts if role == "user" else turn.other_texts).append(text)
            elif ptype == "input_image":
                turn.images.append((p, image_from_ref(part, p, files)))
                turn.image_data.append(ref_bytes(part, p, files))
            elif ptype == "refusal":
                continue
            else:
                raise APIError(400, f"Invalid value: '{ptype}'. Supported values are: 'input_text' and "
                                    "'input_image'.", param=f"{p}.type", code="invalid_value")
    return turn


# --------------------------------------------------------------------------- the picture (pure)


def revise_prompt(text: str, earlier: list[str], refs: int, masked: bool, action: str) -> str:
    """The prompt the offline mainline model "writes" for the tool."""
    base = text.strip().rstrip(".") or "Continue the image"
    parts = [base[0].upper() + base[1:]]
    if earlier:
        parts.append("Continue from the earlier image, which showed: " + "; ".join(t.strip() for t in earlier[-4:]))
    if refs:
        parts.append(f"Include the {refs} reference image{'s' if refs > 1 else ''} provided")
    if masked:
        parts.append("Repaint only the area marked by the mask, keeping everything else unchanged")
    if action == "edit" and not masked:
        parts.append("Keep the rest of the image as it is")
    return ". ".join(parts) + "."


def result_picture(prompt: str, width: int, height: int, *, quality: str, transparent: bool,
                   base: Image.Image | None, refs: list[Image.Image], mask: Image.Image | None,
                   generate: bool) -> Image.Image:
    """The picture; see the module docstring. ``prompt`` is this turn's text (colours and words)."""
    mode = "RGBA" if transparent else "RGB"
    if asks_for_mask(prompt):
        return mask_picture(width, height).convert(mode)
    if generate or base is None:
        new = render.compose(prompt, width, height, quality=quality, transparent=transparent)
        pictures = ([base] if base is not None else []) + refs
        return collage(pictures, new) if pictures else new
    first = fit(base.convert(mode), (width, height))
    if mask is not None:
        new = render.compose(prompt, width, height, quality=quality, transparent=transparent)
        if refs:
            new = collage(refs, new)
        alpha = np.asarray(fit(mask.convert("RGBA"), (width, height), Image.Resampling.NEAREST))[..., 3]
        return repaint(first, alpha == 0, new)
    pw, ph = max(16, int(width * CENTRE_WINDOW)), max(16, int(height * CENTRE_WINDOW))
    patch = render.compose(prompt, pw, ph, quality=quality, transparent=transparent)
    if refs:
        patch = collage(refs, patch)
    out = first.copy()
    out.paste(patch.convert(mode), ((width - pw) // 2, (height - ph) // 2))
    return out


def _b64_image(b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(b64)))
    img.load()
    return img


# --------------------------------------------------------------------------- /v1/responses


@dataclass
class Plan:
    """Everything a response needs, computed before answering (so errors come before a stream)."""

    model: str
    body: dict[str, Any]
    tool: ToolOptions | None
    texts: list[str]  # the chain of user texts, this turn last
    prompt: str = ""
    revised: str = ""
    image: bytes | None = None  # the encoded final picture
    partials: list[bytes] = field(default_factory=list)
    message: str = ""
    usage: dict[str, Any] = field(default_factory=dict)
    tool_usage: dict[str, Any] | None = None
    response_id: str = field(default_factory=lambda: _new_id("resp_"))
    call_id: str = field(default_factory=lambda: _new_id("ig_"))
    message_id: str = field(default_factory=lambda: _new_id("msg_"))
    created_at: int = field(default_factory=lambda: int(time.time()))
    previous_id: str | None = None
    previous_image: str | None = None
    store: bool = True
    background: bool = False


def _check_top(body: dict[str, Any]) -> str:
    refuse_unknown(body, RESPONSE_PARAMS)
    model = body.get("model")
    if model is None:
        raise APIError(400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    if not isinstance(model, str):
        raise APIError(400, "Invalid type for 'model': expected a string.", param="model", code="invalid_type")
    if not model.strip():
        raise APIError(400, "Invalid 'model': string too short. Expected a string with minimum length 1, but got "
                            "an empty string instead.", param="model", code="empty_string")
    if model_info(model) is not None:
        raise APIError(400, f"The model '{model}' is an image model and cannot be used as the Responses model; "
                            "use a mainline model (e.g. "
                            f"'{catalog().default_responses_model}') with the image_generation tool.",
                       param="model", code="model_not_supported")
    if "input" not in body or body["input"] is None:
        raise APIError(400, "Missing required parameter: 'input'.", param="input", code="missing_required_parameter")
    for name in ("stream", "store", "background"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise APIError(400, f"Invalid type for '{name}': expected a boolean.", param=name, code="invalid_type")
    if body.get("background") is True and body.get("store") is False:
        raise APIError(400, "Background mode needs the response stored: 'background' true cannot be used with "
                            "'store' false.", param="background", code="invalid_value")
    _check_background_options(body)
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise APIError(400, "Invalid type for 'instructions': expected a string.", param="instructions",
                       code="invalid_type")
    return model


COMPLETION_WINDOWS = ("soonest", "2h", "8h")
_STANDARD_TIERS = (None, "auto", "default")  # what "Standard processing" allows of service_tier


def _check_background_options(body: dict[str, Any]) -> None:
    """``background_options`` (openai 3.63.0): a ``completion_window`` of soonest (the default), 2h or 8h and
    an optional ``continuation_id``. The 2h and 8h windows need background true, no stream and
    standard processing; anything else is refused as the API documents it."""
    options = body.get("background_options")
    if options is None:
        return
    if not isinstance(options, dict):
        raise APIError(400, "Invalid type for 'background_options': expected an object.", param="background_options",
                       code="invalid_type")
    refuse_unknown((f"background_options.{k}" for k in options),
                   {"background_options.completion_window", "background_options.continuation_id"})
    window = options.get("completion_window", "soonest")
    if window not in COMPLETION_WINDOWS:
        raise invalid_value("background_options.completion_window", window, COMPLETION_WINDOWS)
    continuation = options.get("continuation_id")
    if continuation is not None and not isinstance(continuation, str):
        raise APIError(400, "Invalid type for 'background_options.continuation_id': expected a string.",
                       param="background_options.continuation_id", code="invalid_type")
    if window == "soonest":
        return
    if body.get("background") is not True:
        raise APIError(400, f"The '{window}' completion window requires 'background' to be true.",
                       param="background", code="invalid_value")
    if body.get("stream") is True:
        raise APIError(400, f"The '{window}' completion window cannot be used with 'stream' true; leave 'stream' "
                            "false or omit it, and retrieve the response when it is done.",
                       param="stream", code="invalid_value")
    if body.get("service_tier") not in _STANDARD_TIERS:
        raise APIError(400, f"The '{window}' completion window requires Standard processing; 'service_tier' "
                            f"'{body.get('service_tier')}' cannot be used with it.", param="service_tier",
                       code="invalid_value")


def plan_response(body: dict[str, Any], files: BoundedStore, responses: BoundedStore,
                  calls: BoundedStore) -> Plan:
    """Validate and produce the picture (runs in a thread)."""
    model = _check_top(body)
    tool = parse_tool(body.get("tools"), body.get("tool_choice"))
    previous: StoredResponse | None = None
    prev_id = body.get("previous_response_id")
    if prev_id is not None:
        previous = responses.get(prev_id) if isinstance(prev_id, str) else None
        if previous is None:
            raise APIError(400, f"Previous response with id '{prev_id}' not found.", param="previous_response_id",
                           code="previous_response_not_found")
    turn = parse_input(body["input"], files, calls)
    earlier = list(previous.texts) if previous else []
    if turn.call_ref is not None:
        earlier = earlier + [t for t in turn.call_ref.texts if t not in earlier]
    plan = Plan(model=model, body=body, tool=tool, texts=earlier + ([turn.text] if turn.text else []),
                previous_id=prev_id, store=body.get("store") is not False, background=body.get("background") is True)
    prev_image = turn.call_ref.result if turn.call_ref else previous.image if previous else None
    plan.previous_image = prev_image
    check_moderation(" ".join(turn.texts))

    context_text = " ".join([body.get("instructions") or "", *turn.other_texts, *earlier, *turn.texts])
    main_in = text_tokens(context_text) if context_text.strip() else 0

    if tool is None:
        if turn.images:
            plan.message = words.describe_picture(turn.image_data[0], turn.images[0][1])
        elif turn.text and words.asks_to_rewrite(" ".join([body.get("instructions") or "", *turn.other_texts])):
            plan.message = words.improve_prompt(turn.text)
        else:
            plan.message = ("The offline model can only make pictures: add the image_generation tool to get one."
                            if turn.text else "Hello! Describe a picture and I will make it.")
        if turn.images:  # the picture was read: its tokens count as input
            main_in += sum(costs.input_image_tokens(im.width, im.height) for _, im in turn.images)
        main_out = text_tokens(plan.message)
        plan.usage = _usage(main_in, main_out, None)
        return plan

    out, info = tool.out, tool.out.model
    base: Image.Image | None = _b64_image(prev_image) if prev_image else None
    refs = [img for _, img in turn.images]
    generate = tool.action == "generate"
    if base is None and (tool.action == "edit" or tool.mask_ref is not None) and refs:
        base, refs = refs[0], refs[1:]
    if base is None and tool.action == "edit":
        raise APIError(400, "The image_generation tool's action 'edit' needs an image to edit: attach an "
                            "input_image, reference an image_generation_call or pass previous_response_id.",
                       param=f"tools[{tool.index}].action", code="invalid_value")
    mask = None
    mask_param = f"tools[{tool.index}].input_image_mask"
    if tool.mask_ref is not None:
        if base is None:
            raise APIError(400, "'input_image_mask' needs an input image to apply to.", param=mask_param,
                           code="invalid_value")
        data = ref_bytes(tool.mask_ref, mask_param, files)
        try:
            mask = load_guide(Upload("mask", "image/png", data), base.size)
        except APIError as exc:
            exc.param = mask_param
            raise

    # the output size: ``auto`` follows the edited image
    size_body: dict[str, Any] = {k: tool.raw[k] for k in ("size", "quality", "background", "output_format",
                                                          "output_compression", "moderation", "partial_images",
                                                          "complexity") if k in tool.raw}
    auto = edit_output_size(info, *base.size) if base is not None and not generate else None
    prompt = turn.text or (earlier[-1] if earlier else "an image")
    try:
        out = validate_output_options(size_body, info, prompt, auto_size=auto)
    except APIError as exc:  # already validated in parse_tool; kept for safety
        raise _prefixed(exc, f"tools[{tool.index}]") from None
    tool.out = out
    images_in = ([base] if base is not None else []) + refs
    plan.prompt = prompt
    plan.revised = revise_prompt(turn.text, earlier, len(refs) + (1 if generate and base is not None else 0),
                                 mask is not None, tool.action)
    picture = result_picture(prompt, out.width, out.height, quality=out.quality,
                             transparent=out.background == "transparent", base=base, refs=refs, mask=mask,
                             generate=generate)
    streaming = body.get("stream") is True or plan.background  # a background one can be streamed later
    plan.image = render.encode(picture, out.output_format, out.compression)
    if streaming:
        plan.partials = [render.encode(p, out.output_format, out.compression)
                         for p in render.partial_states(picture, out.partial_images)]
    done = "edited" if base is not None and not generate else "generated"
    plan.message = f"Here is the {done} image: {plan.revised}"

    high = reads_high_fidelity(info, tool.fidelity)
    image_in = sum(costs.input_image_tokens(im.width, im.height, high_fidelity=high) for im in images_in)
    partial_cost = catalog().limits.get("partial_image_tokens", 100)
    image_out = output_tokens_per_image(info.name, out.quality, out.width, out.height) + \
        (partial_cost * len(plan.partials))
    plan.tool_usage = {"image_gen": usage_body(text_tokens(plan.revised), image_out, image_in),
                       "web_search": {"num_requests": 0}}
    main_out = text_tokens(plan.message) + text_tokens(plan.revised)
    plan.usage = _usage(main_in, main_out, plan.tool_usage["image_gen"])
    return plan


def _usage(main_in: int, main_out: int, image_gen: dict[str, Any] | None) -> dict[str, Any]:
    inp = main_in + (image_gen["input_tokens"] if image_gen else 0)
    out = main_out + (image_gen["output_tokens"] if image_gen else 0)
    return {"input_tokens": inp, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": out, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": inp + out}


def _call_item(plan: Plan, status: str, result: str | None) -> dict[str, Any]:
    out = plan.tool.out  # type: ignore[union-attr]
    return {"type": "image_generation_call", "id": plan.call_id, "status": status, "result": result,
            "revised_prompt": plan.revised if status == "completed" else None, "size": out.size,
            "quality": out.quality, "output_format": out.output_format, "background": out.background,
            "action": plan.tool.action}  # type: ignore[union-attr]


def _message_item(plan: Plan, status: str = "completed", text: str | None = None) -> dict[str, Any]:
    content = [] if text is None else [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    return {"type": "message", "id": plan.message_id, "role": "assistant", "status": status, "content": content}


def _response_body(plan: Plan, status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
    body = plan.body
    done = status == "completed"
    return {
        "id": plan.response_id, "object": "response", "created_at": plan.created_at, "status": status,
        "completed_at": int(time.time()) if done else None, "error": None, "incomplete_details": None,
        "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
        "model": plan.model, "output": output, "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": plan.previous_id, "reasoning": {"effort": None, "summary": None},
        "store": plan.store, "temperature": body.get("temperature", 1.0), "top_p": body.get("top_p", 1.0),
        "text": {"format": {"type": "text"}}, "tool_choice": body.get("tool_choice", "auto"),
        "tools": _tools_echo(plan), "truncation": body.get("truncation", "disabled"),
        "usage": plan.usage if done else None, "tool_usage": plan.tool_usage if done else None,
        "user": body.get("user"), "metadata": body.get("metadata") or {},
        "background": plan.background, "service_tier": "default",
    }


def _tools_echo(plan: Plan) -> list[dict[str, Any]]:
    tools = [dict(t) for t in plan.body.get("tools") or [] if isinstance(t, dict)]
    if plan.tool is not None:
        t = tools[plan.tool.index]
        out = plan.tool.out
        t.update({"model": out.model.name, "size": t.get("size", "auto"), "quality": t.get("quality", "auto"),
                  "background": t.get("background", "auto"), "output_format": out.output_format,
                  "moderation": t.get("moderation", "auto"), "action": plan.tool.action,
                  "partial_images": t.get("partial_images", 0),
                  "output_compression": t.get("output_compression", 100)})
    return tools


def _final_output(plan: Plan, faults: Faults) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(output as sent — faults.corrupt applies, output as stored)."""
    msg = _message_item(plan, text=plan.message)
    if plan.image is None:
        return [msg], [msg]
    true = base64.b64encode(plan.image).decode("ascii")
    sent = faults.image_b64(0, plan.image)
    return [_call_item(plan, "completed", sent), msg], [_call_item(plan, "completed", true), msg]


def _remember(request: Request, plan: Plan, stored_output: list[dict[str, Any]]) -> None:
    if not plan.store:
        return
    state = _stores(request)
    result = next((o["result"] for o in stored_output if o["type"] == "image_generation_call"), None)
    image = result or plan.previous_image
    body = _response_body(plan, "completed", stored_output)
    size = len(result or "") + 4096
    state.imagelab_responses.put(plan.response_id, StoredResponse(body, plan.texts, image), size)
    remember_input_items(request, plan.response_id, plan.body.get("input"))
    if result:
        state.imagelab_calls.put(plan.call_id, StoredCall(result, plan.texts), len(result))


async def _response_events(request: Request, plan: Plan, faults: Faults) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """Every event of the response as ``(type, data)``, in order, without sequence numbers.

    The latency is spread over the image's partials and the finished image; the stream faults are
    the connection's business (``_sent``), so a background response is always made whole.
    """
    pace = LatencySpread(faults.latency, len(plan.partials) + 1)
    output: list[dict[str, Any]] = []
    first = "queued" if plan.background else "in_progress"
    yield "response.created", {"response": _response_body(plan, first, [])}
    if plan.background:
        yield "response.queued", {"response": _response_body(plan, "queued", [])}
    yield "response.in_progress", {"response": _response_body(plan, "in_progress", [])}
    sent, stored = _final_output(plan, faults)
    if plan.image is not None:
        out = plan.tool.out  # type: ignore[union-attr]
        ids = {"item_id": plan.call_id, "output_index": 0}
        yield "response.output_item.added", {"output_index": 0, "item": _call_item(plan, "in_progress", None)}
        yield "response.image_generation_call.in_progress", dict(ids)
        yield "response.image_generation_call.generating", dict(ids)
        for k, data in enumerate(plan.partials):
            await pace.reach(k + 1)
            yield "response.image_generation_call.partial_image", {
                **ids, "partial_image_b64": base64.b64encode(data).decode("ascii"), "partial_image_index": k,
                "size": out.size, "quality": out.quality, "background": out.background,
                "output_format": out.output_format}
        await pace.reach(len(plan.partials) + 1)
        yield "response.image_generation_call.completed", dict(ids)
        yield "response.output_item.done", {"output_index": 0, "item": sent[0]}
        output.append(sent[0])
    else:
        await pace.reach(1)
    idx = len(output)
    ids = {"item_id": plan.message_id, "output_index": idx, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    yield "response.output_item.added", {"output_index": idx, "item": _message_item(plan, "in_progress", None)}
    yield "response.content_part.added", {**ids, "part": part}
    words = plan.message.split(" ")
    for k, word in enumerate(words):
        yield "response.output_text.delta", {**ids, "delta": word if k == 0 else " " + word, "logprobs": []}
    yield "response.output_text.done", {**ids, "text": plan.message, "logprobs": []}
    yield "response.content_part.done", {**ids, "part": {**part, "text": plan.message}}
    yield "response.output_item.done", {"output_index": idx, "item": sent[-1]}
    output.append(sent[-1])
    _remember(request, plan, stored)
    yield "response.completed", {"response": _response_body(plan, "completed", output)}


async def _sent(frames: AsyncIterator[Frame], faults: Faults) -> AsyncIterator[bytes]:
    """What one connection sends of ``frames``: all of them, unless a stream fault closes it first."""
    limit = faults.cut_after_events
    count = 0
    if limit == 0:
        return
    async for kind, data in frames:
        if kind == "response.image_generation_call.completed" and (
                faults.cut_stream or (faults.cut_after is not None and faults.cut_after < 1)):
            return
        yield data
        count += 1
        if (faults.cut_stream and kind == "response.image_generation_call.partial_image") or \
                (limit is not None and count >= limit):
            return


async def create_response(request: Request) -> Response:
    body = await read_json(request, MAX_REQUEST_BYTES)
    tool_model = None
    for tool in body.get("tools") or [] if isinstance(body.get("tools"), list) else []:
        if isinstance(tool, dict) and tool.get("type") == "image_generation" and isinstance(tool.get("model"), str):
            tool_model = tool["model"]
    streamed = body.get("stream") is True or body.get("background") is True
    err, faults = await apply_faults(request, tool_model or catalog().default_tool_model, spread=streamed)
    if err:
        return err
    state = _stores(request)
    plan = await render_gate(request).run(plan_response, body, file_store(request), state.imagelab_responses,
                                   state.imagelab_calls)
    if plan.background:
        run = BackgroundRun(plan.response_id, _response_body(plan, "queued", []))
        start_run(request.app.state, run, _response_events(request, plan, faults))
        if body.get("stream") is True:
            return event_stream(_sent(follow(run, -1), faults))
        return JSONResponse(run.body)
    if body.get("stream") is True:
        return event_stream(_sent(numbered(_response_events(request, plan, faults)), faults))
    sent, stored = _final_output(plan, faults)
    _remember(request, plan, stored)
    return JSONResponse(_response_body(plan, "completed", sent))


def _retrieve_query(request: Request) -> tuple[bool, int]:
    """``stream`` and ``starting_after`` from the query string of ``GET /v1/responses/{id}``."""
    raw = request.query_params.get("stream", "false").strip().lower()
    if raw not in ("true", "false"):
        raise APIError(400, "Invalid value for 'stream': expected a boolean.", param="stream", code="invalid_type")
    after = request.query_params.get("starting_after")
    if after is None:
        return raw == "true", -1
    try:
        number = int(after)
    except ValueError:
        raise APIError(400, "Invalid type for 'starting_after': expected an integer.", param="starting_after",
                       code="invalid_type") from None
    if number < 0:
        raise APIError(400, "Invalid 'starting_after': expected a number of at least 0.", param="starting_after",
                       code="integer_below_min_value")
    return raw == "true", number


def _not_found(response_id: str) -> APIError:
    return APIError(404, f"Response with id '{response_id}' not found.", param="response_id")


async def get_response(request: Request) -> Response:
    err, faults = await apply_faults(request, spread=True)
    if err:
        return err
    response_id = request.path_params["response_id"]
    stream, starting_after = _retrieve_query(request)
    run: BackgroundRun | None = background_runs(request.app.state).get(response_id)
    if run is not None:
        if stream:
            return event_stream(_sent(follow(run, starting_after), faults))
        if faults.latency:
            await asyncio.sleep(faults.latency)
        return JSONResponse(run.body)
    stored = _stores(request).imagelab_responses.get(response_id)
    if stored is None or stream:  # the API streams only what was made in the background
        raise _not_found(response_id)
    if faults.latency:
        await asyncio.sleep(faults.latency)
    return JSONResponse(stored.body)


async def cancel_response(request: Request) -> Response:
    """``POST /v1/responses/{id}/cancel``: stop a background response (cancelling twice is no error)."""
    err, _ = await apply_faults(request)
    if err:
        return err
    response_id = request.path_params["response_id"]
    run: BackgroundRun | None = background_runs(request.app.state).get(response_id)
    stored = _stores(request).imagelab_responses.get(response_id)
    if run is None and stored is None:
        raise _not_found(response_id)
    if run is None and not stored.body.get("background"):
        raise APIError(400, "Only responses created with background set to true can be cancelled.",
                       param="response_id", code="invalid_request")
    if run is None or (run.finished and run.status != "cancelled"):
        status = run.status if run is not None else stored.body.get("status")
        raise APIError(400, f"Cannot cancel a response with status '{status}'; only a queued or in-progress "
                            "background response can be cancelled.", param="response_id", code="invalid_request")
    cancel_run(run)
    return JSONResponse(run.body)


# --------------------------------------------------------------------------- deleting, listing input items


def input_items(value: Any) -> list[dict[str, Any]]:
    """A request's ``input`` as the API lists it back: items with ids, string content as parts."""
    items = [{"type": "message", "role": "user", "content": value}] if isinstance(value, str) else value
    listed: list[dict[str, Any]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        item = dict(item)
        kind = item.setdefault("type", "message")
        if kind == "message":
            content = item.get("content")
            if isinstance(content, str):
                part = "output_text" if item.get("role") == "assistant" else "input_text"
                item["content"] = [{"type": part, "text": content}]
            item.setdefault("id", _new_id("msg_"))
            item.setdefault("status", "completed")
        listed.append(item)
    return listed


def _input_store(request: Request) -> BoundedStore:
    state = _stores(request)
    if not hasattr(state, "imagelab_input_items"):
        state.imagelab_input_items = BoundedStore(MAX_RESPONSES, MAX_STORE_BYTES)
    return state.imagelab_input_items  # type: ignore[no-any-return]


def remember_input_items(request: Request, response_id: str, value: Any) -> None:
    items = input_items(value)
    _input_store(request).put(response_id, items, sum(len(str(i)) for i in items))


async def delete_response(request: Request) -> Response:
    """``DELETE /v1/responses/{id}``: forget a stored response (its image calls stay referable)."""
    err, _ = await apply_faults(request)
    if err:
        return err
    response_id = request.path_params["response_id"]
    run: BackgroundRun | None = background_runs(request.app.state).pop(response_id)
    stored = _stores(request).imagelab_responses.pop(response_id)
    if run is None and stored is None:
        raise _not_found(response_id)
    if run is not None and not run.finished:  # a deleted background response stops, and is not served again
        cancel_run(run)
    _input_store(request).pop(response_id)
    return JSONResponse({"id": response_id, "object": "response.deleted", "deleted": True})


async def list_input_items(request: Request) -> Response:
    """``GET /v1/responses/{id}/input_items``: the stored response's input items, a cursor page
    (``after``, ``limit`` 1–100 default 20, ``order`` asc / desc default desc)."""
    err, _ = await apply_faults(request)
    if err:
        return err
    response_id = request.path_params["response_id"]
    if response_id not in _stores(request).imagelab_responses:
        raise _not_found(response_id)
    items: list[dict[str, Any]] = _input_store(request).get(response_id) or []
    return JSONResponse(cursor_page(items, request.query_params, max_limit=100, default_limit=20))
