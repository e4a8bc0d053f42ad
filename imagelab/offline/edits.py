"""``POST /v1/images/edits`` for the offline backend: the handler and its pure picture logic.

Owns the edit parameters and byte limits (``EDIT_PARAMS``, ``MAX_BODY_BYTES`` …), the edit
picture rules (``edit_output_size``, ``asks_for_mask``, ``mask_picture``, ``repaint``,
``collage``, ``fit``, ``edit_picture``; the Responses image tool reuses them), ``EditSpec`` /
``validate_edit``, the multipart handler ``create_edit`` and ``answer_edit`` (the answer, which the
JSON body's handler in ``edits_json`` shares). Builds on ``render``, ``protocol``, ``sse``,
``faults``, ``validation``, ``uploads`` and ``images``.

Request: multipart/form-data as the openai SDK sends it — ``image`` (one file) or repeated
``image[]`` (1–16 files), ``prompt``, optional ``mask`` or ``markup`` (files), and the text fields
``model``, ``n``, ``size``, ``quality``, ``background``, ``output_format``, ``output_compression``,
``moderation``, ``complexity``, ``input_fidelity``, ``partial_images``, ``stream`` ("true"/"false").
The output options are checked by the same ``validate_output_options`` as generations.

Output size: ``size`` when given (not ``auto``); else the first image's own size when the model
accepts it (a standard size, or a valid custom size on models with custom sizes); else the
standard size nearest to the first image's aspect ratio.

The picture (deterministic for the same inputs):

- a prompt containing "mask" and "black and white" / "black-and-white" → a black picture with a
  white ellipse over the central subject area (for the "ask the model to draw a mask" flow);
- with a ``mask``: the first image (resized to the output size if that differs) where ONLY the
  pixels whose mask alpha is exactly 0 are repainted with synthetic content from the prompt;
  every other pixel (alpha 1–255) is kept exactly — pixel-exact in PNG output. The picture is
  RGB (RGBA when ``background=transparent``), so an input's alpha is dropped in opaque output;
- with a ``markup``: the same, with the markup's non-transparent pixels (alpha > 0, the drawn
  strokes) as the region to repaint;
- with the ``drift`` fault (``faults``): as with a mask or markup, but the kept pixels change a
  little (deterministic noise of up to that many levels per channel, ``add_drift``), as the real
  models' repaint does;
- otherwise: a synthetic background from the prompt with every input image laid out as a tile
  (scaled to fit its cell, aspect kept) in a grid, so each reference visibly appears.

Usage: the prompt's text tokens; image input tokens = ``costs.input_image_tokens`` summed over
the input images (high fidelity when ``input_fidelity=high``, and — like the app's estimate — on
the 2.x models without the parameter, which always read inputs at high fidelity); output tokens
as generations (+100 per partial image when streaming).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from imagelab import costs
from imagelab.catalog import ModelInfo, catalog

from . import render
from .faults import Faults, apply_faults
from .images import GENERATION_PARAMS, generation_usage, image_events, images_response
from .protocol import JSON, APIError
from .sse import event_stream
from .uploads import (
    MULTIPART,
    SUPPORTED_MIMETYPES,
    Upload,
    check_mimetype,
    decode_image,
    load_guide,
    mimetype_of,
    read_multipart,
    too_big,
)
from .validation import (
    STANDARD_SIZE,
    GenerationSpec,
    check_input_fidelity,
    check_moderation,
    check_prompt,
    custom_size_problem,
    reads_high_fidelity,
    refuse_unknown,
    resolve_model,
    validate_output_options,
)
from .workload import RenderGate, render_gate

__all__ = [
    "EDIT_PARAMS",
    "SUPPORTED_MIMETYPES",
    "MAX_BODY_BYTES",
    "EditSpec",
    "validate_edit",
    "create_edit",
    "answer_edit",
    "edit_output_size",
    "asks_for_mask",
    "mask_picture",
    "repaint",
    "collage",
    "fit",
    "edit_picture",
    "add_drift",
]

FILE_FIELDS = {"image", "image[]", "mask", "markup"}
EDIT_PARAMS = (GENERATION_PARAMS - {"svg"}) | FILE_FIELDS | {"input_fidelity"}
INT_FIELDS = ("n", "output_compression", "partial_images", "frame_count", "frame_duration_ms")
_limits = catalog().limits
MAX_IMAGE_BYTES: int = _limits.get("input_image_bytes", 50 * 1024 * 1024)
MAX_MASK_BYTES: int = _limits.get("mask_bytes", 4 * 1024 * 1024)
MAX_IMAGES: int = _limits.get("max_input_images", 16)
# 16 images of 50 MB, a mask / markup and the text fields: anything larger is refused unread.
MAX_BODY_BYTES: int = MAX_IMAGES * MAX_IMAGE_BYTES + MAX_IMAGE_BYTES + 1024 * 1024


# --------------------------------------------------------------------------- pure picture logic


def edit_output_size(info: ModelInfo, width: int, height: int) -> tuple[int, int]:
    """What ``size=auto`` means for an edit of a ``width`` x ``height`` first image."""
    if f"{width}x{height}" in info.sizes:
        return width, height
    if info.custom_sizes and custom_size_problem(width, height) is None:
        return width, height
    ratio = math.log(width / height)
    return min(STANDARD_SIZE.values(), key=lambda wh: abs(math.log(wh[0] / wh[1]) - ratio))


def asks_for_mask(prompt: str) -> bool:
    low = prompt.lower()
    return "mask" in low and ("black and white" in low or "black-and-white" in low)


def mask_picture(width: int, height: int) -> Image.Image:
    """Black with a white ellipse over the central subject area (RGB)."""
    img = Image.new("RGB", (width, height), (0, 0, 0))
    ImageDraw.Draw(img).ellipse((width * 0.2, height * 0.15, width * 0.8, height * 0.85), fill=(255, 255, 255))
    return img


def repaint(first: Image.Image, region: np.ndarray, new: Image.Image) -> Image.Image:
    """``first`` (already in the output mode and size) with the pixels where ``region`` is True
    taken from ``new``; every other pixel is kept exactly."""
    base = np.asarray(first.convert(new.mode))
    fresh = np.asarray(new)
    out = np.where(region[..., None], fresh, base)
    return Image.fromarray(out.astype(np.uint8), new.mode)


def collage(refs: list[Image.Image], background: Image.Image) -> Image.Image:
    """The references as tiles in a grid over ``background`` (each scaled to fit its cell)."""
    width, height = background.size
    canvas = background.convert("RGBA")
    k = len(refs)
    cols = math.ceil(math.sqrt(k))
    rows = math.ceil(k / cols)
    margin_x, margin_y = int(width * 0.06), int(height * 0.06)
    gap = max(2, int(min(width, height) * 0.02))
    cell_w = (width - 2 * margin_x) / cols
    cell_h = (height - 2 * margin_y) / rows
    for i, ref in enumerate(refs):
        r, c = divmod(i, cols)
        box_w, box_h = max(1, int(cell_w - gap)), max(1, int(cell_h - gap))
        tile = ImageOps.contain(ref.convert("RGBA"), (box_w, box_h), Image.Resampling.LANCZOS)
        x = int(margin_x + c * cell_w + (cell_w - tile.width) / 2)
        y = int(margin_y + r * cell_h + (cell_h - tile.height) / 2)
        canvas.alpha_composite(tile, (x, y))
    return canvas.convert(background.mode)


def fit(img: Image.Image, size: tuple[int, int],
        resample: Image.Resampling = Image.Resampling.LANCZOS) -> Image.Image:
    return img if img.size == size else img.resize(size, resample)


def add_drift(img: Image.Image, keep: np.ndarray, levels: int, seed: int) -> Image.Image:
    """``img`` with the pixels where ``keep`` is True moved by up to ``levels`` per colour channel."""
    pixels = np.asarray(img).astype(np.int16)
    noise = np.random.default_rng(seed).integers(-levels, levels + 1, pixels.shape[:2] + (3,), dtype=np.int16)
    pixels[..., :3] += noise * keep[..., None]
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8), img.mode)


def edit_picture(prompt: str, images: list[Image.Image], width: int, height: int, *, quality: str, index: int,
                 transparent: bool, mask: Image.Image | None = None,
                 markup: Image.Image | None = None, drift: int = 0) -> Image.Image:
    """The edited picture (RGB, or RGBA when ``transparent``); see the module docstring."""
    mode = "RGBA" if transparent else "RGB"
    if asks_for_mask(prompt):
        return mask_picture(width, height).convert(mode)
    new = render.compose(prompt, width, height, quality=quality, index=index, transparent=transparent)
    guide = mask if mask is not None else markup
    if guide is None:
        return collage(images, new)
    alpha = np.asarray(fit(guide.convert("RGBA"), (width, height), Image.Resampling.NEAREST))[..., 3]
    region = alpha == 0 if mask is not None else alpha > 0
    first = fit(images[0].convert(mode), (width, height))
    out = repaint(first, region, new)
    if drift:
        out = add_drift(out, ~region, drift, render.seed_for(prompt, width, height, quality, index, "drift"))
    return out


# --------------------------------------------------------------------------- request handling


@dataclass
class EditSpec:
    out: GenerationSpec
    images: list[Image.Image]
    mask: Image.Image | None = None
    markup: Image.Image | None = None
    input_fidelity: str | None = None
    input_image_tokens: int = 0
    input_sizes: list[tuple[int, int]] = field(default_factory=list)

    def picture(self, index: int, drift: int = 0) -> Image.Image:
        o = self.out
        return edit_picture(o.prompt, self.images, o.width, o.height, quality=o.quality, index=index,
                            transparent=o.background == "transparent", mask=self.mask, markup=self.markup,
                            drift=drift)

    def usage(self, images: int, partials_per_image: int) -> dict[str, Any]:
        return generation_usage(self.out, images, partials_per_image, self.input_image_tokens)


async def read_form(request: Request) -> FormData:
    """Parse the multipart body, refusing anything larger than ``MAX_BODY_BYTES`` unread."""
    too_large = APIError(413, f"Request body too large: the maximum is {MAX_BODY_BYTES:,} bytes "
                              f"({MAX_IMAGES} images of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MB each).",
                         code="request_too_large")
    return await read_multipart(request, max_bytes=MAX_BODY_BYTES, too_large=too_large, max_files=MAX_IMAGES * 4,
                                max_fields=200, accepted=(JSON, MULTIPART))


def _text_fields(form: FormData) -> dict[str, Any]:
    """Scalar form fields → typed values for the shared validators (last value wins)."""
    body: dict[str, Any] = {}
    for key, value in form.multi_items():
        if key in FILE_FIELDS:
            continue
        if isinstance(value, UploadFile):
            raise APIError(400, f"Invalid type for '{key}': expected a string, but got a file instead.",
                           param=key, code="invalid_type")
        body[key] = value
    for key in INT_FIELDS:
        if key in body:
            raw = body[key].strip()
            try:
                body[key] = int(raw)
            except ValueError:
                raise APIError(400, f"Invalid type for '{key}': expected an integer, but got a string instead.",
                               param=key, code="invalid_type") from None
    if "stream" in body:
        raw = body["stream"].strip().lower()
        if raw not in ("true", "false"):
            raise APIError(400, "Invalid type for 'stream': expected a boolean.", param="stream",
                           code="invalid_type")
        body["stream"] = raw == "true"
    return body


async def _read_uploads(form: FormData) -> tuple[list[Upload], Upload | None, Upload | None]:
    images: list[Upload] = []
    extra: dict[str, Upload] = {}
    for key, value in form.multi_items():
        if key not in FILE_FIELDS:
            continue
        name = "image" if key == "image[]" else key
        if not isinstance(value, UploadFile):
            raise APIError(400, f"Invalid type for '{name}': expected a file, but got a string instead.",
                           param=name, code="invalid_type")
        upload = Upload(name, mimetype_of(value), await value.read())
        if name == "image":
            images.append(upload)
        else:
            extra[name] = upload
    return images, extra.get("mask"), extra.get("markup")


def validate_edit(body: dict[str, Any], images: list[Upload], mask: Upload | None,
                  markup: Upload | None) -> EditSpec:
    """Everything but the form parsing; runs in a thread (it decodes the images)."""
    info = resolve_model(body)
    prompt = check_prompt(body)
    if mask is not None and markup is not None:
        raise APIError(400, "'mask' and 'markup' cannot be used together.", param="markup",
                       code="invalid_request")
    if markup is not None and not info.markup:
        raise APIError(400, f"The model '{info.name}' does not support the 'markup' parameter.",
                       param="markup", code="unsupported_parameter")
    fidelity = check_input_fidelity(body, info)

    if not images:
        raise APIError(400, "Missing required parameter: 'image'.", param="image",
                       code="missing_required_parameter")
    limit = min(MAX_IMAGES, info.max_input_images or MAX_IMAGES)
    if len(images) > limit:
        raise APIError(400, f"Invalid 'image': array too long. Expected an array with maximum length {limit}, "
                            f"but got an array with length {len(images)} instead.", param="image",
                       code="array_above_max_length")
    decoded: list[Image.Image] = []
    for i, upload in enumerate(images, start=1):
        check_mimetype(upload)
        if len(upload.data) > MAX_IMAGE_BYTES:
            raise too_big(upload, MAX_IMAGE_BYTES)
        try:
            decoded.append(decode_image(upload.data))
        except Exception:  # noqa: BLE001 - InputRefused or anything else Pillow cannot read
            raise APIError(400, f"Invalid image file or mode for image {i}, please check your image file.",
                           param="image", code="invalid_image_file") from None

    guides: dict[str, Image.Image] = {}
    for guide, limit_bytes in ((mask, MAX_MASK_BYTES), (markup, MAX_IMAGE_BYTES)):
        if guide is None:
            continue
        check_mimetype(guide)
        if len(guide.data) > limit_bytes:
            raise too_big(guide, limit_bytes)
        guides[guide.name] = load_guide(guide, decoded[0].size)
    if "markup" in guides and not (np.asarray(guides["markup"])[..., 3] < 255).any():
        raise APIError(400, "Invalid markup image format - markup image has no transparent pixels",
                       param="markup", code="invalid_image_format")

    out = validate_output_options(body, info, prompt, auto_size=edit_output_size(info, *decoded[0].size))
    if out.output_format in ("gif", "svg") and guides:
        raise APIError(400, f"{out.output_format.upper()} output cannot be combined with a mask or markup.",
                       param="mask" if "mask" in guides else "markup", code="invalid_value")
    check_moderation(prompt)
    high = reads_high_fidelity(info, fidelity)
    sizes = [im.size for im in decoded]
    tokens = sum(costs.input_image_tokens(w, h, high_fidelity=high) for w, h in sizes)
    return EditSpec(out=out, images=decoded, mask=guides.get("mask"), markup=guides.get("markup"),
                    input_fidelity=fidelity, input_image_tokens=tokens, input_sizes=sizes)


async def create_edit(request: Request) -> Response:
    """The multipart edit (a JSON body is ``edits_json``'s)."""
    form = await read_form(request)
    try:
        refuse_unknown((k for k in form), EDIT_PARAMS)
        body = _text_fields(form)
        err, faults = await apply_faults(request, body.get("model") if isinstance(body.get("model"), str) else None,
                                         spread=body.get("stream") is True)
        if err:
            return err
        images, mask, markup = await _read_uploads(form)
    finally:
        await form.close()
    gate = render_gate(request)
    spec = await gate.run(validate_edit, body, images, mask, markup)
    return await answer_edit(spec, faults, gate)


async def answer_edit(spec: EditSpec, faults: Faults, gate: RenderGate) -> Response:
    """The edited pictures as the API answers them: ``ImagesResponse`` JSON, or events when streaming."""
    out = spec.out

    def produce(index: int) -> tuple[list[bytes], bytes]:
        img = spec.picture(index, faults.drift)
        partials = [render.encode(p, out.output_format, out.compression)
                    for p in render.partial_states(img, out.partial_images)]
        return partials, render.encode(img, out.output_format, out.compression)

    if out.stream:
        gate.admit()  # a stream's answer begins at once: a busy server refuses it here or never
        return event_stream(image_events(out, faults, "image_edit", produce, spec.usage(1, out.partial_images), gate))

    def work() -> list[bytes]:
        return [render.encode(spec.picture(i, faults.drift), out.output_format, out.compression) for i in range(out.n)]

    return images_response(out, faults, await gate.run(work), spec.usage(out.n, 0))
