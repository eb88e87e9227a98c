"""The security level of a call: reported by its parties, stored with every change."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.calls import live, security
from hub.calls.security import SecurityLevel
from hub.errors import Conflict, NotFound, ValidationError
from signalling.protocol import SECURITY_LEVELS
from tests.hub.test_calls import clinicians, edna, request, tablet


def test_the_protocol_knows_exactly_the_core_levels() -> None:
    assert SECURITY_LEVELS == tuple(SecurityLevel)
    assert SecurityLevel.DIRECT.label == "Direct, encrypted (DTLS-SRTP)"
    assert SecurityLevel.RELAY.label == "Through TURN relay, encrypted"
    assert security.label_of(None) == "Not recorded"


def test_parse_level_names_the_choices() -> None:
    assert security.parse_level("relay") is SecurityLevel.RELAY
    with pytest.raises(ValidationError, match="level 'p2p' is not one of direct, relay"):
        security.parse_level("p2p")


async def test_levels_and_changes_are_stored_and_audited(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    nurse, other = await clinicians(ctx, 2)
    call = await live.request_call(ctx, tab, request(r.id))
    with pytest.raises(NotFound, match=f"no call {call.id} of yours"):  # nobody's yet
        await security.report(ctx, nurse, call.id, SecurityLevel.DIRECT)
    await live.claim(ctx, nurse, call.id)

    stored, changed = await security.report(ctx, tab, call.id, SecurityLevel.DIRECT)
    assert changed and stored.security_level == "direct"
    clock.advance(timedelta(seconds=1))
    # The other side sees the same pair: no second change.
    stored, changed = await security.report(ctx, nurse, call.id, SecurityLevel.DIRECT)
    assert not changed and stored.security_level == "direct"
    clock.advance(timedelta(minutes=3))
    stored, changed = await security.report(ctx, nurse, call.id, SecurityLevel.RELAY)
    assert changed and stored.security_level == "relay"

    history = await security.changes(ctx, call.id)
    start = clock.now() - timedelta(minutes=3, seconds=1)
    assert [(c.level, c.at, c.reported_by) for c in history] == [
        (SecurityLevel.DIRECT, start, tab.ref),
        (SecurityLevel.RELAY, clock.now(), nurse.ref),
    ]
    async with ctx.uow() as uow:
        events = [e for e in await uow.audit.recent(20) if e.action == "call.security_level"]
    assert [(e.actor, e.detail) for e in reversed(events)] == [
        (tab.ref, {"from": None, "to": "direct"}),
        (nurse.ref, {"from": "direct", "to": "relay"}),
    ]

    with pytest.raises(NotFound):  # not a party of this call
        await security.report(ctx, other, call.id, SecurityLevel.DIRECT)
    await live.end(ctx, nurse, call.id)
    with pytest.raises(Conflict, match=f"call {call.id} is ended, not live"):
        await security.report(ctx, nurse, call.id, SecurityLevel.DIRECT)
    assert (await live.participants(ctx, call.id)).security_level == "relay"


async def test_both_sides_reporting_at_once_store_one_change(ctx, clock, home) -> None:
    import asyncio

    tab = await tablet(ctx, home)
    (nurse,) = await clinicians(ctx, 1)
    call = await live.request_call(ctx, tab, request((await edna(ctx, clock, home)).id))
    await live.claim(ctx, nurse, call.id)
    results = await asyncio.gather(
        security.report(ctx, tab, call.id, SecurityLevel.DIRECT),
        security.report(ctx, nurse, call.id, SecurityLevel.DIRECT),
    )
    assert sorted(changed for _, changed in results) == [False, True]
    assert all(stored.security_level == "direct" for stored, _ in results)
    assert len(await security.changes(ctx, call.id)) == 1
