"""Bulk inserts (``hub.store.bulk``) store exactly what SQLAlchemy's INSERT stores, and
stay inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import Text, cast, func, insert, select

from hub.calls.consultation import Consultation, Reason, State
from hub.calls.news2 import Band
from hub.outcomes.avoided import Avoided
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, OutcomeCode
from hub.people.access import SYSTEM
from hub.people.admin import add_resident
from hub.people.residents import ResidentDetails
from hub.store import tables as t
from hub.store.bulk import insert_rows


def _call(home_id: int, resident_id: int, at: datetime) -> Consultation:
    return Consultation(
        id=0,
        home_id=home_id,
        resident_id=resident_id,
        device_id=None,
        state=State.ENDED,
        reason=Reason.FALL,
        soft_signs=("breathing_changed", "not_eating"),
        observations={"spo2": 91, "respiration_rate": 26},
        news2_score=5,
        news2_band=Band.MEDIUM,
        intention=Intention.AE,
        requested_at=at,
        answered_at=at + timedelta(seconds=61, microseconds=7),
        ended_at=at + timedelta(minutes=14),
        outcome=OutcomeCode.MANAGED_ADVICE,
        follow_up=FollowUp.NONE,
        admission_judgement=AdmissionJudgement.YES,
        avoided=Avoided(True, ae_attendance=True),
    )


async def test_add_many_round_trips_every_field(ctx, clock, home) -> None:
    resident = await add_resident(
        ctx,
        SYSTEM,
        home.id,
        ResidentDetails.parse(
            given_name="Edna",
            family_name="Smith",
            date_of_birth="1931-04-02",
            nhs_number="9434765919",
            today=clock.now().date(),
        ),
    )
    bst = timezone(timedelta(hours=1))
    calls = [
        _call(home.id, resident.id, datetime(2026, 7, 1, 9, 30, 0, 123456, tzinfo=bst)),
        _call(home.id, resident.id, datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),
    ]
    async with ctx.uow() as uow:
        ids = await uow.consultations.add_many(calls)
        await uow.commit()
    async with ctx.uow() as uow:
        for cid, sent in zip(ids, calls, strict=True):
            got = await uow.consultations.get(cid)
            assert got is not None
            assert got.requested_at == sent.requested_at and got.requested_at.tzinfo == UTC
            assert (got.answered_at, got.ended_at) == (sent.answered_at, sent.ended_at)
            assert got.soft_signs == sent.soft_signs and got.observations == sent.observations
            assert (got.state, got.reason) == (sent.state, sent.reason)
            assert (got.outcome, got.news2_score) == (sent.outcome, sent.news2_score)
            # Typed as they were sent, the avoided flags included (read back, not derived).
            assert (got.news2_band, got.intention) == (Band.MEDIUM, Intention.AE)
            assert got.follow_up is FollowUp.NONE
            assert got.admission_judgement is AdmissionJudgement.YES
            assert got.avoided == sent.avoided


async def test_bulk_rows_are_stored_as_sqlalchemy_stores_them(ctx, home, engine) -> None:  # type: ignore[no-untyped-def]
    at = datetime(2026, 3, 29, 1, 0, 0, 500, tzinfo=UTC)
    row = {
        "code": "X1",
        "name": "Same",
        "address": "",
        "beds": 3,
        "created_at": at,
    }
    async with engine.begin() as conn:
        await insert_rows(conn, t.care_homes, [{"id": 901, **row}])
        await conn.execute(insert(t.care_homes).values(id=902, **{**row, "code": "X2"}))
    raw = t.care_homes.c
    async with engine.connect() as conn:
        stored = (
            await conn.execute(
                select(raw.id, cast(raw.created_at, Text))
                .where(raw.id.in_([901, 902]))
                .order_by(raw.id)
            )
        ).all()
    assert stored[0][1] == stored[1][1]  # the same text / timestamp, to the microsecond


async def test_bulk_insert_rolls_back_with_its_transaction(ctx, engine) -> None:  # type: ignore[no-untyped-def]
    row = {"id": 903, "code": "X3", "name": "Gone", "address": "", "beds": 3}
    async with engine.connect() as conn:
        await conn.begin()
        await insert_rows(conn, t.care_homes, [{**row, "created_at": datetime.now(UTC)}])
        await conn.rollback()
    async with engine.connect() as conn:
        found = await conn.execute(select(func.count()).where(t.care_homes.c.id == 903))
        assert found.scalar() == 0
