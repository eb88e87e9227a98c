"""The security-level messages of the signalling protocol (docs/signalling.md,
"Security level").

Part of ``signalling.protocol``: its unions include these classes, and its field rules
apply to them (``level`` must be one of ``SECURITY_LEVELS``). Kept apart only to keep
that module a readable size. Stdlib only.

Each party of a live call reports how its media travels now, read from the selected
ICE candidate pair (``call.security``); the server stores a change and answers with
``call.security`` to the reporter, and to the other party when the level changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

# How a call's media travels (hub.calls.security.SecurityLevel; a test keeps them equal).
SECURITY_LEVELS = ("direct", "relay", "relay_e2ee", "relay_not_e2ee")


@dataclass(frozen=True)
class CallSecurity:
    """Client → server: how this side's media travels now."""

    TYPE: ClassVar[str] = "call.security"
    call_id: int
    level: str  # one of SECURITY_LEVELS
    ref: str | None = None


@dataclass(frozen=True)
class CallSecurityState:
    """Server → client: the call's stored level, answering a report (``ref``), and sent
    to both parties whenever it changes."""

    TYPE: ClassVar[str] = "call.security"
    call_id: int
    level: str  # one of SECURITY_LEVELS
    changed: bool  # this report changed the stored level
    ref: str | None = None
