"""The report rollup gives exactly the figures the consultation rows give.

Random calls (every state, waits on and around the histogram's edges, calls on either
side of UK and UTC midnight and of both daylight-saving changes) are stored, then
amended, re-presented, claimed, released and ended through the repository and the
closure service; every all-homes figure from the rollup must equal the row-level one
for many ranges (from UK midnight to UK midnight, in summer and in winter, so that the
rollup answers them), and a rebuild must reproduce the rollup the writes maintained.
The rollup's days are UK days.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, or_, select, text

from hub.calls import closure
from hub.calls.consultation import Consultation, Reason, State
from hub.context import HubContext
from hub.outcomes import representations
from hub.outcomes.avoided import Avoided
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, Outcome, OutcomeCode
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident, create_home, create_staff
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from hub.reports import summary
from hub.store import tables as t
from hub.store.report_repository import RowReports, SqlReports, _local_day
from hub.store.report_rollup import ROLLUP_TABLES, ReportRollup
from tests.bench.livehub import nhs_numbers
from tests.conftest import PASSWORD

START = datetime(2025, 3, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)
US = timedelta(microseconds=1)
# Instants where a wrong day, month or UK hour would show.
AWKWARD = [
    datetime(2025, 3, 30, 0, 59, 59, 999999, tzinfo=UTC),  # GMT, Sunday 00:59
    datetime(2025, 3, 30, 1, 0, tzinfo=UTC),  # BST from now: Sunday 02:00
    datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # BST, Sunday 01:30
    datetime(2025, 10, 26, 1, 0, tzinfo=UTC),  # GMT again, Sunday 01:00
    datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 30, tzinfo=UTC),  # BST: Wednesday 1 July 00:30, Tuesday UTC
    # Either side of UK midnight in summer (23:00 UTC) and of UTC midnight.
    datetime(2026, 6, 30, 22, 59, 59, 999999, tzinfo=UTC),  # 30 June 23:59:59 BST
    datetime(2026, 6, 30, 23, 0, tzinfo=UTC),  # 1 July 00:00 BST
    datetime(2026, 7, 1, 0, 0, tzinfo=UTC),  # 1 July 01:00 BST
    datetime(2025, 10, 25, 23, 30, tzinfo=UTC),  # 26 October 00:30 BST (a 25-hour day)
    datetime(2025, 10, 26, 23, 30, tzinfo=UTC),  # 26 October 23:30 GMT, the same day
    datetime(2025, 3, 29, 23, 30, tzinfo=UTC),  # 29 March 23:30 GMT
    datetime(2025, 3, 30, 22, 59, 59, 999999, tzinfo=UTC),  # 30 March 23:59:59 BST (23 h)
    datetime(2025, 3, 30, 23, 30, tzinfo=UTC),  # 31 March 00:30 BST
    datetime(2025, 5, 31, 23, 0, tzinfo=UTC),  # 1 June 00:00 BST: the month's first instant
]
WAITS = [
    timedelta(0),
    US,
    timedelta(seconds=5),
    timedelta(seconds=5) + US,
    FIVE_MIN - US,
    FIVE_MIN,
    FIVE_MIN + US,
    timedelta(hours=1),
    timedelta(hours=1) + US,
    timedelta(hours=1, seconds=59),
    timedelta(days=1),
    timedelta(days=1) + US,
    timedelta(days=2, seconds=7),
]


async def _people(ctx: HubContext, homes: int) -> tuple[list[tuple[int, int]], Actor]:
    numbers = iter(nhs_numbers(homes * 4))
    pairs = []
    for i in range(homes):
        home = await create_home(
            ctx, SYSTEM, NewHome.parse(f"RH{i:03d}", f"Home {i}", "1 Lane", 30)
        )
        for j in range(4):
            resident = await add_resident(
                ctx,
                SYSTEM,
                home.id,
                ResidentDetails.parse(
                    given_name=f"R{j}",
                    family_name=f"H{i}",
                    date_of_birth="1930-01-01",
                    nhs_number=next(numbers),
                    today=date(2026, 12, 1),
                ),
            )
            pairs.append((home.id, resident.id))
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("rnurse", "R Nurse", "clinician", ["clinician"]), PASSWORD
    )
    return pairs, Actor("staff", user.id, user.display_name, Role.CLINICIAN)


def _random_call(rng: random.Random, pairs: list[tuple[int, int]], at: datetime) -> Consultation:
    home_id, resident_id = rng.choice(pairs)
    state = rng.choices(list(State), weights=[1, 2, 2, 2, 12, 2, 2])[0]
    answered = state in (State.ANSWERED, State.IN_CALL, State.ENDED) or rng.random() < 0.2
    wait = rng.choice(WAITS) if rng.random() < 0.4 else timedelta(seconds=rng.expovariate(1 / 200))
    answered_at = at + wait if answered else None
    ended_at = (answered_at or at) + timedelta(minutes=12) if state is State.ENDED else None
    outcome = rng.choice(list(OutcomeCode)) if state is State.ENDED and rng.random() < 0.8 else None
    return Consultation(
        id=0,
        home_id=home_id,
        resident_id=resident_id,
        device_id=None,
        state=state,
        reason=rng.choice(list(Reason)),
        soft_signs=(),
        observations={},
        news2_score=None,
        news2_band=None,
        intention=rng.choice([Intention.CALL_999, Intention.AE, Intention.URGENT_GP, None]),
        requested_at=at,
        answered_at=answered_at,
        ended_at=ended_at,
        outcome=outcome,
        follow_up=FollowUp.NONE if outcome else None,
        admission_judgement=AdmissionJudgement.YES if outcome else None,
        outcome_at=ended_at if outcome else None,
        avoided=Avoided(*(rng.random() < 0.5 for _ in range(6))),
    )


async def _seed(ctx: HubContext, rng: random.Random, pairs: list[tuple[int, int]], n: int) -> None:
    span = int((END - START).total_seconds())
    times = [*AWKWARD, *(START + timedelta(seconds=rng.randrange(span)) for _ in range(n))]
    calls = [_random_call(rng, pairs, at) for at in times]
    for start in range(0, len(calls), 150):  # several inserts, several transactions
        async with ctx.uow() as uow:
            await uow.consultations.add_many(calls[start : start + 150])
            await uow.commit()


async def _amend(ctx: HubContext, rng: random.Random, nurse: Actor) -> None:
    async with ctx.uow() as uow:
        ids = [
            int(i)
            for (i,) in await uow.consultations.conn.execute(  # type: ignore[attr-defined]
                select(t.consultations.c.id)
            )
        ]
    for call_id in rng.sample(ids, 120):
        async with ctx.uow() as uow:
            repo = uow.consultations
            call = await repo.get(call_id)
            assert call is not None
            step = rng.randrange(6)
            if step == 0:
                code = rng.choice(list(OutcomeCode))
                outcome = Outcome(code, FollowUp.NONE, None, AdmissionJudgement.NO)
                await repo.record_outcome(call_id, outcome, call.requested_at)
            elif step == 1:
                await repo.set_avoided(call_id, Avoided(*(rng.random() < 0.5 for _ in range(6))))
            elif step == 2:  # claim a waiting call (or fail to: nothing may change)
                at = call.requested_at + rng.choice(WAITS)
                await repo.transition(
                    call_id, {State.WAITING}, State.ANSWERED, answered_at=at, answered_by=None
                )
            elif step == 3:  # release: no longer answered, no longer counted
                await repo.transition(call_id, {State.ANSWERED, State.IN_CALL}, State.WAITING)
            elif step == 4:
                await repo.transition(
                    call_id, {State.IN_CALL, State.ANSWERED}, State.ENDED, ended_at=call.ended_at
                )
            else:
                await repo.transition(call_id, {State.REQUESTED, State.WAITING}, State.CANCELLED)
            await uow.commit()
    # Through the closure service: amendments with a reason and re-presentations, which
    # recompute the avoided flags.
    async with ctx.uow() as uow:
        c = t.consultations.c
        rows = await uow.consultations.conn.execute(  # type: ignore[attr-defined]
            select(c.id, c.ended_at)
            .where(c.state == "ended", c.outcome.is_not(None), c.intention.is_not(None))
            .order_by(c.id)
        )
        closed = [(int(i), e) for i, e in rows]
    for call_id, ended_at in rng.sample(closed, 25):
        ended = ended_at if ended_at.tzinfo else ended_at.replace(tzinfo=UTC)
        clock_ctx = replace(ctx, clock=_Fixed(ended + timedelta(hours=2)))
        if rng.random() < 0.5:
            await closure.record_outcome(
                clock_ctx,
                nurse,
                call_id,
                {
                    "outcome": rng.choice(["managed_advice", "sent_to_ae", "admitted_direct"]),
                    "follow_up": "none",
                    "admission_judgement": "yes",
                },
                why="second look",
            )
        else:
            done = await representations.record(
                clock_ctx,
                nurse,
                call_id,
                {
                    "kind": rng.choice(["admission", "ae_attendance", "call_999", "gp_visit"]),
                    "at": (ended + timedelta(hours=1)).isoformat(),
                },
                confirmed=True,
            )
            if rng.random() < 0.3:  # undone at once: the rollup must move back exactly
                await representations.undo(clock_ctx, nurse, call_id, done.representation.id)


class _Fixed:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _utc_midnight(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def _ranges(rng: random.Random) -> list[tuple[datetime, datetime]]:
    """Ranges from UK midnight to UK midnight (the dashboard's; the rollup answers
    them), and a few from UTC midnights in summer, which only the rows can answer."""
    midnight = summary.local_midnight
    fixed = [
        (START, END),
        (midnight(date(2025, 1, 1)), midnight(date(2026, 1, 1))),
        (midnight(date(2025, 3, 30)), midnight(date(2025, 3, 31))),  # 23 hours
        (midnight(date(2025, 3, 29)), midnight(date(2025, 4, 1))),
        (midnight(date(2025, 10, 26)), midnight(date(2025, 10, 27))),  # 25 hours
        (midnight(date(2025, 10, 25)), midnight(date(2025, 10, 28))),
        (midnight(date(2025, 6, 1)), midnight(date(2025, 7, 1))),  # a BST month
        (midnight(date(2026, 6, 30)), midnight(date(2026, 7, 2))),
        (midnight(date(2026, 7, 1)), midnight(date(2026, 8, 1))),
        (midnight(date(2025, 12, 31)), midnight(date(2026, 1, 1))),
        (midnight(date(2026, 1, 1)), midnight(date(2026, 1, 2))),
        (midnight(date(2024, 1, 1)), midnight(date(2024, 2, 1))),  # nothing there
        (_utc_midnight(date(2026, 6, 30)), _utc_midnight(date(2026, 7, 2))),
        (_utc_midnight(date(2025, 6, 1)), _utc_midnight(date(2025, 10, 1))),
    ]
    days = (END - START).days
    for _ in range(25):
        first = START.date() + timedelta(days=rng.randrange(days))
        length = rng.choice([1, 2, 7, 31, 92, 200])
        fixed.append((midnight(first), midnight(first + timedelta(days=length))))
    return fixed


async def _figures(reps: RowReports, since: datetime, until: datetime) -> dict[str, Any]:
    return {
        "counts": await reps.counts(since, until, None),
        "by_home": await reps.by_home(since, until, None),
        "by_month": await reps.by_month(since, until, None),
        "hour_of_week": await reps.hour_of_week(since, until, None),
        "outcomes": await reps.breakdown("outcome", since, until, None),
        "reasons": await reps.breakdown("reason", since, until, None),
        "answer": await reps.answer_times(since, until, None, summary.ANSWER_TARGET),
        "answer_odd_target": await reps.answer_times(since, until, None, timedelta(seconds=61)),
    }


async def _compare(ctx: HubContext, ranges: list[tuple[datetime, datetime]]) -> int:
    compared = 0
    async with ctx.uow() as uow:
        rollup = uow.reports
        assert isinstance(rollup, SqlReports)
        rows = RowReports(rollup.conn, rollup.keyring)
        for since, until in ranges:
            expected = await _figures(rows, since, until)
            got = await _figures(rollup, since, until)
            for key, value in expected.items():
                assert got[key] == value, (key, since, until)
                # Dicts compare without order; the lists and mixes must also match in order.
                if isinstance(value, dict):
                    assert list(got[key].items()) == list(value.items()), (key, since, until)
            compared += expected["counts"].calls
    return compared


async def _rollup_rows(ctx: HubContext) -> dict[str, set[tuple[Any, ...]]]:
    """Every rollup row that holds a non-zero figure."""
    found = {}
    async with ctx.uow() as uow:
        conn = uow.reports.conn  # type: ignore[attr-defined]
        for table in ROLLUP_TABLES:
            figures = [col for col in table.columns if not col.primary_key]
            rows = await conn.execute(select(table).where(or_(*(f != 0 for f in figures))))
            found[table.name] = {tuple(r) for r in rows}
    return found


async def test_rollup_equals_the_rows_after_random_writes_and_a_rebuild(ctx) -> None:
    rng = random.Random(20261201)
    pairs, nurse = await _people(ctx, homes=4)
    await _seed(ctx, rng, pairs, 700)
    await _amend(ctx, rng, nurse)
    ranges = _ranges(rng)
    # The rollup answers every range that starts and ends on a UK midnight, in summer
    # (23:00 UTC) as in winter; the UTC-midnight ones in summer go to the rows.
    async with ctx.uow() as uow:
        assert isinstance(uow.reports, SqlReports)
        by_rollup = [r for r in ranges if uow.reports._days(*r, None) is not None]
    assert len(by_rollup) == len(ranges) - 2
    assert sum(1 for since, _ in by_rollup if since.hour == 23) >= 5  # BST midnights
    assert await _compare(ctx, ranges) > 1000  # the comparison covered real figures
    maintained = await _rollup_rows(ctx)
    assert maintained["report_daily_slots"]

    steps: list[tuple[int, int]] = []
    counted = await summary.rebuild_rollup(
        ctx, SYSTEM, lambda done, total: steps.append((done, total))
    )
    assert steps and steps[-1][0] == steps[-1][1]
    async with ctx.uow() as uow:
        rows = RowReports(uow.reports.conn, uow.reports.keyring)  # type: ignore[attr-defined]
        assert counted == (await rows.counts(START, END, None)).calls
    assert await _rollup_rows(ctx) == maintained


async def test_rebuild_counts_every_counted_call(ctx) -> None:
    rng = random.Random(7)
    pairs, _ = await _people(ctx, homes=2)
    await _seed(ctx, rng, pairs, 100)
    async with ctx.uow() as uow:
        counted = await uow.reports.counts(
            datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC), None
        )
    assert await summary.rebuild_rollup(ctx, SYSTEM) == counted.calls > 0


async def test_rebuild_needs_an_admin(ctx) -> None:
    from hub.errors import Forbidden

    with pytest.raises(Forbidden, match="admin"):
        await summary.rebuild_rollup(ctx, Actor("staff", 9, "M", Role.MANAGER))


async def test_a_write_rolled_back_leaves_the_rollup_alone(ctx) -> None:
    rng = random.Random(3)
    pairs, _ = await _people(ctx, homes=1)
    calls = [
        replace(_random_call(rng, pairs, START + timedelta(days=i)), state=State.ENDED)
        for i in range(5)
    ]
    async with ctx.uow() as uow:
        await uow.consultations.add_many(calls)  # no commit
    assert await _rollup_rows(ctx) == {table.name: set() for table in ROLLUP_TABLES}
    async with ctx.uow() as uow:
        assert await uow.consultations.count() == 0


async def test_simultaneous_claims_count_the_call_once(ctx) -> None:
    pairs, _ = await _people(ctx, homes=1)
    call = replace(
        _random_call(random.Random(1), pairs, START),
        state=State.WAITING,
        answered_at=None,
        ended_at=None,
        outcome=None,
    )
    async with ctx.uow() as uow:
        (call_id,) = await uow.consultations.add_many([call])
        await uow.commit()

    async def claim(i: int) -> bool:
        async with ctx.uow() as uow:
            won = await uow.consultations.transition(
                call_id,
                {State.WAITING},
                State.ANSWERED,
                answered_at=START + timedelta(seconds=i + 1),
            )
            await uow.commit()
            return won

    assert sum(await asyncio.gather(*(claim(i) for i in range(8)))) == 1
    await _compare(ctx, [(START, START + timedelta(days=1))])
    async with ctx.uow() as uow:
        assert (await uow.reports.counts(START, START + timedelta(days=1), None)).calls == 1


@pytest.mark.empty_database
async def test_migration_fills_the_rollup_from_stored_calls(settings) -> None:  # type: ignore[no-untyped-def]
    """A database with calls from before the rollup existed gets it filled on upgrade."""
    from alembic import command
    from sqlalchemy import Connection

    from hub.cipher import Keyring
    from hub.clock import FixedClock
    from hub.store.bootstrap import make_uow_factory
    from hub.store.db import create_engine
    from hub.store.migrate import alembic_config, upgrade

    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine, "0004")
        rng = random.Random(11)
        async with engine.begin() as conn:
            await conn.execute(
                insert(t.care_homes),
                [
                    {
                        "id": i,
                        "code": f"M{i}",
                        "name": f"M {i}",
                        "address": "",
                        "beds": 9,
                        "created_at": START,
                    }
                    for i in (1, 2)
                ],
            )
            numbers = nhs_numbers(2)
            await conn.execute(
                insert(t.residents),
                [
                    {
                        "id": i,
                        "home_id": i,
                        "given_name": "A",
                        "family_name": "B",
                        "date_of_birth": date(1930, 1, 1),
                        "nhs_number": numbers[i - 1],
                        "dnacpr": False,
                        "end_of_life": False,
                        "created_at": START,
                    }
                    for i in (1, 2)
                ],
            )
            rows = []
            for i in range(300):
                call = _random_call(rng, [(1, 1), (2, 2)], START + timedelta(hours=37 * i))
                rows.append(
                    {
                        "id": i + 1,
                        "home_id": call.home_id,
                        "resident_id": call.resident_id,
                        "state": call.state.value,
                        "reason": call.reason.value,
                        "soft_signs": [],
                        "observations": {},
                        "requested_at": call.requested_at,
                        "answered_at": call.answered_at,
                        "ended_at": call.ended_at,
                        "outcome": call.outcome,
                        "attributable": rng.random() < 0.5,
                        "avoided_ae": rng.random() < 0.5,
                    }
                )
            await conn.execute(insert(t.consultations), rows)
        await upgrade(engine)
        c = settings.crypto
        keyring = Keyring.from_b64(c.notes_keys, c.notes_key_id, c.audit_key)
        ctx = HubContext(make_uow_factory(engine, keyring), FixedClock(), keyring, settings)
        assert await _compare(ctx, _ranges(rng)[:12]) > 0

        def down(conn: Connection) -> None:
            command.downgrade(alembic_config(conn), "0004")

        async with engine.begin() as conn:
            await conn.run_sync(down)
            assert "report_daily_homes" not in await conn.run_sync(
                lambda c: __import__("sqlalchemy").inspect(c).get_table_names()
            )
    finally:
        await engine.dispose()


async def test_rollup_writer_adds_nothing_for_no_rows(ctx) -> None:
    async with ctx.uow() as uow:
        conn = uow.reports.conn  # type: ignore[attr-defined]
        async with ReportRollup(conn).changing(12345):
            pass
        await uow.commit()
    assert await _rollup_rows(ctx) == {table.name: set() for table in ROLLUP_TABLES}
    async with ctx.uow() as uow:
        found = await uow.reports.conn.execute(text("SELECT COUNT(*) FROM report_daily_slots"))  # type: ignore[attr-defined]
        assert found.scalar() == 0


def test_only_uk_midnights_start_a_rollup_day() -> None:
    assert _local_day(datetime(2026, 6, 30, 23, 0, tzinfo=UTC)) == date(2026, 7, 1)  # BST
    assert _local_day(datetime(2026, 7, 1, 0, 0, tzinfo=UTC)) is None  # 01:00 BST
    assert _local_day(datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == date(2026, 1, 1)  # GMT
    assert _local_day(datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)) is None
    assert _local_day(datetime(2026, 10, 24, 23, 0, tzinfo=UTC)) == date(2026, 10, 25)
    assert _local_day(datetime(2026, 10, 26, 0, 0, tzinfo=UTC)) == date(2026, 10, 26)
    assert _local_day(datetime(2026, 3, 29, 0, 0, tzinfo=UTC)) == date(2026, 3, 29)
    assert _local_day(datetime(2026, 3, 29, 23, 0, tzinfo=UTC)) == date(2026, 3, 30)


# Calls and the UK day the rollup must file them under.
ROLLUP_DAYS = {
    datetime(2026, 6, 30, 23, 30, tzinfo=UTC): date(2026, 7, 1),  # 00:30 BST
    datetime(2026, 6, 30, 22, 59, 59, 999999, tzinfo=UTC): date(2026, 6, 30),
    datetime(2026, 10, 25, 23, 30, tzinfo=UTC): date(2026, 10, 25),  # 23:30 GMT
    datetime(2026, 3, 28, 23, 30, tzinfo=UTC): date(2026, 3, 28),  # 23:30 GMT
    datetime(2026, 3, 29, 23, 30, tzinfo=UTC): date(2026, 3, 30),  # 00:30 BST
    datetime(2026, 1, 10, 12, 0, tzinfo=UTC): date(2026, 1, 10),
}


async def _days_in(conn: Any, table: Any = t.report_daily_totals) -> dict[date, int]:
    rows = await conn.execute(select(table.c.day, table.c.calls).where(table.c.calls != 0))
    return {(d if isinstance(d, date) else date.fromisoformat(d)): int(n) for d, n in rows}


def _expected_days() -> dict[date, int]:
    out: dict[date, int] = {}
    for day in ROLLUP_DAYS.values():
        out[day] = out.get(day, 0) + 1
    return out


async def test_the_rollup_keys_calls_by_uk_day_on_every_path(ctx) -> None:
    """Adding calls, the per-call upkeep around an update and a rebuild all file a call
    under its UK day."""
    pairs, _ = await _people(ctx, homes=1)
    rng = random.Random(5)
    calls = [
        replace(_random_call(rng, pairs, at), state=State.WAITING, answered_at=None)
        for at in ROLLUP_DAYS
    ]
    async with ctx.uow() as uow:
        ids = await uow.consultations.add_many(calls)  # waiting: not counted yet
        await uow.commit()
    async with ctx.uow() as uow:
        assert await _days_in(uow.reports.conn) == {}  # type: ignore[attr-defined]
    for call_id, at in zip(ids, ROLLUP_DAYS, strict=True):  # claims: changing()
        async with ctx.uow() as uow:
            assert await uow.consultations.transition(
                call_id, {State.WAITING}, State.ANSWERED, answered_at=at + FIVE_MIN
            )
            await uow.commit()
    async with ctx.uow() as uow:
        conn = uow.reports.conn  # type: ignore[attr-defined]
        assert await _days_in(conn) == _expected_days()
        assert await _days_in(conn, t.report_daily_homes) == _expected_days()
    maintained = await _rollup_rows(ctx)
    assert await summary.rebuild_rollup(ctx, SYSTEM) == len(ROLLUP_DAYS)
    assert await _rollup_rows(ctx) == maintained
    # add_many of calls already counted files them the same way.
    async with ctx.uow() as uow:
        more = [replace(call, state=State.ENDED, answered_at=call.requested_at) for call in calls]
        await uow.consultations.add_many(more)
        await uow.commit()
    async with ctx.uow() as uow:
        doubled = {day: 2 * n for day, n in _expected_days().items()}
        assert await _days_in(uow.reports.conn) == doubled  # type: ignore[attr-defined]
    await _compare(ctx, [(summary.local_midnight(date(2026, 1, 1)), END)])


@pytest.mark.empty_database
async def test_migration_0007_rekeys_the_rollup_by_uk_day(settings) -> None:  # type: ignore[no-untyped-def]
    """A database whose rollup was kept on UTC days (revision 0006) gets UK days on
    upgrade, and UTC days back on downgrade."""
    from alembic import command
    from sqlalchemy import Connection

    from hub.store.db import create_engine
    from hub.store.migrate import alembic_config, upgrade
    from hub.store.report_rollup import rebuild

    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine, "0006")
        async with engine.begin() as conn:
            await conn.execute(
                insert(t.care_homes),
                [
                    {
                        "id": 1,
                        "code": "M1",
                        "name": "M",
                        "address": "",
                        "beds": 9,
                        "created_at": START,
                    }
                ],
            )
            await conn.execute(
                insert(t.residents),
                [
                    {
                        "id": 1,
                        "home_id": 1,
                        "given_name": "A",
                        "family_name": "B",
                        "date_of_birth": date(1930, 1, 1),
                        "nhs_number": nhs_numbers(1)[0],
                        "dnacpr": False,
                        "end_of_life": False,
                        "created_at": START,
                    }
                ],
            )
            await conn.execute(
                insert(t.consultations),
                [
                    {
                        "id": i + 1,
                        "home_id": 1,
                        "resident_id": 1,
                        "state": "ended",
                        "reason": "fall",
                        "soft_signs": [],
                        "observations": {},
                        "requested_at": at,
                        "answered_at": at + FIVE_MIN,
                        "ended_at": at + 2 * FIVE_MIN,
                    }
                    for i, at in enumerate(ROLLUP_DAYS)
                ],
            )
            # The rollup as code of revision 0006 kept it: on UTC days.
            await conn.run_sync(lambda c: rebuild(c, day_zone="UTC"))
            utc_days: dict[date, int] = {}
            for at in ROLLUP_DAYS:
                utc_days[at.date()] = utc_days.get(at.date(), 0) + 1
            assert await _days_in(conn) == utc_days
        await upgrade(engine)
        async with engine.connect() as conn:
            assert await _days_in(conn) == _expected_days()
            assert await _days_in(conn, t.report_daily_homes) == _expected_days()

        def down(conn: Connection) -> None:
            command.downgrade(alembic_config(conn), "0006")

        async with engine.begin() as conn:
            await conn.run_sync(down)
        async with engine.connect() as conn:
            assert await _days_in(conn) == utc_days
    finally:
        await engine.dispose()
