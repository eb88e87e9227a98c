"""Admin services on a real database: homes, residents, CSV import, staff."""

from __future__ import annotations

import pytest

from hub.audit.trail import verify
from hub.errors import Conflict, Forbidden, RowErrors, ValidationError
from hub.people import admin
from hub.people.access import SYSTEM, Actor, Role, Skill
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff

HEADER = "given_name,family_name,date_of_birth,nhs_number\n"


def edna(clock, nhs: str = "9434765919") -> ResidentDetails:  # type: ignore[no-untyped-def]
    return ResidentDetails.parse(
        given_name="Edna",
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number=nhs,
        allergies="Penicillin",
        today=clock.now().date(),
    )


async def test_duplicate_home_code(ctx, home) -> None:
    with pytest.raises(Conflict, match="code AB123 already exists"):
        await admin.create_home(ctx, SYSTEM, NewHome.parse("ab123", "Again", "", 10))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("A!", "N", "", 1), "home code must be 3–10 letters or digits"),
        (("ABC", "", "", 1), "home name must be 1–200 characters"),
        (("ABC", "N", "", "many"), "bed count must be a whole number"),
        (("ABC", "N", "", 0), "bed count must be between 1 and 1000"),
    ],
)
def test_bad_home(args: tuple, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError, match=message):
        NewHome.parse(*args)


async def test_duplicate_resident(ctx, clock, home, other_home) -> None:
    await admin.add_resident(ctx, SYSTEM, home.id, edna(clock))
    with pytest.raises(Conflict, match="NHS number 9434765919 already exists"):
        await admin.add_resident(ctx, SYSTEM, other_home.id, edna(clock))


async def test_resident_free_text_is_encrypted_at_rest(ctx, clock, home) -> None:
    r = await admin.add_resident(ctx, SYSTEM, home.id, edna(clock))
    from sqlalchemy import text

    async with ctx.uow() as uow:
        row = (
            await uow.residents.conn.execute(  # type: ignore[attr-defined]
                text("SELECT allergies_sealed FROM residents WHERE id = :id"), {"id": r.id}
            )
        ).one()
        assert "Penicillin" not in row[0] and row[0].startswith("k1:")
        assert (await uow.residents.get(r.id)).details.allergies == "Penicillin"  # type: ignore[union-attr]


async def test_csv_import_all_or_nothing(ctx, clock, home) -> None:
    await admin.add_resident(ctx, SYSTEM, home.id, edna(clock))
    text = HEADER + "Albert,Jones,1940-12-01,4010232137\nEdna,Smith,1931-04-02,9434765919\n"
    with pytest.raises(RowErrors) as err:
        await admin.import_residents(ctx, SYSTEM, home.id, text)
    assert err.value.errors == [(3, "a resident with NHS number 9434765919 already exists")]
    async with ctx.uow() as uow:
        assert len(await uow.residents.for_home(home.id)) == 1  # Albert was not half-imported
    ok = HEADER + "Albert,Jones,1940-12-01,4010232137\n"
    assert await admin.import_residents(ctx, SYSTEM, home.id, ok) == 1


async def test_staff_creation_rules(ctx, admin_user) -> None:
    with pytest.raises(ValidationError, match="at least 12 characters"):
        await admin.create_staff(
            ctx, SYSTEM, NewStaff.parse("bob", "Bob", "clinician", []), "short"
        )
    with pytest.raises(Conflict, match="username ada is taken"):
        await admin.create_staff(
            ctx, SYSTEM, NewStaff.parse("ada", "Ada 2", "admin", []), "a long enough password"
        )
    with pytest.raises(ValidationError, match="unknown skill 'surgeon'"):
        NewStaff.parse("bob", "Bob", "clinician", ["surgeon"])


async def test_admin_cannot_demote_self(ctx, admin_user) -> None:
    me = Actor("staff", admin_user.id, "Ada", Role.ADMIN)
    with pytest.raises(Conflict, match="your own admin role"):
        await admin.update_staff(ctx, me, admin_user.id, "Ada", Role.CLINICIAN, frozenset(), True)


async def test_clinicians_cannot_administer(ctx, home, clock) -> None:
    clinician = Actor("staff", 9, "C", Role.CLINICIAN)
    with pytest.raises(Forbidden):
        await admin.add_resident(ctx, clinician, home.id, edna(clock))
    with pytest.raises(Forbidden):
        await admin.create_home(ctx, clinician, NewHome.parse("ZZZ", "Z", "", 1))


async def test_every_change_is_audited_in_an_intact_chain(ctx, clock, home, admin_user) -> None:
    r = await admin.add_resident(ctx, SYSTEM, home.id, edna(clock))
    await admin.update_staff(
        ctx, SYSTEM, admin_user.id, "Ada A", Role.ADMIN, frozenset({Skill.CLINICIAN}), True
    )
    async with ctx.uow() as uow:
        events = [e async for e in uow.audit.events()]
    actions = [e.action for e in events]
    assert actions == ["home.created", "staff.created", "resident.created", "staff.updated"]
    assert events[2].subject_id == str(r.id)
    assert verify(events, ctx.keyring.audit_key).ok
