"""The one root of ImageLab's errors: each says, in a sentence a designer understands, what went wrong and what
to change. A page shows ``exc.sentence`` (``str(exc)`` is the same); nothing beneath it is needed to act::

    ImageLabError                 imagelab.errors: a sentence
     ├── RequestFailed            imagelab.client.errors: a request failed, with what the API said beneath
     │    └── BadKey, RateLimited, …  (the client's tree, drawn there)
     ├── StorageError             imagelab.history.errors: the history folder, database or picture storage
     │    └── NotKept, PictureStorageError, DatabaseUnreachable, DatabaseFailed, NotADatabaseURL
     ├── InputRefused             imagelab.inputs: an uploaded file cannot be used
     ├── MaskError                imagelab.masks: an uploaded mask cannot be used
     ├── ExtendError              imagelab.extend: the canvas cannot be grown as asked
     ├── NotAnSvg                 imagelab.svg: the bytes are not an SVG this app can show
     └── BoardProblem             imagelab.history.boards: what was asked of a board cannot be done
"""

from __future__ import annotations

__all__ = ["ImageLabError"]


class ImageLabError(Exception):
    """Something a person can act on went wrong; ``sentence`` says what, and what to change."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence

    def details(self) -> str:
        """What lies beneath the sentence (the server's own words, for a failed request); nothing here."""
        return ""
