"""Version 7: which rows of another history were copied in, and under which ids (``python -m imagelab.migrate``).

A copy that is run again skips what is here, one killed halfway goes on from where it was, and two
people's histories land side by side with ids of this history's own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "copied_rows",
        sa.Column("source", sa.Text, nullable=False),      # which history the row came from
        sa.Column("kind", sa.Text, nullable=False),        # its table
        sa.Column("source_id", sa.Text, nullable=False),   # its key there
        sa.Column("target_id", sa.Integer),                # its id here (None where the key is kept, as a hash)
        sa.Column("copied_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("source", "kind", "source_id"),
    )
