"""Tablet enrolment: single-use codes, expiry, revocation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hub.errors import AuthenticationFailed, Forbidden, ValidationError
from hub.people import enrolment
from hub.people.access import SYSTEM, Actor, Role


async def test_code_enrols_one_tablet_once(ctx, home) -> None:
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley tablet")
    enrolled = await enrolment.enrol(ctx, issued.code.lower().replace("-", " "))
    actor = await enrolment.device_actor(ctx, enrolled.token)
    assert actor is not None and actor.home_id == home.id and actor.name == "Trolley tablet"
    with pytest.raises(AuthenticationFailed, match="already been used"):
        await enrolment.enrol(ctx, issued.code)


async def test_expired_code(ctx, clock, home) -> None:
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "")
    clock.advance(timedelta(hours=24))
    with pytest.raises(AuthenticationFailed, match="has expired"):
        await enrolment.enrol(ctx, issued.code)


async def test_unknown_and_malformed_codes(ctx, home) -> None:
    with pytest.raises(AuthenticationFailed, match="not known"):
        await enrolment.enrol(ctx, "ABCD-EFGH")
    with pytest.raises(ValidationError, match="8 letters and digits"):
        await enrolment.enrol(ctx, "12")


async def test_racing_tablets_one_code_one_winner(ctx, home) -> None:
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "")
    results = await asyncio.gather(
        *(enrolment.enrol(ctx, issued.code) for _ in range(5)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, enrolment.Enrolled)]
    assert len(winners) == 1
    assert all(isinstance(r, AuthenticationFailed) for r in results if r not in winners)
    async with ctx.uow() as uow:
        assert len(await uow.devices.list(home.id)) == 1  # losers left no device behind


async def test_revoked_tablet_is_no_longer_recognised(ctx, home) -> None:
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "")
    enrolled = await enrolment.enrol(ctx, issued.code)
    await enrolment.revoke(ctx, SYSTEM, enrolled.device.id)
    assert await enrolment.device_actor(ctx, enrolled.token) is None


async def test_only_admins_issue_codes(ctx, home) -> None:
    clinician = Actor("staff", 5, "C", Role.CLINICIAN)
    with pytest.raises(Forbidden, match="admin role"):
        await enrolment.issue_code(ctx, clinician, home.id, "")


async def test_codes_and_tokens_are_stored_only_as_hashes(ctx, home) -> None:
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "")
    enrolled = await enrolment.enrol(ctx, issued.code)
    from sqlalchemy import text

    async with ctx.uow() as uow:
        conn = uow.devices.conn  # type: ignore[attr-defined]
        dump = str((await conn.execute(text("SELECT * FROM enrolment_codes"))).all())
        dump += str((await conn.execute(text("SELECT * FROM devices"))).all())
    assert issued.code.replace("-", "") not in dump and enrolled.token not in dump
