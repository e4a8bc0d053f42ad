"""Words about pictures: "Describe this picture", "Improve my prompt", and the word-level diff between two prompts.

``PromptRequest`` is the spec of a request for words, not pictures: ``responses.create`` to a
text (and vision) model with instructions, the person's text and, to describe, one input image,
and no tools. It runs on the run engine like every other request (``text_only``: the run is
``ok`` when words came back; they are kept in the run's ``reply``). ``word_diff`` compares the
original prompt with a rewrite word by word (``difflib``), so a page can mark what was inserted
and what was deleted before anyone accepts it; nothing is ever rewritten silently.
"""

from __future__ import annotations

import base64
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .catalog import catalog
from .costs import Estimate, input_image_tokens, text_price, text_tokens
from .specs import InputImage, Problem, prompt_problems

__all__ = ["DESCRIBE", "REWRITE", "KINDS", "DESCRIBE_INSTRUCTIONS", "REWRITE_INSTRUCTIONS", "PromptRequest",
           "DiffPart", "word_diff", "estimate_words"]

DESCRIBE = "describe"
REWRITE = "rewrite"
KINDS = (DESCRIBE, REWRITE)

DESCRIBE_INSTRUCTIONS = (
    "You write prompts for an image generation model. Look at the attached picture and write one prompt that "
    "would make the model recreate it as closely as possible: the subject, composition and framing, colours, "
    "lighting, style or medium, any text it shows (quoted exactly) and its aspect ratio. Answer with the prompt "
    "only, in plain sentences, no heading, no list, no quotes around it.")
REWRITE_INSTRUCTIONS = (
    "You improve prompts for an image generation model. Rewrite the user's prompt so the model understands it "
    "better: keep every subject, word of quoted text and constraint it gives; make the subject, composition, "
    "lighting, style and colours specific where it is vague; fix spelling. Do not add new subjects. Answer with "
    "the improved prompt only, no explanation.")
DESCRIBE_REQUEST = "Write a prompt that would recreate this picture."


@dataclass(frozen=True)
class PromptRequest:
    """Ask a text model for a prompt: describe ``image``, or rewrite ``prompt``."""

    kind: str = REWRITE
    prompt: str = ""
    image: InputImage | None = None
    model: str = field(default_factory=lambda: catalog().default_responses_model)

    text_only: ClassVar[bool] = True  # the run engine: words are the result, no image is expected
    n: ClassVar[int] = 1

    @property
    def page(self) -> str:
        return self.kind

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        if self.kind not in KINDS:
            out.append(Problem("kind", "Choose to describe a picture or to improve a prompt."))
        if not self.model.strip():
            out.append(Problem("model", "Choose the model that writes the prompt."))
        if self.kind == DESCRIBE and self.image is None:
            out.append(Problem("image", "Choose a picture to describe: upload one or pick one from the history."))
        if self.kind == REWRITE:
            out += [Problem(p.param, p.message.replace("Write a prompt", "Write a prompt to improve"))
                    for p in prompt_problems(self.prompt)]
        return out

    def to_sdk_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``responses.create``: instructions, the text (and image), no tools, not stored."""
        if self.kind == DESCRIBE:
            content: list[dict[str, Any]] = [{"type": "input_text", "text": self.prompt.strip() or DESCRIBE_REQUEST}]
            if self.image is not None:
                data = base64.b64encode(self.image.data).decode("ascii")
                content.append({"type": "input_image", "detail": "auto",
                                "image_url": f"data:{self.image.mime};base64,{data}"})
            instructions = DESCRIBE_INSTRUCTIONS
        else:
            content = [{"type": "input_text", "text": self.prompt}]
            instructions = REWRITE_INSTRUCTIONS
        return {"model": self.model, "instructions": instructions, "store": False,
                "input": [{"role": "user", "content": content}]}

    def estimate(self) -> Estimate:
        return estimate_words(self)

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.model, "prompt": self.prompt,
                "image": self.image.to_record() if self.image is not None else None}

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.model, "prompt": self.prompt,
                "image": self.image.to_json() if self.image is not None else None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptRequest:
        image = data.get("image")
        return cls(str(data["kind"]), str(data["prompt"]), InputImage.from_json(image) if image else None,
                   str(data["model"]))

    def inputs(self) -> list[tuple[bytes, str]]:
        return [(self.image.data, self.image.mime)] if self.image is not None else []


def estimate_words(request: PromptRequest) -> Estimate:
    """Tokens in (instructions, text, picture) and the words out, priced from the text model's published price
    (a picture counts as input tokens)."""
    instructions = DESCRIBE_INSTRUCTIONS if request.kind == DESCRIBE else REWRITE_INSTRUCTIONS
    text = text_tokens(instructions + " " + (request.prompt or DESCRIBE_REQUEST))
    image = input_image_tokens(request.image.width, request.image.height) if request.image is not None else 0
    out = max(60, text_tokens(request.prompt) * 2) if request.kind == REWRITE else 120
    price_in, price_out, unpublished = text_price(request.model)
    dollars = ((text + image) * price_in + out * price_out) / 1_000_000
    notes = ("the words that come back are estimated", *((unpublished,) if unpublished else ()))
    return Estimate(text, image, out, dollars, approximate=True, notes=notes)


@dataclass(frozen=True)
class DiffPart:
    """A run of words that both prompts share (``equal``), or that only the original (``delete``) or the
    rewrite (``insert``) has."""

    op: str
    text: str


_TOKEN = re.compile(r"\S+")


def word_diff(original: str, rewrite: str) -> list[DiffPart]:
    """The rewrite against the original, word by word; a replaced run is its deletion, then its insertion.

    Words are compared as written (case and punctuation count), so a fixed spelling shows as changed.
    """
    a, b = _TOKEN.findall(original), _TOKEN.findall(rewrite)
    parts: list[DiffPart] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(DiffPart("equal", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("delete", " ".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("insert", " ".join(b[j1:j2])))
    return parts
