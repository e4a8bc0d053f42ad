"""Version 8: what the server itself said when a run failed: its message (scrubbed), HTTP status and error code.

The run's ``error`` keeps the sentence ImageLab wrote; these keep the API's own words beneath it, so a run
card built from the history shows them as a live error does. Older rows have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.add_column("runs", sa.Column("api_message", sa.Text))    # the server's message, scrubbed, shortened
    op.add_column("runs", sa.Column("api_status", sa.Integer))  # the HTTP status of the failed answer
    op.add_column("runs", sa.Column("api_code", sa.Text))       # the API's error code (rate_limit_exceeded, …)
