"""SQL implementation of the consultation repository port (see ``hub/ports.py``).

Lifecycle changes go through ``transition``: one conditional UPDATE whose WHERE names
the states the event allows, so concurrent claims cannot both succeed.

The statements of every call event (ring, answer, cancel, the queue read that tells the
consoles) are built once, with bound parameters, and reused: building a SQLAlchemy
statement costs more than running it on SQLite (about 120 µs against 80 µs a statement,
docs/benchmarks.md "Ring latency").
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Select, Update, bindparam, func, insert, select, text, update
from sqlalchemy.engine import RowMapping

from hub.calls import news2
from hub.calls.consultation import Consultation, Reason, State
from hub.calls.news2 import Band
from hub.calls.queue import QueueEntry
from hub.outcomes.avoided import Avoided
from hub.outcomes.codes import (
    AdmissionJudgement,
    FollowUp,
    Intention,
    Outcome,
    OutcomeCode,
    Representation,
    RepresentationKind,
)
from hub.store import tables as t
from hub.store.bulk import insert_rows
from hub.store.report_rollup import (
    COUNTED,
    FLAGS_PART,
    OUTCOME_PART,
    ReportRollup,
    touches_figures,
)
from hub.store.repositories import Repo


class SqlConsultations(Repo):
    async def add(self, c: Consultation) -> int:
        if c.state.value in COUNTED:  # the rollup must be told: the path that does
            (cid,) = await self.add_many([c])
            return cid
        # A new live request (the path of every ring): one INSERT that returns its id.
        return int((await self.conn.execute(_INSERT_RETURNING_ID, _row(c))).scalar_one())

    async def add_many(self, calls: Sequence[Consultation]) -> list[int]:
        """Insert many calls in one statement (imports, demo data).

        Ids are reserved first so that the INSERT carries them and the report rollup
        can be told which rows are new. (Notes are entries: ``hub/store/note_repository``.)
        """
        if not calls:
            return []
        ids = await self._reserve_ids(len(calls))
        rows = [{"id": cid, **_row(c)} for cid, c in zip(ids, calls, strict=True)]
        await insert_rows(self.conn, t.consultations, rows)
        # The rollup counts answered calls only: a new live request (the path of every
        # ring) adds nothing to it, and skipping its upserts is most of a ring's cost
        # (docs/benchmarks.md, issue 11).
        if any(c.state.value in COUNTED for c in calls):
            times = [c.requested_at for c in calls]
            await ReportRollup(self.conn).add(ids, min(times), max(times))
        return ids

    async def _reserve_ids(self, n: int) -> list[int]:
        if self.conn.dialect.name == "postgresql":
            result = await self.conn.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence('consultations', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
            return [int(r[0]) for r in result]
        # SQLite: transactions are BEGIN IMMEDIATE, so nobody else inserts meanwhile.
        top = (await self.conn.execute(select(func.max(t.consultations.c.id)))).scalar()
        start = int(top or 0) + 1
        return list(range(start, start + n))

    def _consultation(self, r: RowMapping) -> Consultation:
        """The stored row as a typed record: codes become their enums here, once."""
        return Consultation(
            id=r["id"],
            home_id=r["home_id"],
            resident_id=r["resident_id"],
            device_id=r["device_id"],
            state=State(r["state"]),
            state_seq=r["state_seq"],
            reason=Reason(r["reason"]),
            soft_signs=tuple(r["soft_signs"]),
            observations=r["observations"],
            news2_score=r["news2_score"],
            news2_band=_enum(Band, r["news2_band"]),
            intention=_enum(Intention, r["intention"]),
            requested_at=r["requested_at"],
            answered_at=r["answered_at"],
            ended_at=r["ended_at"],
            answered_by=r["answered_by"],
            outcome=_enum(OutcomeCode, r["outcome"]),
            follow_up=_enum(FollowUp, r["follow_up"]),
            admission_judgement=_enum(AdmissionJudgement, r["admission_judgement"]),
            security_level=r["security_level"],
            call_back_at=r["call_back_at"],
            outcome_at=r["outcome_at"],
            avoided=Avoided.from_flags(r),
            outcome_deferred_at=r["outcome_deferred_at"],
            outcome_deferred_reason=r["outcome_deferred_reason"],
        )

    async def get(self, call_id: int) -> Consultation | None:
        row = await self._one(_BY_ID, {"call_id": call_id})
        return self._consultation(row) if row else None

    async def for_resident(self, resident_id: int, limit: int = 20) -> list[Consultation]:
        stmt = (
            select(t.consultations)
            .where(t.consultations.c.resident_id == resident_id)
            .order_by(t.consultations.c.requested_at.desc())
            .limit(limit)
        )
        return [self._consultation(r) for r in await self._all(stmt)]

    async def count(self) -> int:
        return int(
            (
                await self.conn.execute(select(func.count()).select_from(t.consultations))
            ).scalar_one()
        )

    async def transition(
        self, call_id: int, sources: Collection[State], target: State, **values: object
    ) -> bool:
        stmt = _transition(frozenset(sources), target, frozenset(values))
        params = {"call_id": call_id, **{f"new_{k}": v for k, v in values.items()}}
        if not touches_figures(sources, target, values):
            return (await self.conn.execute(stmt, params)).rowcount == 1
        rollup = ReportRollup(self.conn)  # keep report sums in step
        async with rollup.changing(call_id, retimed="requested_at" in values):
            result = await self.conn.execute(stmt, params)
        return result.rowcount == 1

    async def _open(self, stmt: Select[Any], key: int) -> list[Consultation]:
        return [self._consultation(r) for r in await self._all(stmt, {"key": key})]

    async def open_for_resident(self, resident_id: int) -> Consultation | None:
        found = await self._open(_OPEN_FOR_RESIDENT, resident_id)
        return found[0] if found else None

    async def open_for_device(self, device_id: int) -> Consultation | None:
        found = await self._open(_OPEN_FOR_DEVICE, device_id)
        return found[-1] if found else None

    async def open_for_clinician(self, user_id: int) -> list[Consultation]:
        return await self._open(_OPEN_FOR_CLINICIAN, user_id)

    async def queue(self) -> list[QueueEntry]:
        return [
            QueueEntry(
                call_id=row["id"],
                home_id=row["home_id"],
                home_name=row["home_name"],
                resident_id=row["resident_id"],
                resident_name=f"{row['given_name']} {row['family_name']}",
                reason=Reason(row["reason"]),
                news2_score=row["news2_score"],
                news2_band=_enum(Band, row["news2_band"]),
                news2_missing=news2.missing_from(row["observations"]),
                state=State(row["state"]),
                state_seq=row["state_seq"],
                requested_at=row["requested_at"],
                claimed_by=row["claimed_by"],
                device_id=row["device_id"],
                answered_by=row["answered_by"],
            )
            for row in await self._all(_QUEUE)
        ]

    async def touch_device(self, call_id: int, at: datetime) -> None:
        await self.conn.execute(_TOUCH_DEVICE, {"call_id": call_id, "at": at})

    async def stale_waiting(self, seen_before: datetime) -> list[Consultation]:
        c = t.consultations.c
        seen = func.coalesce(c.device_seen_at, c.requested_at)
        stmt = select(t.consultations).where(c.state == State.WAITING.value, seen < seen_before)
        return [self._consultation(r) for r in await self._all(stmt)]

    async def mean_handle_s(self, since: datetime) -> float | None:
        rows = await self._all(_RECENT_HANDLING, {"since": since})
        durations = [(r["ended_at"] - r["answered_at"]).total_seconds() for r in rows]
        return sum(durations) / len(durations) if durations else None

    async def record_outcome(self, call_id: int, outcome: Outcome, at: datetime) -> None:
        async with ReportRollup(self.conn).changing(call_id, OUTCOME_PART):  # report sums
            await self.conn.execute(
                update(t.consultations)
                .where(t.consultations.c.id == call_id)
                .values(
                    outcome=outcome.code.value,
                    follow_up=outcome.follow_up.value,
                    admission_judgement=outcome.admission_judgement.value,
                    call_back_at=outcome.call_back_at,
                    outcome_at=at,
                )
            )

    async def defer_outcome(self, call_id: int, reason: str, at: datetime) -> None:
        await self.conn.execute(
            update(t.consultations)
            .where(t.consultations.c.id == call_id)
            .values(outcome_deferred_at=at, outcome_deferred_reason=reason)
        )

    async def set_security_level(
        self, call_id: int, level: str, at: datetime, reported_by: str
    ) -> bool:
        """The call's level is now ``level``: stored on it, and the change kept. One
        conditional UPDATE, so two parties reporting the same change at once store it
        once (the second waits for the first's row lock, then matches nothing)."""
        c = t.consultations.c
        changed = await self.conn.execute(
            update(t.consultations)
            .where(c.id == call_id, c.security_level.is_distinct_from(level))
            .values(security_level=level)
        )
        if changed.rowcount != 1:
            return False
        await self.conn.execute(
            insert(t.call_security_levels).values(
                consultation_id=call_id, level=level, at=at, reported_by=reported_by
            )
        )
        return True

    async def security_changes(self, call_id: int) -> list[tuple[str, datetime, str]]:
        return (await self.security_changes_for([call_id])).get(call_id, [])

    async def security_changes_for(
        self, call_ids: Collection[int]
    ) -> dict[int, list[tuple[str, datetime, str]]]:
        # Exports read many calls: one query per 500 of them, not one per call (500
        # stays well inside SQLite's and asyncpg's limits on bound parameters).
        s = t.call_security_levels.c
        found: dict[int, list[tuple[str, datetime, str]]] = {}
        ids = list(call_ids)
        for start in range(0, len(ids), 500):
            rows = await self._all(
                select(s.consultation_id, s.level, s.at, s.reported_by)
                .where(s.consultation_id.in_(ids[start : start + 500]))
                .order_by(s.at, s.id)
            )
            for row in rows:
                found.setdefault(row["consultation_id"], []).append(
                    (row["level"], row["at"], row["reported_by"])
                )
        return found

    async def set_avoided(self, call_id: int, result: Avoided) -> None:
        async with ReportRollup(self.conn).changing(call_id, FLAGS_PART):  # report sums
            await self.conn.execute(
                update(t.consultations)
                .where(t.consultations.c.id == call_id)
                .values(**result.flags())
            )

    async def representations(self, call_id: int) -> list[Representation]:
        r = t.representations.c
        rows = await self._all(
            select(t.representations)
            .where(r.consultation_id == call_id, r.undone_at.is_(None))  # undone: not counted
            .order_by(r.at)
        )
        return [Representation(RepresentationKind(row["kind"]), row["at"]) for row in rows]

    async def census(self) -> tuple[dict[State, int], datetime | None]:
        """Open calls by state, and when the longest-waiting unanswered one was asked for
        (operators' metrics: two indexed queries, no resident data)."""
        c = t.consultations.c
        rows = await self._all(
            select(c.state, func.count().label("n"))
            .where(c.state.in_(_OPEN_STATES))
            .group_by(c.state)
        )
        oldest = await self._one(
            select(func.min(c.requested_at).label("at")).where(
                c.state.in_([State.REQUESTED.value, State.WAITING.value])
            )
        )
        at = oldest["at"] if oldest is not None else None  # min() keeps the column's type
        return {State(r["state"]): int(r["n"]) for r in rows}, at

    async def awaiting_outcome(self, user_id: int) -> list[Consultation]:
        return [self._consultation(r) for r in await self._all(_AWAITING_OUTCOME, {"key": user_id})]

    async def in_range(
        self, since: datetime, until: datetime, home_id: int | None
    ) -> list[Consultation]:
        c = t.consultations.c
        stmt = (
            select(t.consultations)
            .where(c.requested_at >= since, c.requested_at < until)
            .order_by(c.requested_at)
        )
        if home_id is not None:
            stmt = stmt.where(c.home_id == home_id)
        return [self._consultation(r) for r in await self._all(stmt)]

    async def request_times(
        self,
        resident_ids: Collection[int],
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> set[tuple[int, datetime]]:
        ids = list(resident_ids)
        found: set[tuple[int, datetime]] = set()
        within = []  # only calls requested in [since, until], when given
        if since is not None:
            within.append(c_.requested_at >= since)
        if until is not None:
            within.append(c_.requested_at <= until)
        for start in range(0, len(ids), 500):
            rows = await self.conn.execute(
                select(c_.resident_id, c_.requested_at).where(
                    c_.resident_id.in_(ids[start : start + 500]), *within
                )
            )
            found.update((int(r), _utc(at)) for r, at in rows)
        return found

    async def last_call_by_resident(self, resident_ids: Collection[int]) -> dict[int, datetime]:
        c = t.consultations.c
        ids = list(resident_ids)
        if not ids:
            return {}
        rows = await self.conn.execute(
            select(c.resident_id, func.max(c.requested_at))
            .where(c.resident_id.in_(ids))
            .group_by(c.resident_id)
        )
        return {int(rid): _utc(at) for rid, at in rows}


def _utc(value: datetime) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive text-parsed values.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_E = TypeVar("_E", bound=StrEnum)


def _enum(enum: type[_E], value: str | None) -> _E | None:
    """A stored code as its enum (None stays None)."""
    return None if value is None else enum(value)


def _code(value: StrEnum | None) -> str | None:
    """An enum as the code stored for it."""
    return None if value is None else value.value


c_ = t.consultations.c

_OPEN_STATES = [s.value for s in (State.REQUESTED, State.WAITING, State.ANSWERED, State.IN_CALL)]

# The statements of every call event, built once (see the module docstring).
_INSERT_RETURNING_ID = insert(t.consultations).returning(c_.id)
_BY_ID = select(t.consultations).where(c_.id == bindparam("call_id"))
_OPEN = select(t.consultations).where(c_.state.in_(_OPEN_STATES)).order_by(c_.requested_at)
_OPEN_FOR_RESIDENT = _OPEN.where(c_.resident_id == bindparam("key"))
_OPEN_FOR_DEVICE = _OPEN.where(c_.device_id == bindparam("key"))
_OPEN_FOR_CLINICIAN = _OPEN.where(c_.answered_by == bindparam("key"))
_TOUCH_DEVICE = (
    update(t.consultations)
    .where(c_.id == bindparam("call_id"))
    .values(device_seen_at=bindparam("at"))
)
_RECENT_HANDLING = (  # read on every call event: index ix_consultations_state_ended
    select(c_.answered_at, c_.ended_at)
    .where(
        c_.state == State.ENDED.value,
        c_.ended_at >= bindparam("since"),
        c_.answered_at.is_not(None),
    )
    .order_by(c_.ended_at.desc())
    .limit(200)
)
_AWAITING_OUTCOME = (  # read before every answer: index ix_consultations_awaiting_outcome
    select(t.consultations)
    .where(c_.answered_by == bindparam("key"), c_.state == State.ENDED.value, c_.outcome.is_(None))
    .order_by(c_.ended_at)
)
_QUEUE = (
    select(
        c_.id,
        c_.home_id,
        t.care_homes.c.name.label("home_name"),
        c_.resident_id,
        t.residents.c.given_name,
        t.residents.c.family_name,
        c_.reason,
        c_.news2_score,
        c_.news2_band,
        c_.observations,
        c_.state,
        c_.state_seq,
        c_.requested_at,
        c_.device_id,
        c_.answered_by,
        t.staff_users.c.display_name.label("claimed_by"),
    )
    .join(t.care_homes, t.care_homes.c.id == c_.home_id)
    .join(t.residents, t.residents.c.id == c_.resident_id)
    .outerjoin(t.staff_users, t.staff_users.c.id == c_.answered_by)
    .where(c_.state.in_(_OPEN_STATES))
)


@functools.cache
def _transition(sources: frozenset[State], target: State, columns: frozenset[str]) -> Update:
    """The conditional UPDATE of one kind of lifecycle change (its sources, target and
    the columns it sets), built the first time that kind happens. Parameters:
    ``call_id`` and ``new_<column>`` for each column set."""
    return (
        update(t.consultations)
        .where(c_.id == bindparam("call_id"), c_.state.in_(sorted(s.value for s in sources)))
        .values(
            state=target.value,
            state_seq=c_.state_seq + 1,
            **{k: bindparam(f"new_{k}") for k in sorted(columns)},
        )
    )


def _row(c: Consultation) -> dict[str, Any]:
    """A call as the columns of its ``consultations`` row, all but its id."""
    return {
        "home_id": c.home_id,
        "resident_id": c.resident_id,
        "device_id": c.device_id,
        "state": c.state.value,
        "reason": c.reason.value,
        "soft_signs": list(c.soft_signs),
        "observations": dict(c.observations),
        "news2_score": c.news2_score,
        "news2_band": _code(c.news2_band),
        "intention": _code(c.intention),
        "requested_at": c.requested_at,
        "answered_at": c.answered_at,
        "ended_at": c.ended_at,
        "answered_by": c.answered_by,
        "outcome": _code(c.outcome),
        "follow_up": _code(c.follow_up),
        "admission_judgement": _code(c.admission_judgement),
        "security_level": c.security_level,
        "device_seen_at": None,
        "call_back_at": c.call_back_at,
        "outcome_at": c.outcome_at,
        **(c.avoided or Avoided(attributable=False)).flags(),
    }
