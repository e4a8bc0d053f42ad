"""Version 11: owners. Runs, pictures, conversations and saved prompts carry the person who made them (the
identity provider's subject and email; empty in a single-user history), stars are per person, and a person
may have spending limits of their own. Everyone who has logged in is listed in ``people``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"

_OWNED = ("runs", "images", "conversations", "prompt_library")


def upgrade() -> None:
    for table in _OWNED:
        op.add_column(table, sa.Column("owner", sa.Text))
        op.add_column(table, sa.Column("owner_email", sa.Text))
    op.create_index("runs_owner", "runs", ["owner", "started_at"])
    op.create_index("images_owner", "images", ["owner", sa.text("created_at DESC")])
    op.create_table(
        "stars",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
        sa.Column("owner", sa.Text, primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("owner", sa.Text, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_table(
        "person_limits",
        sa.Column("owner", sa.Text, primary_key=True),
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("dollars", sa.Float, nullable=False),
    )
