"""``PromptLibraryRepository``: the prompts a person saved with a title and tags (table ``prompt_library``).

The shipped prompts are not here: ``imagelab.library`` reads them from its JSON file.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from imagelab.library import LibraryPrompt
from imagelab.people import Person

from .records import loads
from .repository import Repository
from .runs import owner_columns
from .schema import prompt_library

__all__ = ["PromptLibraryRepository"]


class PromptLibraryRepository(Repository):
    def save_prompt(self, title: str, text: str, tags: tuple[str, ...] | list[str] = (), source: str = "",
                    owner: Person | None = None) -> int:
        """Keep a prompt in the library; returns its id."""
        with self._write() as db:
            return int(db.execute(prompt_library.insert().values(
                title=title, text=text, tags=json.dumps(list(tags)), source=source, created_at=time.time(),
                **owner_columns(owner))
                .returning(prompt_library.c.id)).scalar_one())

    def saved_prompts(self, *, owner: str | None = None) -> list[LibraryPrompt]:
        """Every saved prompt (``owner``: that person's), newest first."""
        query = select(prompt_library).order_by(prompt_library.c.created_at.desc(), prompt_library.c.id.desc())
        if owner is not None:
            query = query.where(prompt_library.c.owner == owner)
        with self._read() as db:
            rows = db.execute(query).mappings().all()
        return [LibraryPrompt(title=r["title"], text=r["text"], tags=tuple(loads(r["tags"]) or ()), id=r["id"],
                              source=r["source"], created_at=r["created_at"]) for r in rows]

    def delete_prompt(self, prompt_id: int, *, owner: str | None = None) -> bool:
        """Remove a saved prompt (``owner``: only if it is that person's)."""
        query = prompt_library.delete().where(prompt_library.c.id == prompt_id)
        if owner is not None:
            query = query.where(prompt_library.c.owner == owner)
        with self._write() as db:
            return db.execute(query).rowcount > 0
