"""``BoardRepository``: boards — named, ordered sets of pictures with notes — their share links and the
reactions that come back through them (tables ``boards``, ``board_items``, ``board_shares``, ``board_reactions``).

A share link's token (``secrets.token_urlsafe(32)``: 256 bits) is handed out once, when it is made; only
its SHA-256 is kept. Opening a link hashes what was given, finds the row by that hash and compares the two
hashes with ``hmac.compare_digest``; a wrong, revoked or expired token all come back as ``None``, so a
caller cannot tell them apart. Reactions through a link are limited per link and minute (counted in the
database, so every server of a team counts the same ones).

In a team a board is its maker's (``owner``: the identity provider's subject). Everyone may look at every board;
a change — its name, its pictures, their order and notes, its links, deleting it — given ``owner`` (the one person
whose boards the caller may change) is made only on that person's board, checked in the same transaction as the
change, and refused with ``NotYourBoard`` otherwise. ``owner=None`` changes any board: the single user's, or an
admin's. A board made before login has no owner, so in a team only an admin changes it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, func, select

from imagelab.errors import ImageLabError
from imagelab.people import Person

from .repository import Repository
from .runs import owner_columns
from .schema import board_items, board_reactions, board_shares, boards

__all__ = ["BoardRepository", "Board", "BoardItem", "ShareLink", "Reaction", "BoardProblem", "ReactionsTooFast",
           "NotYourBoard",
           "token_hash", "VERDICTS", "REACTIONS_PER_MINUTE", "MAX_NAME", "MAX_COMMENT", "MAX_NOTE",
           "MAX_DESCRIPTION"]

VERDICTS = ("up", "down")
REACTIONS_PER_MINUTE = 10  # through one link: enough for a person going through a board, not for a script
MAX_NAME = 80
MAX_COMMENT = 500
MAX_NOTE = 1000
MAX_DESCRIPTION = 2000


class BoardProblem(ImageLabError, ValueError):
    """What was asked of a board cannot be done; ``sentence`` says what to change."""


class ReactionsTooFast(BoardProblem):
    """A link sent more reactions in the last minute than ``REACTIONS_PER_MINUTE``."""


class NotYourBoard(BoardProblem):
    """A change to a board that is not the person's own (only its maker or an admin changes a board)."""

    def __init__(self) -> None:
        super().__init__("This board is someone else's: only the person who made it, or an admin, can change it.")


@dataclass(frozen=True)
class Board:
    id: int
    name: str
    description: str
    created_at: float
    pictures: int = 0
    reactions: int = 0
    owner: str | None = None          # who made it (the identity provider's subject); None without login
    owner_email: str | None = None


@dataclass(frozen=True)
class BoardItem:
    id: int
    board_id: int
    hash: str
    format: str
    position: int
    note: str
    added_at: float


@dataclass(frozen=True)
class ShareLink:
    id: int
    board_id: int
    show_details: bool       # prompts, models and costs are shown to whoever opens it
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    def open_at(self, now: float) -> bool:
        """Whether the link still opens its board at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class Reaction:
    id: int
    board_id: int
    item_id: int
    hash: str                # the picture's bytes, so a Gallery card finds its reactions
    verdict: str | None      # "up", "down" or None (a comment alone)
    comment: str
    name: str
    created_at: float


def token_hash(token: str) -> str:
    """What is kept of a share token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _board(row: RowMapping) -> Board:
    return Board(id=row["id"], name=row["name"], description=row["description"], created_at=row["created_at"],
                 pictures=int(row.get("pictures") or 0), reactions=int(row.get("reactions") or 0),
                 owner=row.get("owner"), owner_email=row.get("owner_email"))


def _item(row: RowMapping) -> BoardItem:
    return BoardItem(id=row["id"], board_id=row["board_id"], hash=row["hash"], format=row["format"],
                     position=row["position"], note=row["note"], added_at=row["added_at"])


def _share(row: RowMapping) -> ShareLink:
    return ShareLink(id=row["id"], board_id=row["board_id"], show_details=bool(row["show_details"]),
                     created_at=row["created_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"])


def _reaction(row: RowMapping) -> Reaction:
    return Reaction(id=row["id"], board_id=row["board_id"], item_id=row["item_id"], hash=row["hash"],
                    verdict=row["verdict"], comment=row["comment"], name=row["name"], created_at=row["created_at"])


def _within(text: str, limit: int, what: str) -> str:
    text = text.strip()
    if len(text) > limit:
        raise BoardProblem(f"The {what} is limited to {limit} characters; shorten it.")
    return text


_REACTION_SELECT = select(board_reactions, board_items.c.hash).select_from(
    board_reactions.join(board_items, board_items.c.id == board_reactions.c.item_id))
_NEWEST_REACTIONS = (board_reactions.c.created_at.desc(), board_reactions.c.id.desc())


def _changing(db: Connection, board_id: int, owner: str | None) -> None:
    """Lock a board's row for a change, refusing it (``NotYourBoard``) when ``owner`` is given and the board is not
    theirs; ``KeyError`` when there is no such board."""
    row = db.execute(select(boards.c.owner).where(boards.c.id == board_id).with_for_update()).first()
    if row is None:
        raise KeyError(board_id)
    if owner is not None and row.owner != owner:
        raise NotYourBoard()


def _item_board(db: Connection, item_id: int) -> int:
    board_id = db.execute(select(board_items.c.board_id).where(board_items.c.id == item_id)).scalar()
    if board_id is None:
        raise KeyError(item_id)
    return int(board_id)


class BoardRepository(Repository):
    # --- boards -----------------------------------------------------------------------------

    def create_board(self, name: str, description: str = "", owner: Person | None = None) -> int:
        """A new, empty board of ``owner``'s (nobody's without login); returns its id. ``BoardProblem`` for a
        missing or too long name."""
        name = _within(name, MAX_NAME, "board's name")
        if not name:
            raise BoardProblem("Give the board a name.")
        description = _within(description, MAX_DESCRIPTION, "description")
        with self._write() as db:
            return int(db.execute(boards.insert().values(name=name, description=description, created_at=time.time(),
                                                         **owner_columns(owner))
                                  .returning(boards.c.id)).scalar_one())

    def boards(self, *, owner: str | None = None) -> list[Board]:
        """Every board (``owner``: that person's), newest first, with how many pictures and reactions it has."""
        pictures = (select(func.count()).where(board_items.c.board_id == boards.c.id)
                    .scalar_subquery().label("pictures"))
        reactions = (select(func.count()).where(board_reactions.c.board_id == boards.c.id)
                     .scalar_subquery().label("reactions"))
        query = select(boards, pictures, reactions).order_by(boards.c.created_at.desc(), boards.c.id.desc())
        if owner is not None:
            query = query.where(boards.c.owner == owner)
        with self._read() as db:
            return [_board(r) for r in db.execute(query).mappings()]

    def board(self, board_id: int) -> Board:
        """One board (``KeyError`` when there is none with this id)."""
        found = [b for b in self.boards() if b.id == board_id]
        if not found:
            raise KeyError(board_id)
        return found[0]

    def describe_board(self, board_id: int, *, name: str | None = None, description: str | None = None,
                       owner: str | None = None) -> None:
        """Rename a board or change its description (``owner``: only if it is theirs)."""
        values: dict[str, str] = {}
        if name is not None:
            values["name"] = _within(name, MAX_NAME, "board's name")
            if not values["name"]:
                raise BoardProblem("Give the board a name.")
        if description is not None:
            values["description"] = _within(description, MAX_DESCRIPTION, "description")
        with self._write() as db:
            _changing(db, board_id, owner)
            if values:
                db.execute(boards.update().where(boards.c.id == board_id).values(**values))

    def delete_board(self, board_id: int, *, owner: str | None = None) -> None:
        """A board, its pictures' places on it, its links and its reactions (the pictures stay in the history);
        ``owner``: only if it is theirs."""
        with self._write() as db:
            _changing(db, board_id, owner)
            db.execute(board_reactions.delete().where(board_reactions.c.board_id == board_id))
            db.execute(board_shares.delete().where(board_shares.c.board_id == board_id))
            db.execute(board_items.delete().where(board_items.c.board_id == board_id))
            db.execute(boards.delete().where(boards.c.id == board_id))

    # --- pictures on a board ----------------------------------------------------------------

    def add_to_board(self, board_id: int, digest: str, fmt: str, *, owner: str | None = None) -> bool:
        """Put a picture at the end of a board (``owner``: only if it is theirs); ``False`` when it is on the
        board already."""
        with self._write() as db:
            _changing(db, board_id, owner)  # the board's row is locked, so two additions at once take different places
            if db.execute(select(board_items.c.id).where(board_items.c.board_id == board_id,
                                                         board_items.c.hash == digest)).first() is not None:
                return False
            last = db.execute(select(func.max(board_items.c.position))
                              .where(board_items.c.board_id == board_id)).scalar()
            db.execute(board_items.insert().values(board_id=board_id, hash=digest, format=fmt,
                                                   position=(last or 0) + 1, note="", added_at=time.time()))
            return True

    def board_items(self, board_id: int) -> list[BoardItem]:
        """A board's pictures in the board's order."""
        query = (select(board_items).where(board_items.c.board_id == board_id)
                 .order_by(board_items.c.position, board_items.c.id))
        with self._read() as db:
            return [_item(r) for r in db.execute(query).mappings()]

    def set_note(self, item_id: int, note: str, *, owner: str | None = None) -> None:
        """Write a picture's note on its board (``owner``: only if the board is theirs)."""
        note = _within(note, MAX_NOTE, "note")
        with self._write() as db:
            _changing(db, _item_board(db, item_id), owner)
            db.execute(board_items.update().where(board_items.c.id == item_id).values(note=note))

    def move_item(self, item_id: int, step: int, *, owner: str | None = None) -> bool:
        """Swap a picture with its neighbour (``step`` -1: earlier, +1: later); ``False`` at either end.
        ``owner``: only on a board of theirs."""
        with self._write() as db:
            board_id = _item_board(db, item_id)
            _changing(db, board_id, owner)
            position = db.execute(select(board_items.c.position).where(board_items.c.id == item_id)).scalar_one()
            order = board_items.c.position.desc() if step < 0 else board_items.c.position
            beyond = board_items.c.position < position if step < 0 else board_items.c.position > position
            other = db.execute(select(board_items.c.id, board_items.c.position)
                               .where(board_items.c.board_id == board_id, beyond).order_by(order).limit(1)).first()
            if other is None:
                return False
            db.execute(board_items.update().where(board_items.c.id == item_id).values(position=other.position))
            db.execute(board_items.update().where(board_items.c.id == other.id).values(position=position))
            return True

    def remove_from_board(self, item_id: int, *, owner: str | None = None) -> None:
        """Take a picture off its board, with the reactions to it there (the picture stays in the history);
        ``owner``: only from a board of theirs."""
        with self._write() as db:
            _changing(db, _item_board(db, item_id), owner)
            db.execute(board_reactions.delete().where(board_reactions.c.item_id == item_id))
            db.execute(board_items.delete().where(board_items.c.id == item_id))

    def boards_of(self, digest: str) -> list[int]:
        """The ids of the boards a picture is on."""
        with self._read() as db:
            return [int(i) for i in db.execute(select(board_items.c.board_id).where(board_items.c.hash == digest))
                    .scalars()]

    # --- share links ------------------------------------------------------------------------

    def create_share(self, board_id: int, *, expires_at: float | None = None, show_details: bool = False,
                     owner: str | None = None) -> str:
        """A new link to a board (``owner``: only to a board of theirs); returns its token, which is kept nowhere
        (only its hash is)."""
        token = secrets.token_urlsafe(32)
        with self._write() as db:
            _changing(db, board_id, owner)
            db.execute(board_shares.insert().values(board_id=board_id, token_hash=token_hash(token),
                                                    show_details=1 if show_details else 0, created_at=time.time(),
                                                    expires_at=expires_at))
        return token

    def shares(self, board_id: int) -> list[ShareLink]:
        """A board's links, newest first (revoked and expired ones too)."""
        query = (select(board_shares).where(board_shares.c.board_id == board_id)
                 .order_by(board_shares.c.created_at.desc(), board_shares.c.id.desc()))
        with self._read() as db:
            return [_share(r) for r in db.execute(query).mappings()]

    def revoke_share(self, share_id: int, *, owner: str | None = None) -> None:
        """The link stops opening its board, for good (``owner``: only a link to a board of theirs)."""
        with self._write() as db:
            board_id = db.execute(select(board_shares.c.board_id).where(board_shares.c.id == share_id)).scalar()
            if board_id is None:
                raise KeyError(share_id)
            _changing(db, int(board_id), owner)
            db.execute(board_shares.update().where(board_shares.c.id == share_id, board_shares.c.revoked_at.is_(None))
                       .values(revoked_at=time.time()))

    @staticmethod
    def _open(db: Connection, token: str, now: float, *, lock: bool = False) -> ShareLink | None:
        wanted = token_hash(token)
        query = select(board_shares).where(board_shares.c.token_hash == wanted)
        row = db.execute(query.with_for_update() if lock else query).mappings().first()
        # compared again in constant time: the row's hash is what the answer rests on, not the lookup
        if row is None or not hmac.compare_digest(str(row["token_hash"]), wanted):
            return None
        share = _share(row)
        return share if share.open_at(now) else None

    def open_share(self, token: str, now: float | None = None) -> ShareLink | None:
        """The link a token opens; ``None`` alike for a wrong, a revoked and an expired token."""
        with self._read() as db:
            return self._open(db, token, time.time() if now is None else now)

    # --- reactions --------------------------------------------------------------------------

    def add_reaction(self, token: str, item_id: int, *, verdict: str | None, comment: str = "", name: str = "",
                     now: float | None = None, per_minute: int = REACTIONS_PER_MINUTE) -> int:
        """What a viewer of a link said about one of its board's pictures; returns the reaction's id.

        ``BoardProblem`` (with its sentence) for a link that does not open, a picture not on its board, an empty
        or too long reaction; ``ReactionsTooFast`` past ``per_minute`` reactions through this link."""
        now = time.time() if now is None else now
        if verdict is not None and verdict not in VERDICTS:
            raise BoardProblem("A reaction is a thumb up or a thumb down.")
        comment = _within(comment, MAX_COMMENT, "comment")
        name = _within(name, MAX_NAME, "name")
        if verdict is None and not comment:
            raise BoardProblem("Choose thumb up or thumb down, or write a comment.")
        with self._write() as db:
            # the link's row is locked, so reactions sent at once are counted one after another
            share = self._open(db, token, now, lock=True)
            if share is None:
                raise BoardProblem("This link no longer opens a board.")
            on_board = db.execute(select(board_items.c.id).where(board_items.c.id == item_id,
                                                                 board_items.c.board_id == share.board_id)).first()
            if on_board is None:
                raise BoardProblem("This picture is no longer on the board.")
            recent = db.execute(select(func.count()).select_from(board_reactions).where(
                board_reactions.c.share_id == share.id, board_reactions.c.created_at > now - 60)).scalar_one()
            if recent >= per_minute:
                raise ReactionsTooFast(f"That is more than {per_minute} reactions in a minute through this link; "
                                       "wait a minute and send it again.")
            return int(db.execute(board_reactions.insert().values(
                board_id=share.board_id, item_id=item_id, share_id=share.id, verdict=verdict, comment=comment,
                name=name, created_at=now).returning(board_reactions.c.id)).scalar_one())

    def reactions(self, board_id: int) -> list[Reaction]:
        """A board's reactions, newest first."""
        query = _REACTION_SELECT.where(board_reactions.c.board_id == board_id).order_by(*_NEWEST_REACTIONS)
        with self._read() as db:
            return [_reaction(r) for r in db.execute(query).mappings()]

    def count_reactions(self) -> int:
        """How many reactions came back to every board in all."""
        with self._read() as db:
            return int(db.execute(select(func.count()).select_from(board_reactions)).scalar_one())

    def reactions_to(self, digests: list[str]) -> dict[str, list[Reaction]]:
        """The reactions to these pictures on any board, newest first, by picture hash (for Gallery cards)."""
        if not digests:
            return {}
        query = _REACTION_SELECT.where(board_items.c.hash.in_(set(digests))).order_by(*_NEWEST_REACTIONS)
        found: dict[str, list[Reaction]] = {}
        with self._read() as db:
            for row in db.execute(query).mappings():
                found.setdefault(row["hash"], []).append(_reaction(row))
        return found
