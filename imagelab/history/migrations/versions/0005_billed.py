"""Version 5: whether a run was paid for.

The offline backend's runs cost nothing: their usage only says what the same request would cost on
OpenAI. Older rows are judged by the backend they name.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("runs", sa.Column("billed", sa.Integer, nullable=False, server_default=sa.text("1")))
    runs = sa.table("runs", sa.column("billed", sa.Integer), sa.column("backend", sa.Text))
    # ilike: SQLite's LIKE, which judged these rows first, ignores case; PostgreSQL's does not
    op.execute(runs.update().where(runs.c.backend.ilike("Offline%")).values(billed=0))
