"""Version 4: an image made from another result of its run (keep-exact).

The raw model output is marked 'raw', its composite 'kept'; ``drift`` holds how far the raw one moved
outside the mask (JSON).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("images", sa.Column("variant", sa.Text))
    op.add_column("images", sa.Column("drift", sa.Text))
