"""Version 9: boards — named, ordered sets of pictures with notes, their share links and the reactions to them.

A share link keeps only the SHA-256 of its token; a reaction names the link it came through, so the links
can be rate-limited and a revoked link's words stay with the board.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "boards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "board_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("added_at", sa.Float, nullable=False),
    )
    op.create_index("board_items_once", "board_items", ["board_id", "hash"], unique=True)
    op.create_index("board_items_board", "board_items", ["board_id", "position"])
    op.create_index("board_items_hash", "board_items", ["hash"])
    op.create_table(
        "board_shares",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),   # SHA-256 of the token, never the token
        sa.Column("show_details", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_index("board_shares_board", "board_shares", ["board_id"])
    op.create_index("board_shares_token", "board_shares", ["token_hash"], unique=True)
    op.create_table(
        "board_reactions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), nullable=False),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("board_items.id"), nullable=False),
        sa.Column("share_id", sa.Integer, sa.ForeignKey("board_shares.id")),
        sa.Column("verdict", sa.Text),                                   # "up", "down" or none
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("board_reactions_board", "board_reactions", ["board_id", "created_at"])
    op.create_index("board_reactions_item", "board_reactions", ["item_id"])
    op.create_index("board_reactions_share", "board_reactions", ["share_id", "created_at"])
