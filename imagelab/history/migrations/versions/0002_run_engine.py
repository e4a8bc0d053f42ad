"""Version 2: what the run engine needs to show, group and resume a run."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("runs", sa.Column("requested", sa.Integer))
    op.add_column("runs", sa.Column("group_id", sa.Text))
    op.add_column("runs", sa.Column("label", sa.Text))
    op.add_column("runs", sa.Column("response_id", sa.Text))
    op.add_column("runs", sa.Column("sequence", sa.Integer))
    op.create_index("runs_status", "runs", ["status"])
    op.create_index("runs_page", "runs", ["page", "id"])
    op.create_index("runs_group", "runs", ["group_id"])
