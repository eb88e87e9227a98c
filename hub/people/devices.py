"""Care-home tablets and the single-use codes that enrol them.

A tablet is enrolled once with a short code an admin issued for one home; from then
on it carries a long random device token (a cookie) that lands it on that home's
start page until the tablet is revoked. Only hashes of codes and tokens are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from hub.errors import ValidationError
from hub.people.plain_text import plain_name

# No 0/O, 1/I/L, 5/S, 2/Z: read off one screen, typed on another with gloves on.
CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXY346789"
CODE_LENGTH = 8


@dataclass(frozen=True)
class Device:
    id: int
    home_id: int
    label: str
    enrolled_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class EnrolmentCode:
    id: int
    home_id: int
    label: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    device_id: int | None
    created_by: str

    def state(self, now: datetime) -> str:
        if self.used_at is not None:
            return "used"
        if now >= self.expires_at:
            return "expired"
        return "open"


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(text: str) -> str:
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        raise ValidationError(
            "an enrolment code is 8 letters and digits, like ABCD-3479", field="code"
        )
    return cleaned


def digest(secret: str) -> str:
    """Codes and tokens are stored only as SHA-256 digests (they are high-entropy)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def parse_label(raw: str) -> str:
    label = plain_name(raw, field="label", label="tablet label")
    if not label:
        return "Tablet"
    if len(label) > 80:
        raise ValidationError("tablet label must be at most 80 characters", field="label")
    return label
