"""The history's tables as they are now (the head of ``migrations/``), for the repositories' queries.

This is the schema the queries are written against; the revisions in ``migrations/versions`` are what
builds it in a database, step by step, and each keeps its own copy of what it changes (a revision
never imports this module, since this module moves on). A test checks that a database migrated to
the head has exactly these tables, columns and indexes, on SQLite and on PostgreSQL.

Times are seconds since the epoch (floats); JSON values are text; flags are integers 0/1.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, Table, Text, text

__all__ = ["metadata", "runs", "images", "image_parents", "inputs", "conversations", "turns", "batches",
           "budget_limits", "settings", "prompt_library", "copied_rows", "run_previews", "stars", "people",
           "person_limits", "boards", "board_items", "board_shares", "board_reactions"]

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
    Column("owner", Text),         # the identity provider's subject of who asked; empty without login
    Column("owner_email", Text),
    Column("api_message", Text),   # what the server said when the run failed, scrubbed
    Column("api_status", Integer),
    Column("api_code", Text),
    Index("runs_status", "status"),
    Index("runs_page", "page", "id"),
    Index("runs_group", "group_id"),
    Index("runs_owner", "owner", "started_at"),
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
    Column("owner", Text),         # the run's owner, copied as the picture is saved
    Column("owner_email", Text),
)
# The Gallery's newest-first pages walk this index.
Index("images_created", images.c.created_at.desc())
Index("images_hash", images.c.hash)
Index("images_run", images.c.run_id)
Index("images_owner", images.c.owner, images.c.created_at.desc())

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
    Column("owner", Text),
    Column("owner_email", Text),
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
    Column("owner", Text),
    Column("owner_email", Text),
)
Index("prompt_library_created", prompt_library.c.created_at.desc())

# With login, each person's stars (``images.starred`` is the single-user history's).
stars = Table(
    "stars", metadata,
    Column("image_id", Integer, ForeignKey("images.id"), primary_key=True),
    Column("owner", Text, primary_key=True),
    Column("created_at", Float, nullable=False),
)

# Everyone who has logged in (the identity provider's subject), with the email they last had.
people = Table(
    "people", metadata,
    Column("owner", Text, primary_key=True),
    Column("email", Text, nullable=False),
    Column("last_seen", Float, nullable=False),
)

# A person's own spending limits (set by an admin), by scope (day, month); ``budget_limits`` are the team's.
person_limits = Table(
    "person_limits", metadata,
    Column("owner", Text, primary_key=True),
    Column("scope", Text, primary_key=True),
    Column("dollars", Float, nullable=False),
)

# Rows another history's copy brought in (``imagelab.migrate``): what a second run of the copy skips.
copied_rows = Table(
    "copied_rows", metadata,
    Column("source", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("source_id", Text, primary_key=True),
    Column("target_id", Integer),
    Column("copied_at", Float, nullable=False),
)

# The latest preview of each image of a running run, for a server other than the worker's (``imagelab.runs.queue``).
run_previews = Table(
    "run_previews", metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("partial", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("at", Float, nullable=False),
)

# A board: a named, ordered set of pictures to show and share (``history/boards.py``).
boards = Table(
    "boards", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
    Column("owner", Text),         # who made it (the identity provider's subject); empty without login
    Column("owner_email", Text),
    Index("boards_owner", "owner", "created_at"),
)

# A picture on a board, by its bytes' hash (the format kept beside it, so it shows after its result is deleted).
board_items = Table(
    "board_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("board_id", Integer, ForeignKey("boards.id"), nullable=False),
    Column("hash", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("added_at", Float, nullable=False),
    Index("board_items_once", "board_id", "hash", unique=True),
    Index("board_items_board", "board_id", "position"),
    Index("board_items_hash", "hash"),
)

# A share link: only the SHA-256 of its token is kept, so the table alone opens nothing.
board_shares = Table(
    "board_shares", metadata,
    Column("id", Integer, primary_key=True),
    Column("board_id", Integer, ForeignKey("boards.id"), nullable=False),
    Column("token_hash", Text, nullable=False),
    Column("show_details", Integer, nullable=False, server_default=text("0")),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Index("board_shares_board", "board_id"),
    Index("board_shares_token", "token_hash", unique=True),
)

# What a viewer of a share link said about one picture: a thumb, a comment, or both, under a name.
board_reactions = Table(
    "board_reactions", metadata,
    Column("id", Integer, primary_key=True),
    Column("board_id", Integer, ForeignKey("boards.id"), nullable=False),
    Column("item_id", Integer, ForeignKey("board_items.id"), nullable=False),
    Column("share_id", Integer, ForeignKey("board_shares.id")),
    Column("verdict", Text),
    Column("comment", Text, nullable=False, server_default=""),
    Column("name", Text, nullable=False, server_default=""),
    Column("created_at", Float, nullable=False),
    Index("board_reactions_board", "board_id", "created_at"),
    Index("board_reactions_item", "item_id"),
    Index("board_reactions_share", "share_id", "created_at"),
)
