"""Guests of a live call: a GP, family member or interpreter invited by link.

The clinician who has a live call (answered or in call) invites a guest of one kind;
the invitation is a single-use link, valid for a short time (``guests.invitation_minutes``).
Whoever opens it types a name, and waits in the lobby until the clinician admits them;
the clinician can remove any guest, withdraw an unused link, or end the guest part of
the call without ending the call. A call has at most ``guests.max_per_call`` guests at
once, counting open invitations and guests not gone.

A guest has no account. The link's token and the guest's own session token (a cookie
for that one guest in that one call) are ``secrets.token_urlsafe(32)``; only their
SHA-256 digests are stored. A guest session ends when the guest leaves, is removed, or
the call ends. A guest actor (``Actor(kind="guest")``) is a stranger to every other
service: ``Actor.can_see_home`` and ``require_role`` refuse it.

This module holds the values and the rules on them; the services that store and
audit them are in ``hub.calls.guest_services``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hub.errors import Gone, ValidationError
from hub.people.access import Actor
from hub.people.plain_text import plain_name

GUEST = "guest"  # the Actor kind of a guest
MAX_NAME = 60
# secrets.token_urlsafe(32) is 43 characters of the URL-safe base64 alphabet; anything
# far from that is refused before a database is asked.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")


class GuestKind(StrEnum):
    GP = "gp"
    FAMILY = "family"
    INTERPRETER = "interpreter"
    OTHER = "other"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS: Mapping[GuestKind, str] = {
    GuestKind.GP: "GP",
    GuestKind.FAMILY: "Family member",
    GuestKind.INTERPRETER: "Interpreter",
    GuestKind.OTHER: "Other",
}


class InvitationStatus(StrEnum):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"  # withdrawn by the clinician, or the call ended


# What a person who opens a link that no longer works is told: nothing about the call.
GONE_MESSAGES: Mapping[InvitationStatus, str] = {
    InvitationStatus.USED: "This link has already been used",
    InvitationStatus.EXPIRED: "This link has expired",
    InvitationStatus.REVOKED: "This link was withdrawn",
}
UNKNOWN_LINK = "This link is not valid"
CALL_OVER = "The call this link was for has ended"


class InvitationGone(Gone):
    """An invitation that existed but can no longer be used, and why."""

    def __init__(self, status: InvitationStatus, invitation_id: int, message: str = "") -> None:
        super().__init__(message or GONE_MESSAGES[status])
        self.status = status
        self.invitation_id = invitation_id


@dataclass(frozen=True)
class Invitation:
    id: int
    call_id: int
    kind: GuestKind
    created_by: str  # an audit reference: ``staff:3``
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

    def status(self, now: datetime) -> InvitationStatus:
        if self.used_at is not None:
            return InvitationStatus.USED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return InvitationStatus.OPEN


class GuestState(StrEnum):
    WAITING = "waiting"  # in the lobby
    IN_CALL = "in_call"  # admitted by the clinician
    LEFT = "left"  # left, or the call ended
    REMOVED = "removed"  # removed by the clinician

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: Mapping[GuestState, str] = {
    GuestState.WAITING: "Waiting to be let in",
    GuestState.IN_CALL: "In the call",
    GuestState.LEFT: "Left",
    GuestState.REMOVED: "Removed",
}
PRESENT = frozenset({GuestState.WAITING, GuestState.IN_CALL})


@dataclass(frozen=True)
class Guest:
    id: int
    call_id: int
    invitation_id: int
    kind: GuestKind
    name: str
    joined_at: datetime  # arrived in the lobby
    state: GuestState
    admitted_at: datetime | None = None
    left_at: datetime | None = None
    removed_by: str | None = None  # an audit reference, when removed

    @property
    def present(self) -> bool:
        """Still in the call or its lobby (the guest's session works)."""
        return self.state in PRESENT

    @property
    def ref(self) -> str:
        return f"{GUEST}:{self.id}"

    def actor(self) -> Actor:
        return Actor(GUEST, self.id, self.name)


def parse_kind(raw: object) -> GuestKind:
    if not isinstance(raw, str):
        raise ValidationError("kind must be text", field="kind")
    try:
        return GuestKind(raw)
    except ValueError:
        raise ValidationError(
            f"kind {raw[:40]!r} is not one of {', '.join(GuestKind)}", field="kind"
        ) from None


def parse_name(raw: object) -> str:
    """A guest's name as typed: plain text, whitespace folded, 1 to 60 characters."""
    if not isinstance(raw, str):
        raise ValidationError("type your name", field="name")
    name = plain_name(raw, field="name", label="your name")
    if not name:
        raise ValidationError("type your name", field="name")
    if len(name) > MAX_NAME:
        raise ValidationError(f"your name must be at most {MAX_NAME} characters", field="name")
    return name


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Link and session tokens are stored only as SHA-256 digests (they are random)."""
    return hashlib.sha256(token.encode()).hexdigest()


def plausible(token: str) -> bool:
    """Could this be a token we issued? (Anything else is unknown without a lookup.)"""
    return _TOKEN.fullmatch(token) is not None
