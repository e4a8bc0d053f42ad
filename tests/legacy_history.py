"""Histories as older ImageLabs wrote them: their SQLite schema scripts, verbatim, and a way to make one.

Before the schema moved to Alembic revisions, a history carried its version in ``PRAGMA user_version``
and each of these scripts took it one version further. The tests build such files to prove that the
store stamps them at their version and upgrades them in place, losing nothing.
"""

import sqlite3
from pathlib import Path

SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    page TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    request_id TEXT,
    error TEXT,
    estimate TEXT,
    usage TEXT,
    est_dollars REAL,
    actual_dollars REAL,
    backend TEXT,
    started_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    idx INTEGER NOT NULL,
    hash TEXT NOT NULL,
    format TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    bytes INTEGER NOT NULL,
    revised_prompt TEXT,
    starred INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS image_parents (
    image_id INTEGER NOT NULL REFERENCES images(id),
    parent_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'input'
);
CREATE TABLE IF NOT EXISTS inputs (
    hash TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    filename TEXT,
    bytes INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    parent_id INTEGER REFERENCES turns(id),
    run_id INTEGER REFERENCES runs(id),
    prompt TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    mask_hash TEXT,
    response_id TEXT,
    image_call_id TEXT,
    image_hash TEXT,
    image_format TEXT,
    revised_prompt TEXT,
    reply TEXT,
    status TEXT NOT NULL,
    error TEXT,
    note TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns(conversation_id, id);
CREATE INDEX IF NOT EXISTS images_created ON images(created_at DESC);
CREATE INDEX IF NOT EXISTS images_hash ON images(hash);
CREATE INDEX IF NOT EXISTS images_run ON images(run_id);
"""

# Version 2: what the run engine needs to show, group and resume a run.
SCHEMA_V2 = """
ALTER TABLE runs ADD COLUMN requested INTEGER;
ALTER TABLE runs ADD COLUMN group_id TEXT;
ALTER TABLE runs ADD COLUMN label TEXT;
ALTER TABLE runs ADD COLUMN response_id TEXT;
ALTER TABLE runs ADD COLUMN sequence INTEGER;
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE INDEX IF NOT EXISTS runs_page ON runs(page, id);
CREATE INDEX IF NOT EXISTS runs_group ON runs(group_id);
"""

# Version 3: Batch API jobs (one row per batch, its cells are runs), spending limits and app settings.
SCHEMA_V3 = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    group_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    backend TEXT,
    batch_id TEXT,
    status TEXT NOT NULL,
    total INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    run_ids TEXT NOT NULL,
    usage TEXT,
    dollars REAL,
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS batches_group ON batches(group_id);
CREATE TABLE IF NOT EXISTS budget_limits (
    scope TEXT PRIMARY KEY,
    dollars REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""

# Version 4: an image made from another result of its run (keep-exact): the raw model output is
# marked 'raw', its composite 'kept'; ``drift`` holds how far the raw one moved outside the mask (JSON).
SCHEMA_V4 = """
ALTER TABLE images ADD COLUMN variant TEXT;
ALTER TABLE images ADD COLUMN drift TEXT;
"""

# Version 5: whether a run was paid for. The offline backend's runs cost nothing: their usage only says
# what the same request would cost on OpenAI. Older rows are judged by the backend they name.
SCHEMA_V5 = """
ALTER TABLE runs ADD COLUMN billed INTEGER NOT NULL DEFAULT 1;
UPDATE runs SET billed = 0 WHERE backend LIKE 'Offline%'
"""

# Version 6: the words a text-only run brought back (a description, a rewritten prompt), and the prompt library.
SCHEMA_V6 = """
ALTER TABLE runs ADD COLUMN reply TEXT;
CREATE TABLE IF NOT EXISTS prompt_library (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS prompt_library_created ON prompt_library(created_at DESC);
"""

# Each entry brings the schema from version i to i + 1.
SCRIPTS = (SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6)


def old_history(folder: Path, version: int, *, set_version: bool = True) -> Path:
    """A data folder whose ``history.sqlite3`` an ImageLab of schema ``version`` (1..6) wrote, with one
    finished run. ``set_version=False`` leaves ``user_version`` at 0, as the very first ImageLab did."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "images").mkdir(exist_ok=True)
    db = sqlite3.connect(folder / "history.sqlite3")
    try:
        for script in SCRIPTS[:version]:
            db.executescript(script)
        db.execute("INSERT INTO runs(page, model, prompt, params, status, started_at, actual_dollars, backend)"
                   " VALUES ('generate', 'gpt-image-1', 'An old fox', '{\"quality\": \"low\"}', 'ok', 1.0, 0.02,"
                   " 'OpenAI')")
        if set_version:
            db.execute(f"PRAGMA user_version = {version}")
        db.commit()
    finally:
        db.close()
    return folder


def user_version(folder: Path) -> int:
    db = sqlite3.connect(folder / "history.sqlite3")
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()
