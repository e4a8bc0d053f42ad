"""The frozen records the store hands out, and the functions that read them from rows (mappings) by column name.

A run's ``status`` moves ``queued → running → ok | partial | failed | cancelled | interrupted``
(``RUN_STATUSES``); ``ACTIVE_STATUSES`` are the ones a worker may still change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import RowMapping

from .blobs import EXTENSIONS

__all__ = ["RunRecord", "ImageRecord", "ConversationRecord", "TurnRecord", "RUN_STATUSES", "ACTIVE_STATUSES",
           "run_record", "image_record", "turn_record", "conversation_record", "loads"]

RUN_STATUSES = ("queued", "running", "ok", "partial", "failed", "cancelled", "interrupted")
ACTIVE_STATUSES = ("queued", "running")


@dataclass(frozen=True)
class ImageRecord:
    id: int
    run_id: int
    index: int
    hash: str
    format: str
    width: int | None
    height: int | None
    bytes: int
    created_at: float
    prompt: str = ""
    model: str = ""
    page: str = ""
    revised_prompt: str | None = None
    starred: bool = False
    actual_dollars: float | None = None  # the whole run's (``imagelab.costs.image_money`` gives this image's share)
    variant: str | None = None               # "raw" (the model's output as sent) or "kept" (keep-exact composite)
    drift: dict[str, Any] | None = None      # how far the raw output moved outside the mask
    billed: bool = True                  # False: made by the offline backend, nothing was paid
    run_images: int = 1                  # how many pictures its run made (raw copies beside a composite not counted)
    owner: str | None = None             # who made it (the identity provider's subject); None without login
    owner_email: str | None = None

    @property
    def filename(self) -> str:
        return f"imagelab-{self.hash[:12]}.{EXTENSIONS.get(self.format, self.format)}"


@dataclass(frozen=True)
class RunRecord:
    id: int
    page: str
    model: str
    prompt: str
    params: dict[str, Any]
    status: str
    request_id: str | None
    error: str | None
    estimate: dict[str, Any] | None
    usage: dict[str, Any] | None
    est_dollars: float | None
    actual_dollars: float | None
    started_at: float
    finished_at: float | None
    backend: str | None = None
    requested: int | None = None
    group_id: str | None = None
    label: str | None = None
    response_id: str | None = None
    sequence: int | None = None
    billed: bool = True                  # False: sent to the offline backend, nothing was paid
    reply: str | None = None  # the words a text-only run brought back (a description, a rewrite)
    owner: str | None = None             # who asked (the identity provider's subject); None without login
    owner_email: str | None = None
    api_message: str | None = None  # a failed run: the server's own message (scrubbed), beneath ``error``
    api_status: int | None = None   # its HTTP status
    api_code: str | None = None     # the API's error code

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class ConversationRecord:
    id: int
    title: str
    created_at: float
    updated_at: float
    turns: int = 0


@dataclass(frozen=True)
class TurnRecord:
    id: int
    conversation_id: int
    parent_id: int | None
    run_id: int | None
    prompt: str
    attachments: list[str]
    mask_hash: str | None
    response_id: str | None
    image_call_id: str | None
    image_hash: str | None
    image_format: str | None
    revised_prompt: str | None
    reply: str | None
    status: str
    error: str | None
    note: str | None
    created_at: float
    usage: dict[str, Any] | None = None
    actual_dollars: float | None = None
    est_dollars: float | None = None
    request_id: str | None = None
    billed: bool = True


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


# Columns stored as JSON text, read back as Python values.
_JSON = {"params", "estimate", "usage", "attachments", "drift"}
_RENAMED = {"idx": "index"}


def _fields_of(cls: type, row: RowMapping) -> dict[str, Any]:
    """The row's columns that ``cls`` has a field for, JSON decoded and renamed where needed."""
    names = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    for column in row:
        name = _RENAMED.get(column, column)
        if name in names:
            values[name] = loads(row[column]) if column in _JSON else row[column]
    return values


def run_record(row: RowMapping) -> RunRecord:
    values = _fields_of(RunRecord, row)
    values["params"] = values.get("params") or {}
    values["billed"] = bool(values.get("billed", True))
    return RunRecord(**values)


def image_record(row: RowMapping) -> ImageRecord:
    values = _fields_of(ImageRecord, row)
    values["starred"] = bool(values.get("starred"))
    values["billed"] = bool(values.get("billed", True))
    return ImageRecord(**values)


def turn_record(row: RowMapping) -> TurnRecord:
    values = _fields_of(TurnRecord, row)
    values["attachments"] = values.get("attachments") or []
    values["billed"] = bool(values.get("billed", True))
    return TurnRecord(**values)


def conversation_record(row: RowMapping) -> ConversationRecord:
    return ConversationRecord(**_fields_of(ConversationRecord, row))
