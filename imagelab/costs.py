"""Token and dollar figures: what a spec would cost before it is sent, and what a run did cost.

``estimate(spec)`` reads the catalog's token tables; where the table has no exact figure for
the model, quality and size, the estimate says it is approximate. ``actual(usage, model)``
prices the ``usage`` object the API returned, which is the truth.

Money is told as it is: a run on the offline backend was paid for by nobody, so it is $0 spent;
the price of its usage is only what it *would* cost on OpenAI. ``spent(record)`` is the one
figure of real money (what budgets count); ``money_text`` says a run's or an image's cost in
those words; an image's share is its run's cost divided by the images the run saved.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .catalog import catalog, model_info, parse_size, shape_of

__all__ = ["Estimate", "Cost", "Money", "estimate", "actual", "text_tokens", "output_tokens_per_image",
           "input_image_tokens", "usage_to_dict", "format_dollars", "batch_price", "window_price", "spent", "money_of",
           "image_money", "money_text", "total_money", "estimated_tokens", "text_price", "actual_words"]


@dataclass(frozen=True)
class Estimate:
    text_tokens: int
    image_input_tokens: int
    output_tokens: int
    dollars: float
    approximate: bool
    notes: tuple[str, ...] = ()

    @property
    def input_tokens(self) -> int:
        return self.text_tokens + self.image_input_tokens

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Cost:
    """What a finished run used, from the response's ``usage``."""

    text_tokens: int
    image_input_tokens: int
    output_tokens: int
    dollars: float

    @property
    def input_tokens(self) -> int:
        return self.text_tokens + self.image_input_tokens

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.text_tokens + other.text_tokens, self.image_input_tokens + other.image_input_tokens,
                    self.output_tokens + other.output_tokens, self.dollars + other.dollars)


def estimated_tokens(saved: dict[str, Any] | None) -> int:
    """The total tokens of an estimate as a run keeps it (the ``Estimate``'s fields, without its properties)."""
    saved = saved or {}
    if "total_tokens" in saved:
        return int(saved["total_tokens"] or 0)
    return sum(int(saved.get(name) or 0) for name in ("text_tokens", "image_input_tokens", "output_tokens"))


def format_dollars(amount: float) -> str:
    if amount == 0:
        return "$0.00"
    if amount < 0.01:
        return f"${amount:.4f}"
    return f"${amount:,.3f}" if amount < 1 else f"${amount:,.2f}"


def text_tokens(prompt: str) -> int:
    """About four characters a token, as OpenAI's tokenizer averages for English."""
    return math.ceil(len(prompt) / 4) if prompt else 0


def output_tokens_per_image(model: str, quality: str, size: str) -> tuple[int, bool]:
    """Output image tokens for one image and whether the figure is exact."""
    cat = catalog()
    table = cat.output_table(model) if model in cat.models else None
    if not table:
        return 0, False
    exact = True
    if quality not in table["shapes"]:
        quality = cat.raw["auto_quality_estimated_as"]
        exact = False
    dims = parse_size(size)
    if dims is None:  # "auto": the model chooses; square is the usual pick
        dims, exact = (1024, 1024), False
    w, h = dims
    shape = shape_of(w, h)
    tokens = table["shapes"][quality][shape]
    exact = exact and shape in table["exact"].get(quality, [])
    standard = {(1024, 1024), (1536, 1024), (1024, 1536)}
    if (w, h) not in standard:
        base_area = 1024 * 1024 if shape == "square" else 1536 * 1024
        tokens = round(tokens * (w * h) / base_area)
        exact = False
    info = model_info(model)
    if info is not None and not info.tokens_exact:
        exact = False
    return tokens, exact


def input_image_tokens(width: int, height: int, high_fidelity: bool = False) -> int:
    """Tokens for one input image: shortest side scaled to 512 px, then 512 px tiles."""
    rules = catalog().input_tokens
    scale = rules["tile"] / min(width, height)
    w, h = width * scale, height * scale
    tiles = math.ceil(w / rules["tile"]) * math.ceil(h / rules["tile"])
    tokens: int = rules["base"] + rules["per_tile"] * tiles
    if high_fidelity:
        tokens += rules["high_fidelity_extra"][shape_of(width, height)]
    return tokens


def _price(model: str, text: int, image_in: int, out: int) -> float | None:
    if model not in catalog().models:
        return None
    prices = catalog().prices(model)
    if not prices:
        return None
    dollars: float = (text * prices["text_in"] + image_in * prices["image_in"] + out * prices["image_out"]) / 1_000_000
    return dollars


def estimate(spec: Any, input_sizes: list[tuple[int, int]] | None = None, high_fidelity: bool = False) -> Estimate:
    """What ``spec`` would use and cost. ``input_sizes`` are the (w, h) of any input images."""
    notes: list[str] = []
    t = text_tokens(getattr(spec, "prompt", ""))
    per_image, exact = output_tokens_per_image(spec.model, spec.quality, spec.size)
    partials = spec.partial_images if spec.stream else 0
    out = (per_image + partials * catalog().limits["partial_image_tokens"]) * max(spec.n, 0)
    if input_sizes is None and hasattr(spec, "input_sizes"):
        input_sizes = spec.input_sizes()
        high_fidelity = high_fidelity or spec.reads_high_fidelity
    img_in = sum(input_image_tokens(w, h, high_fidelity) for w, h in (input_sizes or []))
    if input_sizes:
        exact = False
        notes.append("input image tokens follow the gpt-image-1 vision formula")
    if not exact:
        notes.append("no exact token figure is published for this model, quality and size")
    dollars = _price(spec.model, t, img_in, out)
    if dollars is None:
        notes.append("no price is known for this model")
        dollars, exact = 0.0, False
    elif getattr(spec, "waits", False):
        factor, said = window_price(spec.completion_window)
        dollars *= factor
        if said:  # the real price is likely lower: the figure is an upper bound, so approximate
            notes.append(said)
            exact = False
    return Estimate(t, img_in, out, dollars, approximate=not exact, notes=tuple(notes))


def window_price(window: str) -> tuple[float, str | None]:
    """The price factor of a background ``completion_window`` ("2h", "8h"), and a note when its discount is
    not published (the estimate then shows the standard price)."""
    factor = catalog().raw["completion_windows"]["discount"].get(window)
    if factor is None:
        return 1.0, (f"the {window} window is discounted background execution, but the discount is not "
                     "published; the estimate shows the standard price")
    return float(factor), None


def batch_price(dollars: float) -> tuple[float, bool]:
    """What ``dollars`` of synchronous requests cost through the Batch API, and whether that is approximate."""
    rules = catalog().raw["batch"]
    return dollars * float(rules["discount"]), bool(rules["approximate"])


def usage_to_dict(usage: Any) -> dict[str, Any] | None:
    """The response's ``usage`` (SDK object or dict) as a plain dict."""
    if usage is None:
        return None
    if hasattr(usage, "model_dump"):
        dumped: dict[str, Any] = usage.model_dump()
        return dumped
    return dict(usage)


def text_price(model: str) -> tuple[float, float, str | None]:
    """(input, output) dollars per 1M tokens of a text model, from the catalog's published prices; a dated
    snapshot is priced as its model. A model with no published price gets the catalog's dearest mainline
    figure, and the note that says so (None when the price is published)."""
    table = catalog().raw["text_prices"]
    name = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", model)
    if name in table:
        price_in, price_out = table[name]
        return float(price_in), float(price_out), None
    price_in, price_out = table["_unpublished"]
    return float(price_in), float(price_out), (f"no price is published for {model}; estimated at "
                                               f"${price_in:g} / ${price_out:g} per 1M tokens in / out")


def actual_words(usage: Any, model: str) -> Cost:
    """Price the ``usage`` of a text model's answer (a description, a rewritten prompt): pictures sent to it
    count as input tokens, at the model's published price (``text_price``)."""
    u = usage_to_dict(usage) or {}
    details = u.get("input_tokens_details") or {}
    input_tokens = int(u.get("input_tokens") or 0)
    image_in = int(details.get("image_tokens") or 0)
    out = int(u.get("output_tokens") or 0)
    price_in, price_out, _ = text_price(model)
    return Cost(max(input_tokens - image_in, 0), image_in, out, (input_tokens * price_in + out * price_out) / 1_000_000)


def actual(usage: Any, model: str) -> Cost:
    """Price the ``usage`` the API returned."""
    u = usage_to_dict(usage) or {}
    details = u.get("input_tokens_details") or {}
    input_tokens = int(u.get("input_tokens") or 0)
    image_in = int(details.get("image_tokens") or 0)
    text = int(details.get("text_tokens") or max(input_tokens - image_in, 0))
    out = int(u.get("output_tokens") or 0)
    dollars = _price(model, text, image_in, out) or 0.0
    return Cost(text, image_in, out, dollars)


# --- money as it is told -------------------------------------------------------------------------

@dataclass(frozen=True)
class Money:
    """What something cost: ``spent`` was paid; ``would_cost`` is what unpaid (offline) usage would
    cost on OpenAI. ``priced`` is False when no usage was reported, so nothing is known."""

    spent: float = 0.0
    would_cost: float = 0.0
    priced: bool = True

    def __add__(self, other: Money) -> Money:
        return Money(self.spent + other.spent, self.would_cost + other.would_cost, self.priced or other.priced)


def spent(record: Any) -> float:
    """Real money a run (a ``RunRecord``, ``TurnRecord`` or anything with ``actual_dollars`` and
    ``billed``) cost: its priced usage when it was billed, 0 for the offline backend's runs."""
    dollars = getattr(record, "actual_dollars", None)
    return float(dollars or 0.0) if getattr(record, "billed", True) else 0.0


def money_of(record: Any) -> Money:
    """A run's cost split into what was paid and what it would have cost."""
    dollars = getattr(record, "actual_dollars", None)
    if dollars is None:
        return Money(priced=False)
    if getattr(record, "billed", True):
        return Money(spent=float(dollars))
    return Money(would_cost=float(dollars))


def image_money(record: Any) -> Money:
    """One image's share: its run's cost divided by the images that run saved (an ``ImageRecord``)."""
    whole = money_of(record)
    count = max(int(getattr(record, "run_images", 1) or 1), 1)
    return Money(whole.spent / count, whole.would_cost / count, whole.priced)


def total_money(records: Any) -> Money:
    """The sum over runs: paid and would-have-cost kept apart."""
    total = Money(priced=False)
    for record in records:
        total = total + money_of(record)
    return total


def money_text(money: Money, *, offline_word: str = "spent") -> str:
    """``$0.211`` for paid usage; ``$0 spent · would cost ≈ $0.211 on OpenAI`` for the offline backend's."""
    if not money.priced:
        return "no usage reported"
    if money.would_cost and not money.spent:
        return f"$0 {offline_word} · would cost ≈ {format_dollars(money.would_cost)} on OpenAI"
    if money.would_cost:
        return (f"{format_dollars(money.spent)} {offline_word} · offline runs would cost ≈ "
                f"{format_dollars(money.would_cost)} more on OpenAI")
    return format_dollars(money.spent)
