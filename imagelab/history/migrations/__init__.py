"""The history's schema, step by step: one Alembic revision a version (``versions/``), run by
``imagelab.history.database.Database.migrate`` through ``env.py`` (no alembic.ini is needed).

To change the schema, add a revision after the last one (the next number, ``down_revision`` the last),
write its ``upgrade`` with ``op.*`` only, so it runs on SQLite and PostgreSQL alike, and change
``imagelab.history.schema`` to match. Revisions are never edited once released: histories out there
were built by them.
"""
