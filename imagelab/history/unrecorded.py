"""``UnrecordedRepository``: rows the database could not take in time, kept beside the history until it can.

When the run engine gives up waiting for a database that went away (``Database.patiently``), the
pictures are already in storage; what is missing is their rows and the run's finish. Each is written
as a small JSON note in ``<data dir>/unrecorded/`` (atomically, named so they sort oldest first) and
recorded later: by the next finish of a run once the database answers again, and at every start-up
(``Store.recover``). A note is removed only after its rows are committed. A picture a note names is
kept by the orphan sweep (``Store._known_hashes``), so nothing the database missed is lost.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .errors import StorageError
from .records import ImageRecord
from .repository import Repository
from .schema import image_parents, images, runs

__all__ = ["UnrecordedRepository"]


class UnrecordedRepository(Repository):
    @property
    def unrecorded_dir(self) -> Path:
        return self.root / "unrecorded"

    # --- keeping what could not be written ------------------------------------------------

    def note_unrecorded_image(self, record: ImageRecord, parents: list[str]) -> None:
        """Keep a saved picture's row (its bytes are in storage) until the database takes it."""
        self._note(record.run_id, {"image": {
            "run_id": record.run_id, "idx": record.index, "hash": record.hash, "format": record.format,
            "width": record.width, "height": record.height, "bytes": record.bytes,
            "revised_prompt": record.revised_prompt, "created_at": record.created_at, "variant": record.variant,
            "drift": json.dumps(record.drift) if record.drift else None}, "parents": parents})

    def note_unrecorded_finish(self, run_id: int, values: dict[str, Any]) -> None:
        """Keep a run's finish (``finish_run``'s arguments) until the database takes it."""
        self._note(run_id, {"finish": values})

    def _note(self, run_id: int, body: dict[str, Any]) -> None:
        folder = self.unrecorded_dir
        name = f"{time.time_ns():020d}-run{run_id}-{uuid.uuid4().hex[:8]}.json"
        try:
            folder.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "w") as fh:
                json.dump({"run_id": run_id, **body}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / name)
        except OSError as exc:
            raise StorageError(self.root, exc) from None

    def _notes(self) -> list[Path]:
        try:
            return sorted(p for p in self.unrecorded_dir.iterdir() if p.suffix == ".json")
        except FileNotFoundError:
            return []

    def unrecorded_count(self) -> int:
        """How many rows wait on this machine for the database."""
        return len(self._notes())

    def unrecorded_hashes(self) -> set[str]:
        """The pictures the waiting rows name (kept by the orphan sweep)."""
        found = set()
        for path in self._notes():
            try:
                note = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if "image" in note:
                found.add(str(note["image"]["hash"]))
                found.update(str(p) for p in note.get("parents", []))
        return found

    # --- writing them once the database is back --------------------------------------------

    def record_unrecorded(self) -> int:
        """Write every waiting row, oldest first, each note in its own transaction; return how many were
        written. Stops at the first failure (the rest wait for the next call)."""
        written = 0
        for path in self._notes():
            try:
                note = json.loads(path.read_text())
            except FileNotFoundError:
                continue  # recorded meanwhile by another process on this folder
            except (OSError, ValueError):
                continue  # half a note never happens (written atomically); an unreadable one is left for a person
            with self._write() as db:
                if "image" in note:
                    row = note["image"]
                    same = select(images.c.id).where(images.c.run_id == row["run_id"], images.c.idx == row["idx"],
                                                     images.c.hash == row["hash"])
                    exists_run = db.execute(select(runs.c.id).where(runs.c.id == row["run_id"])).first()
                    if exists_run is not None and db.execute(same).first() is None:
                        image_id = db.execute(images.insert().values(row).returning(images.c.id)).scalar_one()
                        for parent in note.get("parents", []):
                            db.execute(image_parents.insert().values(image_id=image_id, parent_hash=parent))
                if "finish" in note:
                    values = dict(note["finish"])
                    values.setdefault("finished_at", path.stat().st_mtime)  # when it ended: when it was noted
                    if values.get("usage") is not None:
                        values["usage"] = json.dumps(values["usage"])
                    db.execute(runs.update().where(runs.c.id == note["run_id"]).values(values))
            path.unlink(missing_ok=True)
            written += 1
        return written
