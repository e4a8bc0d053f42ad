"""Version 1: runs, their images and those images' parents, uploads, conversations and their turns."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("page", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("request_id", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("estimate", sa.Text),
        sa.Column("usage", sa.Text),
        sa.Column("est_dollars", sa.Float),
        sa.Column("actual_dollars", sa.Float),
        sa.Column("backend", sa.Text),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("revised_prompt", sa.Text),
        sa.Column("starred", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "image_parents",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
        sa.Column("parent_hash", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False, server_default="input"),
    )
    op.create_table(
        "inputs",
        sa.Column("hash", sa.Text, primary_key=True),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("filename", sa.Text),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("turns.id")),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id")),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("attachments", sa.Text, nullable=False, server_default="[]"),
        sa.Column("mask_hash", sa.Text),
        sa.Column("response_id", sa.Text),
        sa.Column("image_call_id", sa.Text),
        sa.Column("image_hash", sa.Text),
        sa.Column("image_format", sa.Text),
        sa.Column("revised_prompt", sa.Text),
        sa.Column("reply", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("turns_conversation", "turns", ["conversation_id", "id"])
    op.create_index("images_created", "images", [sa.text("created_at DESC")])
    op.create_index("images_hash", "images", ["hash"])
    op.create_index("images_run", "images", ["run_id"])
