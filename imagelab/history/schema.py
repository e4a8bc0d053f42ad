"""The history's tables as they are now (the head of ``migrations/``), for the repositories' queries.

This is the schema the queries are written against; the revisions in ``migrations/versions`` are what
builds it in a database, step by step, and each keeps its own copy of what it changes (a revision
never imports this module, since this module moves on). A test checks that a database migrated to
the head has exactly these tables, columns and indexes, on SQLite and on PostgreSQL.

Times are seconds since the epoch (floats); JSON values are text; flags are integers 0/1.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, MetaData, Table, Text, text

__all__ = ["metadata", "runs", "images", "image_parents", "inputs", "conversations", "turns", "batches",
           "budget_limits", "settings", "prompt_library", "copied_rows"]

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("page", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("prompt", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("request_id", Text),
    Column("error", Text),
    Column("estimate", Text),
    Column("usage", Text),
    Column("est_dollars", Float),
    Column("actual_dollars", Float),
    Column("backend", Text),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("requested", Integer),
    Column("group_id", Text),
    Column("label", Text),
    Column("response_id", Text),
    Column("sequence", Integer),
    Column("billed", Integer, nullable=False, server_default=text("1")),
    Column("reply", Text),
    Column("api_message", Text),   # what the server said when the run failed, scrubbed
    Column("api_status", Integer),
    Column("api_code", Text),
    Index("runs_status", "status"),
    Index("runs_page", "page", "id"),
    Index("runs_group", "group_id"),
)

images = Table(
    "images", metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("hash", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("bytes", Integer, nullable=False),
    Column("revised_prompt", Text),
    Column("starred", Integer, nullable=False, server_default=text("0")),
    Column("created_at", Float, nullable=False),
    Column("variant", Text),
    Column("drift", Text),
)
# The Gallery's newest-first pages walk this index.
Index("images_created", images.c.created_at.desc())
Index("images_hash", images.c.hash)
Index("images_run", images.c.run_id)

image_parents = Table(
    "image_parents", metadata,
    Column("image_id", Integer, ForeignKey("images.id"), nullable=False),
    Column("parent_hash", Text, nullable=False),
    Column("role", Text, nullable=False, server_default="input"),
)

inputs = Table(
    "inputs", metadata,
    Column("hash", Text, primary_key=True),
    Column("format", Text, nullable=False),
    Column("width", Integer),
    Column("height", Integer),
    Column("filename", Text),
    Column("bytes", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

conversations = Table(
    "conversations", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

turns = Table(
    "turns", metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", Integer, ForeignKey("conversations.id"), nullable=False),
    Column("parent_id", Integer, ForeignKey("turns.id")),
    Column("run_id", Integer, ForeignKey("runs.id")),
    Column("prompt", Text, nullable=False),
    Column("attachments", Text, nullable=False, server_default="[]"),
    Column("mask_hash", Text),
    Column("response_id", Text),
    Column("image_call_id", Text),
    Column("image_hash", Text),
    Column("image_format", Text),
    Column("revised_prompt", Text),
    Column("reply", Text),
    Column("status", Text, nullable=False),
    Column("error", Text),
    Column("note", Text),
    Column("created_at", Float, nullable=False),
    Index("turns_conversation", "conversation_id", "id"),
)

batches = Table(
    "batches", metadata,
    Column("id", Integer, primary_key=True),
    Column("group_id", Text, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("backend", Text),
    Column("batch_id", Text),
    Column("status", Text, nullable=False),
    Column("total", Integer, nullable=False, server_default=text("0")),
    Column("completed", Integer, nullable=False, server_default=text("0")),
    Column("failed", Integer, nullable=False, server_default=text("0")),
    Column("run_ids", Text, nullable=False),
    Column("usage", Text),
    Column("dollars", Float),
    Column("error", Text),
    Column("cancel_requested", Integer, nullable=False, server_default=text("0")),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float),
    Index("batches_group", "group_id"),
)

budget_limits = Table(
    "budget_limits", metadata,
    Column("scope", Text, primary_key=True),
    Column("dollars", Float, nullable=False),
)

settings = Table(
    "settings", metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

prompt_library = Table(
    "prompt_library", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("tags", Text, nullable=False, server_default="[]"),
    Column("source", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
)
Index("prompt_library_created", prompt_library.c.created_at.desc())

# Rows another history's copy brought in (``imagelab.migrate``): what a second run of the copy skips.
copied_rows = Table(
    "copied_rows", metadata,
    Column("source", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("source_id", Text, primary_key=True),
    Column("target_id", Integer),
    Column("copied_at", Float, nullable=False),
)
