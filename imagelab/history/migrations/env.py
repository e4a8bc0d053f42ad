"""How Alembic runs a revision here: always on the connection (and transaction) the store hands it.

``Database.migrate`` passes its connection in ``config.attributes["connection"]``, already inside the
transaction that holds the migration lock, so all pending revisions commit or fail together.
"""

from __future__ import annotations

from alembic import context

from imagelab.history.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
