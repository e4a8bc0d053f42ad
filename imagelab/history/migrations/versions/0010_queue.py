"""Version 10: the run queue (``imagelab.runs.queue``) and each image's latest preview.

On PostgreSQL, procrastinate's own tables and functions (its ``schema.sql`` of the pinned version) are
made here, once, in the same transaction as the rest, so every process and worker finds them. SQLite
has no queue: runs go to the in-process pool there. ``run_previews`` holds the latest partial image of
each image of a running run, so another server can show it; a run's rows go when it finishes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "run_previews",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),        # which image of the run
        sa.Column("partial", sa.Integer, nullable=False),    # which preview of it (the latest kept)
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "idx"),
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and \
            conn.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar() is None:
        from procrastinate.schema import SchemaManager

        # the driver's own cursor: the schema's functions hold colons and percent signs that are not parameters
        conn.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]
