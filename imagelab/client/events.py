"""What a run yields: partial previews, finished images, usage, failures, a turn's reply and how far a
background response has been read.

A run is a stream of these events whatever the backend (OpenAI, the offline backend or any
compatible base URL). Whatever arrived before a failure has already been yielded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import RequestFailed

__all__ = ["PartialImage", "FinalImage", "UsageReport", "Failed", "TurnReply", "ResponseProgress", "Event"]


@dataclass(frozen=True)
class PartialImage:
    """A preview of image ``image_index`` while it is being made; checked to be a picture."""

    image_index: int
    partial_index: int
    data: bytes
    output_format: str


@dataclass(frozen=True)
class FinalImage:
    """A finished image, checked to be a picture of the format named."""

    image_index: int
    data: bytes
    output_format: str
    width: int | None
    height: int | None
    revised_prompt: str | None = None


@dataclass(frozen=True)
class UsageReport:
    """The tokens the API said the run used (None when it said nothing), its request id and duration."""

    usage: dict[str, Any] | None
    request_id: str | None
    seconds: float


@dataclass(frozen=True)
class Failed:
    """Something went wrong; ``image_index`` says which image when only one of several failed."""

    error: RequestFailed
    image_index: int | None = None


@dataclass(frozen=True)
class TurnReply:
    """What a conversation turn answered besides its image: ids to continue from, and its words."""

    response_id: str | None
    text: str
    image_call_id: str | None
    revised_prompt: str | None


@dataclass(frozen=True)
class ResponseProgress:
    """How far a background response has been read: its id and the sequence number of the last event seen.

    Keep the latest one to ``resume`` the response from there after a restart.
    """

    response_id: str
    sequence_number: int


Event = PartialImage | FinalImage | UsageReport | Failed | TurnReply | ResponseProgress
