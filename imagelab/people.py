"""Who uses ImageLab: the person logged in (OpenID Connect subject and email) and who the admins are.

Without login (no ``[auth]`` in the secrets) ImageLab has one anonymous person, ``None`` here: their
records carry no owner, they may do everything, and nothing below changes what they see. With login,
every record a person makes carries their ``Person``; admins are the emails listed in
``IMAGELAB_ADMINS`` (comma-separated), read again at every admin action so a change takes effect at
once and a browser can never claim the role.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Person", "admins", "is_admin", "may_delete"]


@dataclass(frozen=True)
class Person:
    """A logged-in person: the identity provider's subject (stable) and email (shown)."""

    subject: str
    email: str

    @property
    def name(self) -> str:
        """How the person is shown to others: their email, or the subject when the provider gave none."""
        return self.email or self.subject


def admins(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The admins' emails from ``IMAGELAB_ADMINS``, lower-cased."""
    text = (os.environ if env is None else env).get("IMAGELAB_ADMINS", "")
    return frozenset(e.strip().lower() for e in text.split(",") if e.strip())


def is_admin(person: Person | None) -> bool:
    """Whether ``person`` may act for everyone; the one person of a single-user ImageLab always may."""
    if person is None:
        return True
    return bool(person.email) and person.email.lower() in admins()


def may_delete(person: Person | None, owner_subject: str | None) -> bool:
    """Whether ``person`` may delete a record owned by ``owner_subject``: their own, or anyone's for an admin."""
    return person is None or owner_subject == person.subject or is_admin(person)
