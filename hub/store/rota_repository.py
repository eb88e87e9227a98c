"""SQL side of the rota: contracts, leave, requests, the weekly demand profile, stored
rotas and their shifts, and the one query routing needs (who is on shift at T)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from hub.calls.consultation import State
from hub.rostering.problem import (
    Contract,
    LeaveEntry,
    LeaveKind,
    RequestEntry,
    RotaRecord,
    RotaStatus,
    ShiftRecord,
)
from hub.store import tables as t
from hub.store.repositories import Repo, new_id
from rota.model import RequestKind


def _rota(row: RowMapping) -> RotaRecord:
    return RotaRecord(
        id=row["id"],
        start=row["start_day"],
        days=row["days"],
        pattern=row["pattern"],
        status=RotaStatus(row["status"]),
        problem=row["problem"],
        summary=row["summary"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        published_by=row["published_by"],
        published_at=row["published_at"],
    )


def _shift(row: RowMapping) -> ShiftRecord:
    return ShiftRecord(row["staff_id"], row["day"], row["shift"], row["starts_at"], row["ends_at"])


class SqlRota(Repo):
    # -- contracts, leave, requests, demand ----------------------------------------

    async def contracts(self) -> dict[int, Contract]:
        rows = await self._all(select(t.staff_contracts))
        return {
            r["staff_id"]: Contract(r["staff_id"], r["contracted_hours"], r["night_capable"])
            for r in rows
        }

    async def set_contract(self, contract: Contract, at: datetime) -> None:
        values = {
            "contracted_hours": contract.contracted_hours,
            "night_capable": contract.night_capable,
            "updated_at": at,
        }
        c = t.staff_contracts.c
        done = await self.conn.execute(
            update(t.staff_contracts).where(c.staff_id == contract.staff_id).values(**values)
        )
        if done.rowcount == 0:
            await self.conn.execute(
                insert(t.staff_contracts).values(staff_id=contract.staff_id, **values)
            )

    async def leave(self, staff_id: int | None = None) -> list[LeaveEntry]:
        c = t.staff_leave.c
        stmt = select(t.staff_leave).order_by(c.first_day, c.staff_id)
        if staff_id is not None:
            stmt = stmt.where(c.staff_id == staff_id)
        return [
            LeaveEntry(r["id"], r["staff_id"], r["first_day"], r["last_day"], LeaveKind(r["kind"]))
            for r in await self._all(stmt)
        ]

    async def add_leave(
        self, staff_id: int, first: date, last: date, kind: LeaveKind, at: datetime
    ) -> int:
        result = await self.conn.execute(
            insert(t.staff_leave).values(
                staff_id=staff_id, first_day=first, last_day=last, kind=kind.value, created_at=at
            )
        )
        return new_id(result)

    async def remove_leave(self, leave_id: int) -> LeaveEntry | None:
        found = [e for e in await self.leave() if e.id == leave_id]
        if not found:
            return None
        await self.conn.execute(delete(t.staff_leave).where(t.staff_leave.c.id == leave_id))
        return found[0]

    async def requests(self) -> list[RequestEntry]:
        c = t.staff_requests.c
        rows = await self._all(select(t.staff_requests).order_by(c.first_day, c.staff_id))
        return [
            RequestEntry(
                r["id"],
                r["staff_id"],
                RequestKind(r["kind"]),
                r["first_day"],
                r["last_day"],
                r["weight"],
                r["shift"],
            )
            for r in rows
        ]

    async def add_request(self, entry: RequestEntry, at: datetime) -> int:
        result = await self.conn.execute(
            insert(t.staff_requests).values(
                staff_id=entry.staff_id,
                kind=entry.kind.value,
                first_day=entry.first,
                last_day=entry.last,
                weight=entry.weight,
                shift=entry.shift,
                created_at=at,
            )
        )
        return new_id(result)

    async def remove_request(self, request_id: int) -> bool:
        done = await self.conn.execute(
            delete(t.staff_requests).where(t.staff_requests.c.id == request_id)
        )
        return bool(done.rowcount)

    async def demand(self) -> tuple[int, ...] | None:
        rows = await self._all(select(t.rota_demand).order_by(t.rota_demand.c.hour_of_week))
        if not rows:
            return None
        return tuple(r["needed"] for r in rows)

    async def set_demand(self, values: Sequence[int]) -> None:
        await self.conn.execute(delete(t.rota_demand))
        await self.conn.execute(
            insert(t.rota_demand),
            [{"hour_of_week": i, "needed": v} for i, v in enumerate(values)],
        )

    async def call_history(self, since: datetime, until: datetime) -> list[tuple[datetime, float]]:
        """(requested at, handling seconds) of answered calls requested in [since, until)."""
        c = t.consultations.c
        rows = await self._all(
            select(c.requested_at, c.answered_at, c.ended_at).where(
                c.requested_at >= since,
                c.requested_at < until,
                c.answered_at.is_not(None),
                c.ended_at.is_not(None),
                c.state != State.CANCELLED.value,
            )
        )
        return [
            (r["requested_at"], max(0.0, (r["ended_at"] - r["answered_at"]).total_seconds()))
            for r in rows
        ]

    # -- rotas ------------------------------------------------------------------------

    async def add_rota(self, record: RotaRecord, shifts: Sequence[ShiftRecord]) -> int:
        result = await self.conn.execute(
            insert(t.rotas).values(
                start_day=record.start,
                days=record.days,
                pattern=record.pattern,
                status=record.status.value,
                problem=dict(record.problem),
                summary=dict(record.summary),
                created_by=record.created_by,
                created_at=record.created_at,
            )
        )
        rota_id = new_id(result)
        await self.set_shifts(rota_id, shifts)
        return rota_id

    async def get(self, rota_id: int) -> RotaRecord | None:
        row = await self._one(select(t.rotas).where(t.rotas.c.id == rota_id))
        return _rota(row) if row else None

    async def recent(self, limit: int = 50) -> list[RotaRecord]:
        stmt = select(t.rotas).order_by(t.rotas.c.start_day.desc(), t.rotas.c.id.desc())
        return [_rota(r) for r in await self._all(stmt.limit(limit))]

    async def published_overlapping(self, first: date, last: date) -> list[RotaRecord]:
        c = t.rotas.c
        rows = await self._all(
            select(t.rotas).where(c.status == RotaStatus.PUBLISHED.value, c.start_day <= last)
        )
        return [r for r in map(_rota, rows) if first <= r.last]

    async def shifts(self, rota_id: int) -> list[ShiftRecord]:
        c = t.rota_shifts.c
        rows = await self._all(
            select(t.rota_shifts).where(c.rota_id == rota_id).order_by(c.day, c.staff_id)
        )
        return [_shift(r) for r in rows]

    async def set_shifts(self, rota_id: int, shifts: Sequence[ShiftRecord]) -> None:
        await self.conn.execute(delete(t.rota_shifts).where(t.rota_shifts.c.rota_id == rota_id))
        if shifts:
            await self.conn.execute(
                insert(t.rota_shifts),
                [
                    {
                        "rota_id": rota_id,
                        "staff_id": s.staff_id,
                        "day": s.day,
                        "shift": s.shift,
                        "starts_at": s.starts_at,
                        "ends_at": s.ends_at,
                    }
                    for s in shifts
                ],
            )

    async def update(self, rota_id: int, **values: Any) -> None:
        if "status" in values:
            values["status"] = RotaStatus(values["status"]).value
        await self.conn.execute(update(t.rotas).where(t.rotas.c.id == rota_id).values(**values))

    # -- routing ------------------------------------------------------------------------

    async def published_shifts_between(
        self, since: datetime, until: datetime, staff_id: int | None = None
    ) -> list[ShiftRecord]:
        """Published shifts that overlap [since, until), earliest first."""
        s, r = t.rota_shifts.c, t.rotas.c
        stmt = (
            select(t.rota_shifts)
            .join(t.rotas, r.id == s.rota_id)
            .where(
                and_(
                    r.status == RotaStatus.PUBLISHED.value,
                    s.starts_at < until,
                    s.ends_at > since,
                )
            )
            .order_by(s.starts_at, s.staff_id)
        )
        if staff_id is not None:
            stmt = stmt.where(s.staff_id == staff_id)
        return [_shift(row) for row in await self._all(stmt)]

    async def published_covering(self, day: date) -> RotaRecord | None:
        found = await self.published_overlapping(day, day)
        return found[0] if found else None
