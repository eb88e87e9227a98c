"""Helpers for web tests that need a call that has ended (and usually has an outcome)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.calls import closure, live
from hub.calls.consultation import Consultation
from hub.context import HubContext
from hub.people.access import Actor, Role
from tests.hub.test_calls import edna, request, tablet

OUTCOME = {"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "yes"}


def nurse_of(user: Any) -> Actor:
    return Actor("staff", user.id, user.display_name, Role.CLINICIAN)


async def closed_call(  # type: ignore[no-untyped-def]
    ctx: HubContext,
    clock,
    home,
    clinician_user,
    *,
    intention: str = "ae",
    outcome: dict[str, str] | None = OUTCOME,
    resident=None,
    wait: timedelta = timedelta(minutes=3),
) -> Consultation:
    """A call from ``home`` answered after ``wait``, ended, with ``outcome`` recorded."""
    tab = await tablet(ctx, home)
    if resident is None:
        resident = await edna(ctx, clock, home)
    nurse = nurse_of(clinician_user)
    call = await live.request_call(ctx, tab, request(resident.id, intention=intention))
    clock.advance(wait)
    await live.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=10))
    await live.end(ctx, nurse, call.id)
    if outcome is not None:
        await closure.record_outcome(ctx, nurse, call.id, outcome)
    async with ctx.uow() as uow:
        stored = await uow.consultations.get(call.id)
    assert stored is not None
    return stored
