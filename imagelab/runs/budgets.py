"""Spending limits that hold: per session, per day and per month, kept in the store.

With login there are two kinds of day and month limits: the team's (``store.limits()``, on everyone's
spend together) and a person's own (``store.person_limits()``, on what they asked for); a request must
fit both, and a refusal says whose limit it met ("your", "the team's"). Without login the day and month
limits are the one person's, as they always were.

``spent(store, scope, session_ids)`` adds up what counts against a limit: a finished run's actual
cost, and a running run's estimate (it has been sent and will be billed). ``check(...)`` answers
whether a request with a given estimate may go, and if not, a ``Refusal`` whose ``sentence`` names
the limit, by how much it would be crossed, and what would fit (fewer images, a lower quality).
Offline runs never count, and requests to the offline backend are never refused: ``counts``
decides that from the backend a run records, in one place.

    refusal = check(store, est.dollars, backend=connection.label, session_ids=ids, spec=spec)
    if refusal: show(refusal.sentence)
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from imagelab.costs import estimate, format_dollars
from imagelab.store import RunRecord, Store

__all__ = ["MODERATION_SETTING", "SCOPES", "SCOPE_WORDS", "counts", "period_start", "spent", "Spend", "spending",
           "Refusal", "check", "what_fits", "Guard"]

SCOPES = ("session", "day", "month")
# The store setting that turns on the moderation check before every image request ("on" / "off").
MODERATION_SETTING = "check_before_spending"
SCOPE_WORDS = {"session": "per-session", "day": "daily", "month": "monthly"}
_RESET_WORDS = {"session": "start a new session", "day": "wait until tomorrow", "month": "wait until next month"}
_QUALITY_ORDER = ("low", "medium", "high", "xhigh", "max")


def counts(backend: str | None) -> bool:
    """Whether a new run on this backend will count against a budget: everything but the built-in
    offline backend. Recorded runs say so themselves (``RunRecord.billed``)."""
    return not str(backend or "").startswith("Offline")


def period_start(scope: str, now: float) -> float:
    """When the current day or month began, in local time."""
    moment = dt.datetime.fromtimestamp(now)
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if scope == "month":
        start = start.replace(day=1)
    return start.timestamp()


# A billed run without reported usage counts at its estimate: it was sent, so it may well have been paid for.
_SENT_STATUSES = ("running", "ok", "partial", "interrupted")


def _committed(run: RunRecord) -> float:
    if run.actual_dollars is not None:
        return float(run.actual_dollars)
    return float(run.est_dollars or 0) if run.status in _SENT_STATUSES else 0.0


def spent(store: Store, scope: str, session_ids: Sequence[int], *, now: float, exclude: int | None = None,
          owner: str | None = None) -> float:
    """What counts against a limit of ``scope``: the session's runs, or the day's or month's (``owner``: only
    that person's)."""
    if scope == "session":
        runs = store.spending_runs(0, ids=list(session_ids)) if session_ids else []
    else:
        runs = store.spending_runs(period_start(scope, now), owner=owner)
    return sum(_committed(r) for r in runs if r.billed and r.id != exclude)  # offline runs were never paid


@dataclass(frozen=True)
class Spend:
    scope: str
    limit: float
    spent: float
    whose: str = "your"          # "your" or "the team's": how a refusal names the limit
    set_by_admin: bool = False   # a team's or a person's own limit: only an admin changes it

    @property
    def left(self) -> float:
        return max(self.limit - self.spent, 0.0)


def spending(store: Store, session_ids: Sequence[int], *, now: float, exclude: int | None = None,
             owner: str | None = None) -> list[Spend]:
    """Each limit that is set, with what has been spent against it; with a logged-in ``owner`` (a subject) the
    team's day and month limits and that person's own, never anyone else's."""
    limits = store.limits()
    found = []
    for scope in SCOPES:
        if scope in limits:
            team = owner is not None and scope != "session"
            found.append(Spend(scope, limits[scope], spent(store, scope, session_ids, now=now, exclude=exclude),
                               whose="the team's" if team else "your", set_by_admin=team))
    if owner is not None:
        own = store.person_limits(owner)
        for scope in SCOPES:
            if (owner, scope) in own:
                found.append(Spend(scope, own[(owner, scope)], spent(store, scope, session_ids, now=now,
                                                                     exclude=exclude, owner=owner),
                                   whose="your", set_by_admin=True))
    return found


def what_fits(spec: Any, room: float) -> str:
    """Changes that would bring ``spec`` within ``room`` dollars, as words; empty when none would."""
    options = []
    n = int(getattr(spec, "n", 1) or 1)
    for k in range(n - 1, 0, -1):
        cost = estimate(spec.with_changes(n=k)).dollars
        if cost <= room:
            options.append(f"{k} image{'s' if k > 1 else ''} instead of {n} ({format_dollars(cost)})")
            break
    info = getattr(spec, "info", None)
    qualities = [q for q in _QUALITY_ORDER if info is not None and q in info.qualities]
    current = spec.quality if spec.quality in qualities else "high"
    for q in reversed(qualities[:qualities.index(current)] if current in qualities else []):
        cost = estimate(spec.with_changes(quality=q)).dollars
        if cost <= room:
            options.append(f"{q} quality ({format_dollars(cost)})")
            break
    if not options and n > 1 and qualities:
        cost = estimate(spec.with_changes(n=1, quality=qualities[0])).dollars
        if cost <= room:
            options.append(f"1 image at {qualities[0]} quality ({format_dollars(cost)})")
    return " or ".join(options)


@dataclass(frozen=True)
class Refusal:
    scope: str
    limit: float
    spent: float
    cost: float
    fits: str
    whose: str = "your"
    set_by_admin: bool = False

    @property
    def over(self) -> float:
        return self.spent + self.cost - self.limit

    @property
    def sentence(self) -> str:
        so_far = f" ({format_dollars(self.spent)} already spent)" if self.spent else ""
        head = (f"Not sent: this request would cost about {format_dollars(self.cost)}, which would cross {self.whose} "
                f"{SCOPE_WORDS[self.scope]} limit of {format_dollars(self.limit)}{so_far} by "
                f"{format_dollars(self.over)}.")
        room = max(self.limit - self.spent, 0.0)
        if self.fits:
            return f"{head} What would fit in the {format_dollars(room)} left: {self.fits}."
        raise_it = "ask an admin to raise it" if self.set_by_admin else "raise the limit in the sidebar"
        return (f"{head} Nothing this page can send fits in the {format_dollars(room)} left; {raise_it} or "
                f"{_RESET_WORDS[self.scope]}.")


def check(store: Store, cost: float, *, backend: str | None, session_ids: Sequence[int], spec: Any = None,
          now: float, exclude: int | None = None, owner: str | None = None) -> Refusal | None:
    """None when ``cost`` fits every limit (or the backend does not count); else the first limit it crosses.
    ``owner``: the logged-in person's subject, whose own limits count too."""
    if not counts(backend):
        return None
    for s in spending(store, session_ids, now=now, exclude=exclude, owner=owner):
        if s.spent + cost > s.limit + 1e-9:
            fits = what_fits(spec, s.left) if spec is not None and hasattr(spec, "with_changes") else ""
            return Refusal(s.scope, s.limit, s.spent, cost, fits, s.whose, s.set_by_admin)
    return None


_START_LOCK = threading.Lock()


@dataclass
class Guard:
    """The engine's check when a queued job is about to be sent: a sweep stops at the limit.

    ``session_ids`` is the session's own list of run ids (it grows as the session submits); ``owner`` the
    logged-in person's subject (their own limits count too), ``None`` without login.
    """

    store: Store
    session_ids: list[int]
    backend: str | None
    clock: Callable[[], float]
    owner: str | None = None

    def __call__(self, run_id: int, cost: float, spec: Any, mark_running: Callable[[], None]) -> str | None:
        """Refuse with a sentence, or mark the run running (so the next check counts it) and return None."""
        # the check and the start it allows are one step, for every worker and process on this history
        with _START_LOCK, self.store.database.exclusive("spending"):
            refusal = check(self.store, cost, backend=self.backend, session_ids=self.session_ids, spec=spec,
                            now=self.clock(), exclude=run_id, owner=self.owner)
            if refusal is None:
                mark_running()
                if run_id not in self.session_ids:  # counted for the session from now on, whoever records it
                    self.session_ids.append(run_id)
                return None
        return _stopped(refusal)

    def admit(self, cells: list[tuple[int, float, Any]], mark_running: Callable[[list[int]], None]
              ) -> dict[int, str]:
        """Cells (run id, cost, spec) sent together (a batch), in order: those that fit are marked running at
        once; returns the sentence for each one that does not."""
        with _START_LOCK, self.store.database.exclusive("spending"):
            now = self.clock()
            spends = spending(self.store, self.session_ids, now=now, owner=self.owner) if counts(self.backend) else []
            admitted: list[int] = []
            refused: dict[int, str] = {}
            extra = 0.0
            for run_id, cost, spec in cells:
                over = next((s for s in spends if s.spent + extra + cost > s.limit + 1e-9), None)
                if over is None:
                    admitted.append(run_id)
                    extra += cost
                    continue
                left = max(over.limit - over.spent - extra, 0.0)
                refused[run_id] = _stopped(Refusal(over.scope, over.limit, over.spent + extra, cost,
                                                   what_fits(spec, left) if hasattr(spec, "with_changes") else "",
                                                   over.whose, over.set_by_admin))
            if admitted:
                mark_running(admitted)
                self.session_ids.extend(i for i in admitted if i not in self.session_ids)
        return refused


def _stopped(refusal: Refusal) -> str:
    return refusal.sentence.replace("Not sent: this request", "Stopped at the spending limit: this request")
