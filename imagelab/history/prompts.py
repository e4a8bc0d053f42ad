"""``PromptLibraryRepository``: the prompts a person saved with a title and tags (table ``prompt_library``).

The shipped prompts are not here: ``imagelab.library`` reads them from its JSON file.
"""

from __future__ import annotations

import json
import time

from imagelab.library import LibraryPrompt

from .database import new_id
from .records import loads
from .repository import Repository

__all__ = ["PromptLibraryRepository"]


class PromptLibraryRepository(Repository):
    def save_prompt(self, title: str, text: str, tags: tuple[str, ...] | list[str] = (), source: str = "") -> int:
        """Keep a prompt in the library; returns its id."""
        with self._db() as db:
            cur = db.execute("INSERT INTO prompt_library(title, text, tags, source, created_at) VALUES (?,?,?,?,?)",
                             (title, text, json.dumps(list(tags)), source, time.time()))
            return new_id(cur)

    def saved_prompts(self) -> list[LibraryPrompt]:
        """Every saved prompt, newest first."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM prompt_library ORDER BY created_at DESC, id DESC").fetchall()
        return [LibraryPrompt(title=r["title"], text=r["text"], tags=tuple(loads(r["tags"]) or ()), id=r["id"],
                              source=r["source"], created_at=r["created_at"]) for r in rows]

    def delete_prompt(self, prompt_id: int) -> bool:
        with self._db() as db:
            return db.execute("DELETE FROM prompt_library WHERE id=?", (prompt_id,)).rowcount > 0
