"""Resident record access: home-scoped for tablets, and always audited."""

from __future__ import annotations

import pytest

from hub.errors import NotFound
from hub.people import admin, enrolment, resident_records
from hub.people.access import SYSTEM, Actor, Role
from hub.people.residents import ResidentDetails


async def tablet_of(ctx, home) -> Actor:  # type: ignore[no-untyped-def]
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "T")
    enrolled = await enrolment.enrol(ctx, issued.code)
    actor = await enrolment.device_actor(ctx, enrolled.token)
    assert actor is not None
    return actor


async def add(ctx, clock, home, nhs: str, name: str):  # type: ignore[no-untyped-def]
    d = ResidentDetails.parse(
        given_name=name,
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number=nhs,
        today=clock.now().date(),
    )
    return await admin.add_resident(ctx, SYSTEM, home.id, d)


async def test_tablet_sees_only_its_home(ctx, clock, home, other_home) -> None:
    mine = await add(ctx, clock, home, "9434765919", "Edna")
    theirs = await add(ctx, clock, other_home, "4010232137", "Albert")
    tablet = await tablet_of(ctx, home)
    listed = await resident_records.residents_of_home(ctx, tablet, home.id)
    assert [r.id for r in listed] == [mine.id]
    assert (await resident_records.view_resident(ctx, tablet, mine.id)).resident.id == mine.id
    with pytest.raises(NotFound, match=f"no resident {theirs.id}"):
        await resident_records.view_resident(ctx, tablet, theirs.id)
    with pytest.raises(NotFound):
        await resident_records.residents_of_home(ctx, tablet, other_home.id)
    async with ctx.uow() as uow:
        events = await uow.audit.recent(3)
    assert [e.action for e in events] == [
        "home.residents.denied",
        "resident.denied",
        "resident.viewed",
    ]
    assert events[1].actor == tablet.ref and events[1].detail == {"reason": "other home"}


async def test_search_by_name_or_nhs_number(ctx, clock, home) -> None:
    await add(ctx, clock, home, "9434765919", "Edna")
    await add(ctx, clock, home, "4010232137", "Albert")
    clinician = Actor("staff", 1, "C", Role.CLINICIAN)
    assert [
        r.details.given_name
        for r in await resident_records.residents_of_home(ctx, clinician, home.id, "edn")
    ] == ["Edna"]
    assert [
        r.details.given_name
        for r in await resident_records.residents_of_home(ctx, clinician, home.id, "401 023")
    ] == ["Albert"]
