"""Hub staff: clinicians, managers and admins, with their skills."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from zxcvbn import zxcvbn

from hub.errors import ValidationError
from hub.people.access import Role, Skill
from hub.people.plain_text import plain_name

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,39}$")
MIN_PASSWORD = 12
MIN_GUESS_SCORE = 3  # zxcvbn: 3 = "safely unguessable", about 10^8 guesses or more


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    display_name: str
    role: Role
    skills: frozenset[Skill]
    active: bool
    totp_confirmed: bool
    home_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Credentials:
    """The secret half of a staff record; never leaves the auth service."""

    password_hash: str
    totp_secret_sealed: str | None
    totp_last_counter: int
    failed_attempts: int
    locked_until: datetime | None


@dataclass(frozen=True)
class NewStaff:
    username: str
    display_name: str
    role: Role
    skills: frozenset[Skill]
    home_id: int | None = None

    @classmethod
    def parse(
        cls,
        username: str,
        display_name: str,
        role: str,
        skills: Iterable[str],
        home_id: int | None = None,
    ) -> NewStaff:
        username = username.strip().lower()
        if not _USERNAME.match(username):
            raise ValidationError(
                "username must be 3–40 characters: a letter, then letters, digits, . _ or -",
                field="username",
            )
        display_name = plain_name(display_name, field="display_name", label="display name")
        if not display_name or len(display_name) > 100:
            raise ValidationError("display name must be 1–100 characters", field="display_name")
        try:
            parsed_role = Role(role)
        except ValueError:
            raise ValidationError(f"unknown role {role!r}", field="role") from None
        parsed_skills = set()
        for s in skills:
            try:
                parsed_skills.add(Skill(s))
            except ValueError:
                raise ValidationError(f"unknown skill {s!r}", field="skills") from None
        return cls(username, display_name, parsed_role, frozenset(parsed_skills), home_id)


def check_password_strength(password: str, username: str, display_name: str = "") -> None:
    """NCSC-style: length over complexity, not the username, and not guessable.

    Guessability is zxcvbn's estimate (common passwords, words, names, keyboard runs,
    repeats, dates, l33t spellings), told about the person's own names and the service:
    a score under ``MIN_GUESS_SCORE`` (of 0–4) is refused with zxcvbn's own warning."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"password must be at least {MIN_PASSWORD} characters", field="password"
        )
    if len(password) > 256:
        raise ValidationError("password must be at most 256 characters", field="password")
    if username.lower() in password.lower():
        raise ValidationError("password must not contain the username", field="password")
    context = [username, *display_name.split(), "telehub", "hub", "care", "nurse"]
    # zxcvbn's cost grows with length; past 64 characters the first 64 decide.
    verdict = zxcvbn(password[:64], user_inputs=context)
    if int(verdict["score"]) < MIN_GUESS_SCORE:
        warning = str(verdict["feedback"].get("warning") or "").rstrip(".")
        why = f" ({warning.lower()})" if warning else ""
        raise ValidationError(
            f"that password is too easy to guess{why}: use three or four unrelated words",
            field="password",
        )
