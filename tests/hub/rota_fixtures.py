"""A small real hub staff for rota tests: ten clinicians with contracts, enough to
cover a week of the 8-hour pattern with a senior every hour and a prescriber 08–22."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hub.calls.consultation import Consultation, Reason, State
from hub.context import HubContext
from hub.outcomes.codes import Intention
from hub.people.access import SYSTEM, Actor, Role, Skill
from hub.people.admin import add_resident, create_staff
from hub.people.homes import CareHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff, StaffUser
from hub.rostering.inputs import set_contract, set_demand
from hub.settings import Settings, load
from rota.model import Assignment, Problem
from rota.rules import check

PASSWORD = "correct horse battery staple"
MONDAY = date(2026, 3, 2)  # the test clock's day (10:00 UTC = 10:00 GMT)

# A hub's own shift pattern, as a rota lead writes it under [rota.shift_patterns]:
# shift names no built-in pattern has, and a 10-hour night across midnight.
NINE_HOUR = {
    "nine_hour": [
        {"name": "morning", "start": 7, "hours": 9},
        {"name": "evening", "start": "14:00", "hours": 9},
        {"name": "overnight", "start": 22, "hours": 10},
    ]
}

# username, skills, night-capable
TEAM: tuple[tuple[str, tuple[Skill, ...], bool], ...] = (
    ("sen1", (Skill.SENIOR_CLINICIAN, Skill.PRESCRIBER), True),
    ("sen2", (Skill.SENIOR_CLINICIAN, Skill.PRESCRIBER), True),
    ("sen3", (Skill.SENIOR_CLINICIAN,), True),
    ("sen4", (Skill.SENIOR_CLINICIAN,), True),
    ("sen5", (Skill.SENIOR_CLINICIAN,), True),
    ("pre1", (Skill.PRESCRIBER,), False),
    ("pre2", (Skill.PRESCRIBER,), True),
    ("pre3", (Skill.PRESCRIBER,), False),
    ("nur1", (), True),
    ("nur2", (), False),
)


async def rota_team(ctx: HubContext) -> list[StaffUser]:
    """Create the team with 37.5-hour contracts and a flat demand of one clinician an
    hour (the skill rules then need two or three on duty at most hours)."""
    users = []
    for username, skills, nights in TEAM:
        new = NewStaff.parse(
            username,
            username.capitalize(),
            Role.CLINICIAN.value,
            [Skill.CLINICIAN.value, *(s.value for s in skills)],
        )
        user = await create_staff(ctx, SYSTEM, new, PASSWORD)
        await set_contract(ctx, SYSTEM, user.id, 37.5, nights)
        users.append(user)
    await set_demand(ctx, SYSTEM, [1] * 168)
    return users


async def rota_lead(ctx: HubContext, home_id: int | None = None) -> Actor:
    """A hub manager (or, with ``home_id``, a care-home manager) as an actor."""
    name = "lead" if home_id is None else f"chm{home_id}"
    new = NewStaff.parse(name, name.capitalize(), Role.MANAGER.value, [], home_id)
    user = await create_staff(ctx, SYSTEM, new, PASSWORD)
    return actor_for(user)


def with_nine_hour(settings: Settings) -> Settings:
    """``settings`` with NINE_HOUR loaded from config and made the default pattern."""
    rota = load(overrides={"rota": {"shift_patterns": NINE_HOUR, "pattern": "nine_hour"}}).rota
    return settings.replace("rota", shift_patterns=rota.shift_patterns, pattern=rota.pattern)


def actor_for(user: StaffUser) -> Actor:
    return Actor("staff", user.id, user.display_name, user.role, user.home_id)


async def call_history(ctx: HubContext, home: CareHome) -> None:
    """Four weeks of one 20-minute call every Tuesday at 14:30 (GMT = UK time in
    February) before MONDAY, and a cancelled call on Tuesday 24 Feb at 03:00 that a
    forecast must not count."""
    resident = await add_resident(
        ctx,
        SYSTEM,
        home.id,
        ResidentDetails.parse(
            given_name="Ivy",
            family_name="Stone",
            date_of_birth="1931-04-01",
            nhs_number="9434765919",
            today=MONDAY,
        ),
    )

    def call(state: State, at: datetime, minutes: int, outcome: str | None) -> Consultation:
        answered = at + timedelta(minutes=1) if outcome else at
        end = at + timedelta(minutes=minutes)
        return Consultation(
            0, home.id, resident.id, None, state, Reason.FALL, (), {}, None, None,
            Intention(outcome) if outcome else None, at, answered, end,
        )  # fmt: skip

    tuesday = datetime(2026, 3, 3, 14, 30, tzinfo=UTC)
    calls = [call(State.ENDED, tuesday - timedelta(weeks=w), 21, "ae") for w in range(1, 5)]
    calls.append(call(State.CANCELLED, datetime(2026, 2, 24, 3, 0, tzinfo=UTC), 5, None))
    async with ctx.uow() as uow:
        await uow.consultations.add_many(calls)
        await uow.commit()


def swap_legal_only_as_a_pair(problem: Problem, chosen: set[Assignment]) -> tuple[Assignment, str]:
    """A shift to hand from one clinician to another who is off that day, where handing
    it away alone breaks a hard rule (usually: hours left without a senior) and the two
    halves together break none: (the shift given away, the taker's staff id)."""
    working = {(a.staff, a.day) for a in chosen}
    return next(
        (a, b.id)
        for a in sorted(chosen)
        for b in problem.staff
        if (b.id, a.day) not in working
        and check(problem, chosen - {a}) != []
        and check(problem, (chosen - {a}) | {Assignment(b.id, a.day, a.shift)}) == []
    )
