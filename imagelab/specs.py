"""Request specs: plain dataclasses for what a page would send, checked against the catalog.

A spec never talks to the network. ``problems()`` lists every reason the request would be
refused, each one sentence naming the option and what to choose instead; ``to_sdk_kwargs()``
gives the keyword arguments for the ``openai`` SDK call.
"""

from __future__ import annotations

import base64
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, ClassVar, Self

from .catalog import ModelInfo, catalog, gif_max_frames, gif_sizes, model_info, parse_size, svg_rules

if TYPE_CHECKING:
    from .costs import Estimate

__all__ = ["Problem", "OutputOptions", "GenerateSpec", "EditSpec", "InputImage", "MaskInput", "size_problem",
           "nearest_custom_size", "prompt_problems", "TurnSpec", "ACTIONS", "gif_frame_ms",
           "GIF_MIN_FRAME_MS", "GIF_MAX_FRAME_MS", "COMPLETION_WINDOWS", "WAITING_WINDOWS", "models_making",
           "bytes_to_json", "bytes_from_json"]


def bytes_to_json(data: bytes) -> str:
    """Picture bytes inside a job's JSON (a queued job carries its inputs)."""
    return base64.b64encode(data).decode("ascii")


def bytes_from_json(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


@dataclass(frozen=True)
class Problem:
    """One reason a request would be refused: the option and a sentence about it."""

    param: str
    message: str

    def __str__(self) -> str:
        return self.message


def _choices(values: tuple[str, ...] | list[str]) -> str:
    vals = list(values)
    if len(vals) <= 1:
        return "".join(vals)
    return ", ".join(vals[:-1]) + " or " + vals[-1]


def nearest_custom_size(width: int, height: int) -> str:
    """The closest size that satisfies the custom-size rules, for the suggestion in a message."""
    rules = catalog().limits["custom_size"]
    m = rules["multiple"]
    w = max(m, round(width / m) * m)
    h = max(m, round(height / m) * m)
    long_max, short_max = rules["max_long_edge"], rules["max_short_edge"]
    scale = min(1.0, long_max / max(w, h), short_max / min(w, h), math.sqrt(rules["max_pixels"] / (w * h)))
    up = max(1.0, math.sqrt(rules["min_pixels"] / (w * h)))
    scale = scale if scale < 1.0 else up
    if scale > 1.0:
        w, h = math.ceil(w * scale / m) * m, math.ceil(h * scale / m) * m
    else:
        w, h = int(w * scale) // m * m, int(h * scale) // m * m
    ratio = rules["max_ratio"]
    if max(w, h) / min(w, h) > ratio:
        if w > h:
            w = int(h * ratio) // m * m
        else:
            h = int(w * ratio) // m * m
    while w * h < rules["min_pixels"]:  # the ratio fix can shrink below the minimum again
        w, h = w + m, h + m
    return f"{w}x{h}"


def models_making(output_format: str) -> list[str]:
    """The models (not retired) that make ``output_format``, in catalog order."""
    return [m.name for m in catalog().models.values() if output_format in m.all_formats and not m.retired]


def _frame_sizes_fitting(frames: int, size: str) -> list[str]:
    """The largest two GIF frame sizes that fit ``frames``, of the shape of ``size`` when there are any."""
    fitting = [s for s, most in gif_sizes().items() if most >= frames]
    dims = parse_size(size)
    if dims is not None:
        same = [s for s in fitting if (p := parse_size(s)) and (p[0] > p[1]) == (dims[0] > dims[1])
                and (p[0] < p[1]) == (dims[0] < dims[1])]
        fitting = same or fitting

    def area(s: str) -> int:
        w, h = parse_size(s) or (0, 0)
        return w * h

    return sorted(fitting, key=area, reverse=True)[:2]


def size_problem(size: str, info: ModelInfo, output_format: str = "png") -> str | None:
    """A sentence saying what is wrong with ``size`` for this model and format, or None if it is fine.

    GIF output takes its own frame sizes and SVG a 1024-class reference size, whatever the model's
    other sizes; "auto" leaves the choice to the API."""
    if output_format == "gif" and output_format in info.all_formats:
        if size == "auto" or size in gif_sizes():
            return None
        return f"A GIF is made in frame sizes only: {size} is not one; choose {_choices(list(gif_sizes()))}."
    if output_format == "svg" and output_format in info.all_formats:
        if size == "auto" or size in svg_rules()["sizes"]:
            return None
        return (f"An SVG is drawn from a reference image of {_choices(svg_rules()['sizes'])}: {size} is not one; "
                "choose one of those.")
    if size in info.sizes:
        return None
    standard = _choices(info.sizes)
    dims = parse_size(size)
    if not info.custom_sizes:
        return f"The size {size} is not available for {info.name}; choose {standard}."
    if dims is None:
        return (f"The size '{size}' is not a width x height like 1536x864; "
                f"write it as WIDTHxHEIGHT or choose {standard}.")
    w, h = dims
    rules = catalog().limits["custom_size"]
    m = rules["multiple"]
    hint = nearest_custom_size(w, h)
    if w % m or h % m:
        return f"Width and height must both be multiples of {m} ({w}x{h} is not); try {hint}."
    if max(w, h) / min(w, h) > rules["max_ratio"]:
        return f"The size {w}x{h} is narrower than 1:3 or wider than 3:1; try {hint}."
    if max(w, h) > rules["max_long_edge"] or min(w, h) > rules["max_short_edge"]:
        return f"The size {w}x{h} is larger than the maximum 3840x2160; try {hint}."
    if w * h > rules["max_pixels"]:
        return f"The size {w}x{h} has more than {rules['max_pixels']:,} pixels; try {hint}."
    if w * h < rules["min_pixels"]:
        return f"The size {w}x{h} has fewer than {rules['min_pixels']:,} pixels; try {hint}."
    return None


@dataclass(frozen=True)
class OutputOptions:
    """The output options every image request shares (generate, edit, and the Responses tool)."""

    model: str = field(default_factory=lambda: catalog().default_model)
    n: int = 1
    size: str = "auto"
    quality: str = "auto"
    background: str = "auto"
    output_format: str = "png"
    output_compression: int = 100
    moderation: str = "auto"
    partial_images: int = 0
    complexity: str | None = None
    frame_count: int | None = None
    frame_duration_ms: int | None = None
    svg_model: str | None = None  # the model that authors SVG output, for accounts with SVG model selection
    svg_effort: str | None = None  # how hard that model reasons (svg.reasoning.effort); only with svg_model

    text_only: ClassVar[bool] = False  # pictures are the result (the run engine counts them)

    @property
    def info(self) -> ModelInfo | None:
        return model_info(self.model)

    @property
    def stream(self) -> bool:
        """Stream whenever partial images are asked for; GIF and SVG cannot stream."""
        return self.partial_images > 0 and self.output_format not in ("gif", "svg")

    @property
    def compressible(self) -> bool:
        return self.output_format in ("jpeg", "webp")

    def with_changes(self, **changes: Any) -> Self:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """Everything needed to send this request again, inputs included, as JSON (a queued job's spec)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                out[f.name] = [img.to_json() for img in value]
            elif isinstance(value, (InputImage, MaskInput)):
                out[f.name] = value.to_json()
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """The spec ``to_json`` wrote; a field this version does not know is a ValueError."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"this spec has no field {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name == "images":
                values[name] = tuple(InputImage.from_json(v) for v in value)
            elif name in ("mask", "markup"):
                values[name] = None if value is None else MaskInput.from_json(value)
            else:
                values[name] = value
        return cls(**values)

    def estimate(self) -> Estimate:
        """What this request would use and cost, from the catalog's prices."""
        from .costs import estimate

        return estimate(self)

    def inputs(self) -> list[tuple[bytes, str]]:
        """The pictures sent with the request (bytes, MIME), for the check before spending: none here."""
        return []

    def option_problems(self) -> list[Problem]:
        info = self.info
        limits = catalog().limits
        out: list[Problem] = []
        if info is None:
            return [Problem("model",
                            f"The model '{self.model}' is not in ImageLab's catalog; choose one from the list.")]
        if info.retired:
            return [Problem("model", info.retirement_sentence())]
        lo, hi = limits["n"]
        if not lo <= self.n <= hi:
            out.append(Problem("n", f"Ask for between {lo} and {hi} images; {self.n} is out of range."))
        msg = size_problem(self.size, info, self.output_format)
        if msg:
            out.append(Problem("size", msg))
        qualities = self.qualities_for(info)
        if self.quality not in qualities:
            what = "an SVG's reference image" if qualities != info.qualities else info.name
            out.append(Problem("quality", f"The quality '{self.quality}' is not available for {what}; "
                                          f"choose {_choices(qualities)}."))
        if self.output_format not in info.all_formats:
            makers = models_making(self.output_format)
            if self.output_format in ("gif", "svg") and makers:
                out.append(Problem("output_format", f"{info.name} does not make {self.output_format.upper()} output; "
                                                    f"only {_choices(makers)} do. Choose one of them, or "
                                                    f"{_choices(info.all_formats)}."))
            else:
                out.append(Problem("output_format", f"The format '{self.output_format}' is not available for "
                                                    f"{info.name}; choose {_choices(info.all_formats)}."))
        if self.background not in info.backgrounds + info.preview_backgrounds:
            if self.background == "transparent":
                out.append(Problem("background", f"{info.name} cannot make transparent backgrounds; "
                                                 "choose an opaque or automatic background, or a 2.5 model."))
            else:
                out.append(Problem("background", f"The background '{self.background}' is not available for "
                                                 f"{info.name}; choose {_choices(info.backgrounds)}."))
        elif self.background == "transparent" and self.output_format not in ("png", "webp"):
            out.append(Problem("background", "A transparent background needs PNG or WebP; switch the format from "
                                             f"{self.output_format.upper()} to PNG or WebP, or choose an opaque "
                                             "background."))
        if not 0 <= self.output_compression <= 100:
            out.append(Problem("output_compression",
                               f"Compression runs from 0 to 100; {self.output_compression} is out of range."))
        elif self.output_compression != 100 and not self.compressible:
            out.append(Problem("output_compression", "Compression applies only to JPEG and WebP; set the format to "
                                                     "JPEG or WebP, or leave compression at 100."))
        plo, phi = limits["partial_images"]
        if not plo <= self.partial_images <= phi:
            out.append(Problem("partial_images", f"Ask for between {plo} and {phi} partial images; "
                                                 f"{self.partial_images} is out of range."))
        if info.moderation and self.moderation not in info.moderation:
            out.append(Problem("moderation", f"Moderation must be {_choices(info.moderation)}."))
        if self.complexity not in (None, "low", "medium", "high"):
            out.append(Problem("complexity", "Complexity must be low, medium or high."))
        if self.output_format in ("gif", "svg"):
            fmt = self.output_format.upper()
            if self.partial_images:
                out.append(Problem("partial_images",
                                   f"{fmt} output cannot stream or send partial images (nor use a mask or "
                                   "compression); set partial images to 0."))
        if self.output_format == "svg" and self.n != 1:
            out.append(Problem("n", "SVG output makes one image at a time; set the number of images to 1."))
        if self.output_format == "gif":
            flo, fhi = limits["gif_frames"]
            frames = self.frame_count if self.frame_count is not None else limits["gif_frames_default"]
            most = gif_max_frames(self.size)
            if not flo <= frames <= fhi:
                out.append(Problem("frame_count",
                                   f"A GIF has between {flo} and {fhi} frames; {frames} is out of range."))
            elif most is not None and frames > most:
                out.append(Problem("frame_count",
                                   f"A {self.size} GIF fits at most {most} frames (approximate); choose {most} or "
                                   f"fewer frames, or a smaller frame size such as "
                                   f"{_choices(_frame_sizes_fitting(frames, self.size))}."))
            if self.frame_duration_ms is not None and not GIF_MIN_FRAME_MS <= self.frame_duration_ms \
                    <= GIF_MAX_FRAME_MS:
                out.append(Problem("frame_duration_ms",
                                   f"A GIF frame lasts from {GIF_MIN_FRAME_MS} to {GIF_MAX_FRAME_MS:,} ms; "
                                   f"{self.frame_duration_ms} ms is out of range."))
        elif self.frame_count is not None or self.frame_duration_ms is not None:
            out.append(Problem("frame_count", "Frame count and frame duration apply only to GIF output; "
                                              "choose the GIF format or clear them."))
        if self.svg_model is not None and self.output_format != "svg":
            out.append(Problem("svg_model", "An SVG author model applies only to SVG output; choose the SVG format "
                                            "or clear it."))
        if self.svg_effort is not None:
            efforts = svg_rules()["reasoning_efforts"]
            if self.svg_model is None:
                out.append(Problem("svg_effort", "A reasoning effort applies to the SVG author model: name the model "
                                                 "or clear the effort."))
            elif self.svg_effort not in efforts:
                out.append(Problem("svg_effort", f"The SVG author's reasoning effort must be {_choices(efforts)}."))
        return out

    def qualities_for(self, info: ModelInfo) -> tuple[str, ...]:
        """The qualities this request can ask ``info`` for: an SVG's reference image has its own range."""
        if self.output_format == "svg" and "svg" in info.all_formats:
            return ("auto", *svg_rules()["qualities"])
        return info.qualities

    def option_kwargs(self) -> dict[str, Any]:
        """The options as SDK keyword arguments, leaving out what the API would default anyway."""
        kw: dict[str, Any] = {"model": self.model, "n": self.n, "size": self.size, "quality": self.quality,
                              "output_format": self.output_format}
        if self.background != "auto":
            kw["background"] = self.background
        if self.compressible and self.output_compression != 100:
            kw["output_compression"] = self.output_compression
        if self.moderation != "auto":
            kw["moderation"] = self.moderation
        if self.complexity:
            kw["complexity"] = self.complexity
        if self.output_format == "gif":
            if self.frame_count is not None:
                kw["frame_count"] = self.frame_count
            if self.frame_duration_ms is not None:
                kw["frame_duration_ms"] = gif_frame_ms(self.frame_duration_ms)
        if self.output_format == "svg" and self.svg_model:
            kw["svg"] = {"model": self.svg_model}  # omitted unless the account has SVG model selection
            if self.svg_effort:
                kw["svg"]["reasoning"] = {"effort": self.svg_effort}
        if self.stream:
            kw["stream"] = True
            kw["partial_images"] = self.partial_images
        return kw


GIF_MIN_FRAME_MS = 20
GIF_MAX_FRAME_MS = 655_350  # the API caps the encoded delay here


def gif_frame_ms(ms: int) -> int:
    """A frame duration as the API keeps it: rounded to the nearest 10 ms (half up), within its limits."""
    return max(GIF_MIN_FRAME_MS, min(GIF_MAX_FRAME_MS, (int(ms) + 5) // 10 * 10))


def prompt_problems(prompt: str) -> list[Problem]:
    limit = catalog().limits["prompt_chars"]
    if not prompt.strip():
        return [Problem("prompt", "Write a prompt: it is empty.")]
    if len(prompt) > limit:
        return [Problem("prompt", f"The prompt is {len(prompt):,} characters long; shorten it to {limit:,} or fewer.")]
    return []


@dataclass(frozen=True)
class GenerateSpec(OutputOptions):
    """Text to image: ``images.generate``."""

    prompt: str = ""

    page = "generate"

    def problems(self) -> list[Problem]:
        return prompt_problems(self.prompt) + self.option_problems()

    def to_sdk_kwargs(self) -> dict[str, Any]:
        return {"prompt": self.prompt, **self.option_kwargs()}

    def to_record(self) -> dict[str, Any]:
        """Everything needed to run this again, as plain JSON-able data."""
        return asdict(self)


def reads_high_fidelity(info: ModelInfo | None, input_fidelity: str | None) -> bool:
    """gpt-image-1.5 on request; the 2.x models always read inputs at high fidelity."""
    if input_fidelity == "high":
        return True
    return info is not None and not info.input_fidelity and info.token_table == "gpt-image-2"


@dataclass(frozen=True)
class InputImage:
    """An input image, already normalised, saved by its content hash."""

    data: bytes = field(repr=False)
    filename: str
    mime: str
    width: int
    height: int
    hash: str

    def file(self) -> tuple[str, bytes, str]:
        # (name, bytes, MIME): a bare buffer would upload as application/octet-stream, which the API refuses
        return (self.filename, self.data, self.mime)

    def to_record(self) -> dict[str, Any]:
        return {"hash": self.hash, "filename": self.filename, "width": self.width, "height": self.height}

    def to_json(self) -> dict[str, Any]:
        return {**self.to_record(), "mime": self.mime, "data": bytes_to_json(self.data)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InputImage:
        return cls(bytes_from_json(data["data"]), str(data["filename"]), str(data["mime"]), int(data["width"]),
                   int(data["height"]), str(data["hash"]))


@dataclass(frozen=True)
class MaskInput:
    """A mask (transparent = edit) or markup drawing, a PNG of the first image's size."""

    data: bytes = field(repr=False)
    width: int
    height: int
    hash: str
    edit_fraction: float = 1.0

    def file(self, name: str) -> tuple[str, bytes, str]:
        return (f"{name}.png", self.data, "image/png")

    def to_record(self) -> dict[str, Any]:
        return {"hash": self.hash, "width": self.width, "height": self.height,
                "edit_fraction": round(self.edit_fraction, 4)}

    def to_json(self) -> dict[str, Any]:
        return {**self.to_record(), "edit_fraction": self.edit_fraction, "data": bytes_to_json(self.data)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MaskInput:
        return cls(bytes_from_json(data["data"]), int(data["width"]), int(data["height"]), str(data["hash"]),
                   float(data["edit_fraction"]))


class _TakesInputImages:
    """What edits and conversation turns share: input images, read at some fidelity."""

    images: tuple[InputImage, ...]
    input_fidelity: str | None
    info: ModelInfo | None

    def input_sizes(self) -> list[tuple[int, int]]:
        return [(img.width, img.height) for img in self.images]

    def inputs(self) -> list[tuple[bytes, str]]:
        """The pictures sent with the request (bytes, MIME), for the check before spending."""
        return [(img.data, img.mime) for img in self.images]

    @property
    def reads_high_fidelity(self) -> bool:
        return reads_high_fidelity(self.info, self.input_fidelity)


@dataclass(frozen=True)
class EditSpec(_TakesInputImages, OutputOptions):
    """Images (and a mask or markup) to a new image: ``images.edit``."""

    prompt: str = ""
    images: tuple[InputImage, ...] = ()
    mask: MaskInput | None = None
    markup: MaskInput | None = None
    input_fidelity: str | None = None

    @property
    def page(self) -> str:
        return "mask_edit" if self.mask is not None or self.markup is not None else "reference_edit"

    def problems(self) -> list[Problem]:
        out = prompt_problems(self.prompt) + self.option_problems()
        info = self.info
        if info is None or info.retired:
            return out
        limit = min(catalog().limits["max_input_images"], info.max_input_images)
        if not self.images:
            out.append(Problem("image", "Add at least one image to edit."))
        elif len(self.images) > limit:
            out.append(Problem("image",
                               f"{info.name} takes at most {limit} images; remove {len(self.images) - limit}."))
        if self.mask is not None and self.markup is not None:
            out.append(Problem("markup", "A mask and a markup drawing cannot be sent together; clear one of them."))
        if self.markup is not None and not info.markup:
            out.append(Problem("markup",
                               f"{info.name} does not take markup drawings; choose a 2.5 model or paint a mask."))
        overlay = self.mask or self.markup
        if overlay is not None and self.images:
            first = self.images[0]
            what = "mask" if self.mask is not None else "markup drawing"
            if (overlay.width, overlay.height) != (first.width, first.height):
                out.append(Problem("mask", f"The {what} is {overlay.width}x{overlay.height} but the first image is "
                                           f"{first.width}x{first.height}; redraw it on this image."))
            elif self.mask is not None and overlay.edit_fraction <= 0:
                out.append(Problem("mask", "Paint over the part to change: the mask has no transparent area."))
        if overlay is not None and self.output_format in ("gif", "svg"):
            out.append(Problem("output_format", f"{self.output_format.upper()} output cannot be combined with a mask "
                                                "or markup; choose PNG, JPEG or WebP."))
        if self.input_fidelity is not None and self.input_fidelity not in info.input_fidelity:
            if not info.input_fidelity:
                out.append(Problem("input_fidelity", f"{info.name} does not take an input fidelity; leave it unset."))
            else:
                out.append(Problem("input_fidelity", f"{info.name} takes input fidelity "
                                                     f"{_choices(info.input_fidelity)} only."))
        return out

    def to_sdk_kwargs(self) -> dict[str, Any]:
        files = [img.file() for img in self.images]
        kw: dict[str, Any] = {"prompt": self.prompt, "image": files[0] if len(files) == 1 else files,
                              **self.option_kwargs()}
        if self.mask is not None:
            kw["mask"] = self.mask.file("mask")
        if self.markup is not None:
            kw["markup"] = self.markup.file("markup")
        if self.input_fidelity is not None:
            kw["input_fidelity"] = self.input_fidelity
        return kw

    def to_record(self) -> dict[str, Any]:
        """The settings and the inputs by hash (their bytes live in the store), JSON-able."""
        rec = {f.name: getattr(self, f.name) for f in fields(OutputOptions)}
        rec.update(prompt=self.prompt, input_fidelity=self.input_fidelity,
                   images=[img.to_record() for img in self.images],
                   mask=self.mask.to_record() if self.mask else None,
                   markup=self.markup.to_record() if self.markup else None)
        return rec


ACTIONS = ("auto", "generate", "edit")
# background_options.completion_window (openai 3.63.0): "soonest" is the default; the others can wait and
# are discounted background execution, without streaming, on standard processing
COMPLETION_WINDOWS = ("soonest", "2h", "8h")
WAITING_WINDOWS = ("2h", "8h")


@dataclass(frozen=True)
class TurnSpec(_TakesInputImages, OutputOptions):
    """One turn of a conversation: ``responses.create`` with the ``image_generation`` tool.

    ``model`` (from OutputOptions) is the tool's image model; ``mainline`` is the model that talks.
    """

    mainline: str = field(default_factory=lambda: catalog().default_responses_model)
    prompt: str = ""
    images: tuple[InputImage, ...] = ()
    mask: MaskInput | None = None
    previous_response_id: str | None = None
    image_call_id: str | None = None  # an earlier image_generation_call to build on
    action: str = "auto"
    input_fidelity: str | None = None
    attach_as: str = "data_url"  # or "file": uploaded through the Files API, sent by file_id
    completion_window: str = "soonest"  # "2h" or "8h": a turn that can wait, sent for discounted background execution

    page = "conversation"

    @property
    def waits(self) -> bool:
        """Sent with a 2h or 8h completion window: answered later, polled rather than streamed."""
        return self.completion_window in WAITING_WINDOWS

    @property
    def stream(self) -> bool:
        """A turn that can wait is never streamed (the API refuses it), so it sends no partial images."""
        return not self.waits and super().stream

    def problems(self) -> list[Problem]:
        out = prompt_problems(self.prompt) + self.option_problems()
        info = self.info
        if not self.mainline.strip():
            out.append(Problem("mainline", "Choose the model that runs the conversation."))
        if self.n != 1:
            out.append(Problem("n", "A conversation turn makes one image; set the number of images to 1."))
        if self.action not in ACTIONS:
            out.append(Problem("action", f"The action must be {_choices(ACTIONS)}."))
        if len(self.images) > catalog().limits["max_input_images"]:
            out.append(Problem("image", f"Attach at most {catalog().limits['max_input_images']} images."))
        if self.mask is not None:
            if not self.images:
                out.append(Problem("mask", "A mask needs an attached image to apply to; attach one or clear the mask."))
            elif (self.mask.width, self.mask.height) != (self.images[0].width, self.images[0].height):
                out.append(Problem("mask", "The mask must be the size of the first attached image; redraw it."))
            if self.output_format == "gif":
                out.append(Problem("mask", "GIF output cannot use a mask; choose PNG, JPEG or WebP."))
        if info is not None and not info.retired and self.input_fidelity is not None \
                and self.input_fidelity not in info.input_fidelity:
            out.append(Problem("input_fidelity", f"{info.name} does not take input fidelity "
                                                 f"'{self.input_fidelity}'; leave it unset."))
        if self.attach_as not in ("data_url", "file"):
            out.append(Problem("attach_as", "Attach images as data URLs or as uploaded files."))
        if self.completion_window not in COMPLETION_WINDOWS:
            out.append(Problem("completion_window", f"The completion window must be {_choices(COMPLETION_WINDOWS)}."))
        elif self.waits and self.partial_images:
            out.append(Problem("partial_images", f"A turn that can wait ({self.completion_window}) is not streamed, "
                                                 "so it sends no partial images; set partial images to 0, or send "
                                                 "it as soon as possible."))
        return out

    def tool(self, mask_ref: dict[str, str] | None = None) -> dict[str, Any]:
        """The ``image_generation`` tool entry."""
        opts = self.option_kwargs()
        opts.pop("n", None)
        opts.pop("stream", None)
        tool: dict[str, Any] = {"type": "image_generation", **opts, "action": self.action}
        if self.input_fidelity is not None:
            tool["input_fidelity"] = self.input_fidelity
        if mask_ref is not None:
            tool["input_image_mask"] = mask_ref
        return tool

    def to_sdk_kwargs(self, file_ids: dict[str, str] | None = None) -> dict[str, Any]:
        """Keyword arguments for ``responses.create``; ``file_ids`` maps image hashes to uploaded files."""
        import base64

        def image_part(img: InputImage) -> dict[str, Any]:
            if self.attach_as == "file" and file_ids and img.hash in file_ids:
                return {"type": "input_image", "file_id": file_ids[img.hash]}
            return {"type": "input_image",
                    "image_url": f"data:{img.mime};base64,{base64.b64encode(img.data).decode('ascii')}"}

        content: list[dict[str, Any]] = [{"type": "input_text", "text": self.prompt}]
        content += [image_part(img) for img in self.images]
        items: list[dict[str, Any]] = [{"role": "user", "content": content}]
        if self.image_call_id:
            items.append({"type": "image_generation_call", "id": self.image_call_id})
        mask_ref = None
        if self.mask is not None:
            if self.attach_as == "file" and file_ids and self.mask.hash in file_ids:
                mask_ref = {"file_id": file_ids[self.mask.hash]}
            else:
                mask_ref = {"image_url": "data:image/png;base64," + base64.b64encode(self.mask.data).decode("ascii")}
        kw: dict[str, Any] = {"model": self.mainline, "input": items, "tools": [self.tool(mask_ref)]}
        if self.previous_response_id:
            kw["previous_response_id"] = self.previous_response_id
        if self.stream:
            kw["stream"] = True
        if self.waits:
            # the discounted windows need background mode (the client adds it) and standard processing
            kw["background_options"] = {"completion_window": self.completion_window}
            kw["service_tier"] = "default"
        return kw

    def to_record(self) -> dict[str, Any]:
        rec = {f.name: getattr(self, f.name) for f in fields(OutputOptions)}
        rec.update(mainline=self.mainline, prompt=self.prompt, previous_response_id=self.previous_response_id,
                   image_call_id=self.image_call_id, action=self.action, input_fidelity=self.input_fidelity,
                   attach_as=self.attach_as, completion_window=self.completion_window,
                   images=[img.to_record() for img in self.images],
                   mask=self.mask.to_record() if self.mask else None)
        return rec
