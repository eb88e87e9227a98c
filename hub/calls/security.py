"""The security level of a call: how its media actually travels, and every change of it.

Both browsers read the selected ICE candidate pair from ``getStats()`` when they connect
and whenever it changes, and report the level (``call.security`` in docs/signalling.md).
Only a party of the live call may report; the level is stored on the consultation and
each change is kept with who reported it, and audited. Two-party calls are always
encrypted end to end (DTLS-SRTP); what changes is whether the media goes directly
between the two browsers or through a TURN relay, which only ever sees SRTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation
from hub.calls.lifecycle import LIVE
from hub.context import HubContext
from hub.errors import Conflict, NotFound, ValidationError
from hub.people.access import Actor


class SecurityLevel(StrEnum):
    """How a call's media travels, as negotiated (the selected candidate pair)."""

    DIRECT = "direct"  # neither candidate of the selected pair is a relay
    RELAY = "relay"  # the local or the remote candidate is a TURN relay
    # Calls with guests go through telehub's media relay (media/relay):
    RELAY_E2EE = "relay_e2ee"  # every browser encrypts its frames end to end
    RELAY_NOT_E2EE = "relay_not_e2ee"  # a browser cannot: the relay could read its media

    @property
    def label(self) -> str:
        return SECURITY_LABELS[self]


SECURITY_LABELS: Mapping[SecurityLevel, str] = {
    SecurityLevel.DIRECT: "Direct, encrypted (DTLS-SRTP)",
    SecurityLevel.RELAY: "Through TURN relay, encrypted",
    SecurityLevel.RELAY_E2EE: "Through telehub relay, end-to-end encrypted",
    SecurityLevel.RELAY_NOT_E2EE: (
        "Through telehub relay, NOT end-to-end encrypted (this browser cannot)"
    ),
}


def label_of(level: str | None) -> str:
    """A stored level in words ("Not recorded" when the browsers never said)."""
    if not level:
        return "Not recorded"
    try:
        return SecurityLevel(level).label
    except ValueError:
        return level


@dataclass(frozen=True)
class SecurityChange:
    level: SecurityLevel
    at: datetime
    reported_by: str  # an audit reference: ``device:7``, ``staff:3``


def parse_level(raw: object) -> SecurityLevel:
    if not isinstance(raw, str):
        raise ValidationError("level must be text", field="level")
    try:
        return SecurityLevel(raw)
    except ValueError:
        raise ValidationError(
            f"level {raw[:40]!r} is not one of {', '.join(SecurityLevel)}", field="level"
        ) from None


async def report(
    ctx: HubContext, actor: Actor, call_id: int, level: SecurityLevel
) -> tuple[Consultation, bool]:
    """A party of the live call says how its media travels now. Returns the call and
    whether that changed its level (a report of the level it already has is no change:
    both sides report the same pair)."""
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        call = await uow.consultations.get(call_id)
        if call is None or not _is_party(actor, call):
            raise NotFound(f"no call {call_id} of yours")
        if call.state not in LIVE:
            raise Conflict(f"call {call_id} is {call.state.value}, not live")
        if call.security_level == level.value:
            return call, False
        if not await uow.consultations.set_security_level(call_id, level.value, now, actor.ref):
            # The other party stored this very change a moment ago: read it back.
            fresh = await uow.consultations.get(call_id)
            return fresh or call, False
        await uow.audit.append(
            AuditRecord(
                "call.security_level",
                actor.ref,
                "consultation",
                str(call_id),
                {"from": call.security_level, "to": level.value},
            ),
            now,
        )
        stored = await uow.consultations.get(call_id)
        await uow.commit()
    assert stored is not None
    return stored, True


async def changes(ctx: HubContext, call_id: int) -> list[SecurityChange]:
    """Every change of a call's level, oldest first (callers check access to the call)."""
    async with ctx.uow() as uow:
        rows = await uow.consultations.security_changes(call_id)
    return [SecurityChange(SecurityLevel(level), at, by) for level, at, by in rows]


def _is_party(actor: Actor, call: Consultation) -> bool:
    if actor.is_device:
        return call.device_id == actor.id
    return actor.kind == "staff" and call.answered_by == actor.id
