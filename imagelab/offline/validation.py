"""The request checks the offline endpoints share: model, size, prompt, moderation and output options.

Owns the typed parameter readers (``int_param``, ``str_param``), ``refuse_unknown``, the model
(``resolve_model``), sizes (``STANDARD_SIZE``, ``custom_size_problem``, ``resolve_size``), the
prompt (``check_prompt``), input fidelity (``check_input_fidelity``, ``reads_high_fidelity``),
and ``validate_output_options`` → ``GenerationSpec`` (n, size, quality, output_format,
background, output_compression, moderation, complexity, stream, partial_images, and for GIF
frame_count / frame_duration_ms with the API's defaults and 10 ms rounding; GIF and SVG refuse
streaming, partial images and compression, SVG more than one image). GIF and SVG are made only by
the models whose catalog entry lists them (the 2.6 models): any other model answers 400
``invalid_value`` on ``output_format``. A GIF takes the catalog's frame sizes (absent or ``auto``:
its default 512x512) and at most the frames each size fits ("Size too large for this frame
count"); an SVG a 1024-class reference size (absent or ``auto``: 1024x1024), quality low (the
default) to max, and ``svg: {model, reasoning: {effort}}``. Used by
generations, edits and the Responses image tool (a background a model has in preview, such as
transparent on gpt-image-2, is accepted and rendered). Moderation triggers (documented,
deterministic, ``check_moderation``): a prompt containing ``forbidden-output`` → 400
``moderation_blocked`` with ``moderation_details.moderation_stage == "output"``; otherwise a
prompt containing ``forbidden`` → the same with ``moderation_stage == "input"``. Builds on
``protocol``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from imagelab.catalog import ModelInfo, catalog, gif_max_frames, gif_sizes, model_info, parse_size, svg_rules

from .protocol import APIError, invalid_value, quote_list

__all__ = [
    "STANDARD_SIZE",
    "int_param",
    "str_param",
    "refuse_unknown",
    "resolve_model",
    "custom_size_problem",
    "resolve_size",
    "GenerationSpec",
    "check_prompt",
    "check_moderation",
    "validate_output_options",
    "check_input_fidelity",
    "reads_high_fidelity",
]

STANDARD_SIZE = {"square": (1024, 1024), "landscape": (1536, 1024), "portrait": (1024, 1536)}


def int_param(body: dict[str, Any], name: str, lo: int, hi: int, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise APIError(400, f"Invalid type for '{name}': expected an integer, but got "
                                f"{type(value).__name__} instead.", param=name, code="invalid_type")
    if value < lo:
        raise APIError(400, f"Invalid '{name}': integer below minimum value. Expected a value >= {lo}, "
                            f"but got {value} instead.", param=name, code="integer_below_min_value")
    if value > hi:
        raise APIError(400, f"Invalid '{name}': integer above maximum value. Expected a value <= {hi}, "
                            f"but got {value} instead.", param=name, code="integer_above_max_value")
    return value


def str_param(body: dict[str, Any], name: str, default: str | None) -> str | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise APIError(400, f"Invalid type for '{name}': expected a string, but got {type(value).__name__} instead.",
                       param=name, code="invalid_type")
    return value


def refuse_unknown(body: Iterable[str], known: set[str]) -> None:
    for key in body:
        if key not in known:
            raise APIError(400, f"Unknown parameter: '{key}'.", param=key, code="unknown_parameter")


def resolve_model(body: dict[str, Any]) -> ModelInfo:
    name = str_param(body, "model", catalog().default_model) or catalog().default_model
    info = model_info(name)
    if info is None:
        raise APIError(404, f"The model `{name}` does not exist or you do not have access to it.",
                       param="model", code="model_not_found")
    if info.retired:
        raise APIError(404, f"The model `{name}` does not exist or you do not have access to it. "
                            f"{info.retirement_sentence()}", param="model", code="model_not_found")
    return info


def custom_size_problem(width: int, height: int) -> str | None:
    rules = catalog().limits["custom_size"]
    m = rules["multiple"]
    if width % m or height % m:
        return f"both sides must be multiples of {m}"
    long, short = max(width, height), min(width, height)
    if long > rules["max_long_edge"] or short > rules["max_short_edge"]:
        return f"the size must fit within {rules['max_long_edge']}x{rules['max_short_edge']}"
    if long / short > rules["max_ratio"]:
        return f"the aspect ratio must be between 1:{rules['max_ratio']:g} and {rules['max_ratio']:g}:1"
    px = width * height
    if px < rules["min_pixels"] or px > rules["max_pixels"]:
        return f"the total must be between {rules['min_pixels']:,} and {rules['max_pixels']:,} pixels"
    return None


def resolve_size(info: ModelInfo, size: str | None) -> tuple[int, int]:
    size = size or "auto"
    fixed = sorted(s for s in info.sizes if s != "auto")
    listed = fixed + (["auto"] if "auto" in info.sizes else [])
    if size == "auto" and "auto" in info.sizes:
        return 1024, 1024
    if size in fixed:
        return parse_size(size)  # type: ignore[return-value]
    dims = parse_size(size)
    if info.custom_sizes:
        problem = "it is not of the form WIDTHxHEIGHT" if dims is None else custom_size_problem(*dims)
        if problem is None:
            return dims  # type: ignore[return-value]
        rules = catalog().limits["custom_size"]
        raise APIError(400, f"Invalid value: '{size}'. Supported values are: "
                            f"{', '.join(repr(v) for v in listed)}, or a custom "
                            f"'WIDTHxHEIGHT' where both sides are multiples of {rules['multiple']}, the size fits "
                            f"within {rules['max_long_edge']}x{rules['max_short_edge']}, the aspect ratio is between "
                            f"1:{rules['max_ratio']:g} and {rules['max_ratio']:g}:1 and the total is between "
                            f"{rules['min_pixels']:,} and {rules['max_pixels']:,} pixels; here {problem}.",
                       param="size", code="invalid_value")
    raise invalid_value("size", size, listed)


@dataclass
class GenerationSpec:
    model: ModelInfo
    prompt: str
    n: int
    width: int
    height: int
    quality: str  # resolved (never "auto")
    output_format: str
    background: str  # resolved: "opaque" or "transparent"
    compression: int | None
    stream: bool
    partial_images: int
    frame_count: int = 9
    frame_duration_ms: int = 200

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def check_prompt(body: dict[str, Any]) -> str:
    if "prompt" not in body or body["prompt"] is None:
        raise APIError(400, "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    prompt = str_param(body, "prompt", "") or ""
    limit = catalog().limits["prompt_chars"]
    if not prompt.strip():
        raise APIError(400, "Invalid 'prompt': string too short. Expected a string with minimum length 1, "
                            "but got an empty string instead.", param="prompt", code="empty_string")
    if len(prompt) > limit:
        raise APIError(400, f"Invalid 'prompt': string too long. Expected a string with maximum length {limit}, "
                            f"but got a string with length {len(prompt)} instead.",
                       param="prompt", code="string_above_max_length")
    return prompt


def check_moderation(prompt: str) -> None:
    low = prompt.lower()
    stage = "output" if "forbidden-output" in low else "input" if "forbidden" in low else None
    if stage:
        raise APIError(400, "Your request was rejected by the safety system. If you believe this is an error, "
                            "contact us at help.openai.com and include the request ID. (offline trigger word: "
                            "'forbidden')", type="image_generation_user_error", code="moderation_blocked",
                       moderation_details={"moderation_stage": stage})


def validate_output_options(body: dict[str, Any], info: ModelInfo, prompt: str, *,
                            auto_size: tuple[int, int] | None = None) -> GenerationSpec:
    """The output options shared by generations and edits: n, size, quality, output_format,
    background, output_compression, moderation, complexity, stream and partial_images.

    ``body`` holds typed values (edits convert their form strings first). ``auto_size`` is what
    ``size`` absent / ``"auto"`` means (edits: from the first input image); default 1024x1024.
    """
    limits = catalog().limits
    n = int_param(body, "n", limits["n"][0], limits["n"][1], 1)
    fmt = str_param(body, "output_format", "png") or "png"
    if fmt not in info.all_formats:
        if fmt in ("gif", "svg"):
            raise APIError(400, f"Invalid value: '{fmt}'. The model '{info.name}' does not support {fmt.upper()} "
                                f"output; supported values are: {quote_list(info.all_formats)}.",
                           param="output_format", code="invalid_value")
        raise invalid_value("output_format", fmt, info.all_formats)
    size = str_param(body, "size", "auto") or "auto"
    if fmt in ("gif", "svg"):
        width, height = _frame_size(fmt, size)
    elif size == "auto" and auto_size is not None and "auto" in info.sizes:
        width, height = auto_size
    else:
        width, height = resolve_size(info, size)

    quality = str_param(body, "quality", "auto") or "auto"
    qualities = ("auto", *svg_rules()["qualities"]) if fmt == "svg" else info.qualities
    if quality not in qualities:
        raise invalid_value("quality", quality, [q for q in qualities if q != "auto"] + ["auto"])
    if quality == "auto":
        quality = svg_rules()["default_quality"] if fmt == "svg" else \
            catalog().raw.get("auto_quality_estimated_as", "high")

    background = str_param(body, "background", "auto") or "auto"
    if background not in ("auto", "opaque", "transparent"):
        raise invalid_value("background", background, ["transparent", "opaque", "auto"])
    if background == "transparent":
        if "transparent" not in info.backgrounds + info.preview_backgrounds:
            raise APIError(400, "Transparent background is not supported for this model.", param="background",
                           code="invalid_value")
        if fmt not in ("png", "webp"):
            raise APIError(400, f"Transparent background is not supported for the '{fmt}' output format; "
                                "use 'png' or 'webp'.", param="background", code="invalid_value")

    compression = body.get("output_compression")
    if compression is not None:
        compression = int_param(body, "output_compression", 0, 100, 100)
        if fmt == "png" and compression < 100:
            raise APIError(400, "Compression less than 100 is not supported for PNG output format.",
                           param="output_compression", code="invalid_value")

    moderation = str_param(body, "moderation", "auto")
    if moderation not in ("auto", "low"):
        raise invalid_value("moderation", moderation, ["low", "auto"])
    complexity = str_param(body, "complexity", None)
    if complexity is not None and complexity not in ("low", "medium", "high"):
        raise invalid_value("complexity", complexity, ["low", "medium", "high"])

    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise APIError(400, "Invalid type for 'stream': expected a boolean.", param="stream", code="invalid_type")
    partial_images = int_param(body, "partial_images", limits["partial_images"][0], limits["partial_images"][1], 0)
    frame_count, frame_ms = _animation(body, fmt, stream=bool(stream), partial_images=partial_images,
                                       compression=compression, n=n)
    most = gif_max_frames(f"{width}x{height}")
    if fmt == "gif" and most is not None and frame_count > most:
        raise APIError(400, f"Size too large for this frame count: a {width}x{height} GIF can have at most {most} "
                            f"frames, not {frame_count}. Ask for fewer frames or a smaller size.",
                       param="frame_count", code="invalid_value")

    return GenerationSpec(model=info, prompt=prompt, n=n, width=width, height=height, quality=quality,
                          output_format=fmt, background="transparent" if background == "transparent" else "opaque",
                          compression=compression, stream=bool(stream), partial_images=partial_images,
                          frame_count=frame_count, frame_duration_ms=frame_ms)


def _frame_size(fmt: str, size: str) -> tuple[int, int]:
    """A GIF's frame size or an SVG's reference size: the format's own list, "auto" its default."""
    rules = (gif_sizes(), catalog().limits["gif"]["default_size"]) if fmt == "gif" else \
        (svg_rules()["sizes"], svg_rules()["default_size"])
    listed, default = list(rules[0]), str(rules[1])
    chosen = default if size == "auto" else size
    if chosen not in listed:
        raise APIError(400, f"Invalid value: '{size}'. {fmt.upper()} output supports these sizes: "
                            f"{quote_list([*listed, 'auto'])}.", param="size", code="invalid_value")
    dims = parse_size(chosen)
    assert dims is not None  # the catalog lists WIDTHxHEIGHT sizes only
    return dims


def _animation(body: dict[str, Any], fmt: str, *, stream: bool, partial_images: int, compression: int | None,
               n: int) -> tuple[int, int]:
    """GIF frame count and duration (the API's defaults and rounding), and the GIF/SVG restrictions."""
    limits = catalog().limits
    for name in ("frame_count", "frame_duration_ms"):
        if body.get(name) is not None and fmt != "gif":
            raise APIError(400, f"'{name}' is only supported with output_format 'gif'.", param=name,
                           code="invalid_value")
    if body.get("svg") is not None:
        svg = body["svg"]
        if fmt != "svg":
            raise APIError(400, "'svg' is only supported with output_format 'svg'.", param="svg", code="invalid_value")
        if not isinstance(svg, dict) or not isinstance(svg.get("model"), str):
            raise APIError(400, "Invalid 'svg': expected an object with a string 'model'.", param="svg.model",
                           code="invalid_type")
        refuse_unknown((f"svg.{k}" for k in svg), {"svg.model", "svg.reasoning"})
        reasoning = svg.get("reasoning")
        if reasoning is not None:
            if not isinstance(reasoning, dict):
                raise APIError(400, "Invalid type for 'svg.reasoning': expected an object.", param="svg.reasoning",
                               code="invalid_type")
            refuse_unknown((f"svg.reasoning.{k}" for k in reasoning), {"svg.reasoning.effort"})
            effort = reasoning.get("effort")
            if effort is not None and effort not in svg_rules()["reasoning_efforts"]:
                raise invalid_value("svg.reasoning.effort", effort, svg_rules()["reasoning_efforts"])
    if fmt in ("gif", "svg"):
        if stream or partial_images:
            name = "stream" if stream else "partial_images"
            raise APIError(400, f"{fmt.upper()} output does not support streaming or partial images.", param=name,
                           code="invalid_value")
        if compression is not None:
            raise APIError(400, f"{fmt.upper()} output does not support 'output_compression'.",
                           param="output_compression", code="invalid_value")
    if fmt == "svg" and n != 1:
        raise APIError(400, "SVG output requires n=1.", param="n", code="invalid_value")
    frames = int_param(body, "frame_count", limits["gif_frames"][0], limits["gif_frames"][1],
                       limits["gif_frames_default"])
    ms = int_param(body, "frame_duration_ms", 1, 10**9, limits["gif_frame_ms_default"])
    return frames, max(10, min(655_350, (ms + 5) // 10 * 10))  # the API rounds to 10 ms and caps the delay


def check_input_fidelity(body: dict[str, Any], info: ModelInfo) -> str | None:
    value = body.get("input_fidelity")
    if value in (None, ""):
        if not info.input_fidelity:
            return None
        return "low" if "low" in info.input_fidelity else info.input_fidelity[0]
    if not info.input_fidelity:
        raise APIError(400, f"The model '{info.name}' does not support the 'input_fidelity' parameter.",
                       param="input_fidelity", code="unsupported_parameter")
    if value not in info.input_fidelity:
        raise invalid_value("input_fidelity", value, info.input_fidelity)
    return str(value)  # one of the catalog's names, so already a string


def reads_high_fidelity(info: ModelInfo, fidelity: str | None) -> bool:
    return fidelity == "high" or (not info.input_fidelity and info.token_table == "gpt-image-2")
