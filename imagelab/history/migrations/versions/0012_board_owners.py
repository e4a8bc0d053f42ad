"""Version 12: a board records who made it (the identity provider's subject and email; empty in a single-user
history, and on a board made before login, which in a team is nobody's: only an admin changes it)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.add_column("boards", sa.Column("owner", sa.Text))
    op.add_column("boards", sa.Column("owner_email", sa.Text))
    op.create_index("boards_owner", "boards", ["owner", "created_at"])
