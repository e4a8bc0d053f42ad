"""The parts of the history ``imagelab.store.Store`` is made of.

- ``errors``: ``StorageError`` and its kinds, the one sentence a disk or database failure becomes.
- ``blobs``: ``BlobStore``, bytes in files named by their SHA-256 (written atomically).
- ``storage``: ``PictureStorage``, what the store asks of wherever bytes live, and ``S3Storage``
  (shared storage, with a local spool for what it cannot send yet).
- ``schema``: the tables as SQLAlchemy ``Table``s, the queries' one picture of the schema.
- ``database``: ``Database``, the engine (SQLite file or PostgreSQL), its failures as ``StorageError``s, and
  the schema's Alembic revisions (``migrations/``); what differs between the engines is kept there.
- ``records``: the frozen records the store hands out and the functions that map rows to them by
  column name.
- ``runs``, ``images``, ``conversations``, ``prompts`` (the prompt library): one repository per
  subject; each is a mixin of ``Store`` that speaks SQL (SQLAlchemy Core) only about its own tables.

Imports run downward only: errors ← blobs ← storage, schema ← database ← records ← repositories ←
``imagelab.store``.
"""
