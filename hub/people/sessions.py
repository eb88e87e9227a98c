"""Staff login sessions, held server-side; the cookie carries only a random token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Stage(StrEnum):
    """How far a login has got: password checked, then TOTP checked (or set up)."""

    NEEDS_TOTP = "needs_totp"
    NEEDS_TOTP_SETUP = "needs_totp_setup"
    FULL = "full"


@dataclass(frozen=True)
class StaffSession:
    token_hash: str
    user_id: int
    stage: Stage
    created_at: datetime
    last_seen_at: datetime

    def expired(self, now: datetime, idle: timedelta, absolute: timedelta) -> bool:
        # A half-finished login (password only) gets a short fuse.
        if self.stage != Stage.FULL:
            idle = min(idle, timedelta(minutes=10))
        return now - self.last_seen_at > idle or now - self.created_at > absolute
