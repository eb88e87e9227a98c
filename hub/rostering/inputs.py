"""What a rota lead keeps between rotas: contracts, leave, requests and demand.

Only hub managers and admins (not care-home managers) lead the rota; a clinician may
add and withdraw their own requests. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.audit.trail import AuditRecord
from hub.context import HubContext
from hub.errors import Forbidden, NotFound, ValidationError
from hub.people.access import Actor, Role, require_role
from hub.people.staff import StaffUser
from hub.ports import UnitOfWork
from hub.rostering.problem import (
    TIMEZONE,
    Contract,
    LeaveEntry,
    LeaveKind,
    RequestEntry,
    default_week_demand,
    overlapping_leave,
    validate_contract,
    validate_demand,
    validate_period,
    validate_request,
)
from rota.errors import RotaInputError
from rota.forecast import Forecast, forecast
from rota.model import RequestKind


def require_lead(actor: Actor) -> None:
    """Rota leads are hub managers (no home of their own) and admins."""
    require_role(actor, Role.MANAGER, Role.ADMIN)
    if actor.home_id is not None:
        raise Forbidden("the hub rota is led by hub managers, not care-home managers")


def shift_names(ctx: HubContext) -> list[str]:
    """Every shift name of the hub's patterns (built-in and configured), in order: the
    shifts a preferred-shift request may name."""
    patterns = ctx.settings.rota.patterns.values()
    return list(dict.fromkeys(s.name for shifts in patterns for s in shifts))


@dataclass(frozen=True)
class Roster:
    clinicians: list[StaffUser]
    contracts: dict[int, Contract]
    leave: list[LeaveEntry]
    requests: list[RequestEntry]
    demand: tuple[int, ...]
    demand_is_default: bool


async def roster(ctx: HubContext, actor: Actor) -> Roster:
    require_lead(actor)
    async with ctx.uow() as uow:
        users = await uow.staff.list()
        stored = await uow.rota.demand()
        return Roster(
            [u for u in users if u.role is Role.CLINICIAN],
            await uow.rota.contracts(),
            await uow.rota.leave(),
            await uow.rota.requests(),
            stored or default_week_demand(),
            stored is None,
        )


async def _clinician(uow: UnitOfWork, staff_id: int) -> StaffUser:
    user = await uow.staff.get(staff_id)
    if user is None or user.role is not Role.CLINICIAN:
        raise NotFound(f"no clinician with id {staff_id}")
    return user


async def _audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    subject_id: int,
    at: datetime,
    detail: dict[str, Any],
) -> None:
    await uow.audit.append(AuditRecord(action, actor.ref, "staff", str(subject_id), detail), at)


async def set_contract(
    ctx: HubContext, actor: Actor, staff_id: int, hours: float, night_capable: bool
) -> Contract:
    require_lead(actor)
    validate_contract(hours, night_capable)
    now = ctx.clock.now()
    contract = Contract(staff_id, round(hours, 2), night_capable)
    async with ctx.uow() as uow:
        await _clinician(uow, staff_id)
        await uow.rota.set_contract(contract, now)
        await _audit(
            uow,
            actor,
            "rota.contract",
            staff_id,
            now,
            {"hours": contract.contracted_hours, "night_capable": night_capable},
        )
        await uow.commit()
    return contract


async def add_leave(
    ctx: HubContext, actor: Actor, staff_id: int, first: date, last: date, kind: LeaveKind
) -> int:
    require_lead(actor)
    validate_period(first, last, "leave")
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        user = await _clinician(uow, staff_id)
        clash = overlapping_leave(await uow.rota.leave(staff_id), first, last)
        if clash is not None:
            raise ValidationError(
                f"{user.display_name} already has {clash.kind.value} leave "
                f"{clash.first}–{clash.last}, which overlaps {first}–{last}"
            )
        leave_id = await uow.rota.add_leave(staff_id, first, last, kind, now)
        await _audit(
            uow,
            actor,
            "rota.leave.add",
            staff_id,
            now,
            {"first": first.isoformat(), "last": last.isoformat(), "kind": kind.value},
        )
        await uow.commit()
    return leave_id


async def remove_leave(ctx: HubContext, actor: Actor, leave_id: int) -> None:
    require_lead(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        gone = await uow.rota.remove_leave(leave_id)
        if gone is None:
            raise NotFound(f"no leave entry {leave_id}")
        await _audit(
            uow,
            actor,
            "rota.leave.remove",
            gone.staff_id,
            now,
            {"first": gone.first.isoformat(), "last": gone.last.isoformat()},
        )
        await uow.commit()


def _may_request_for(actor: Actor, staff_id: int) -> None:
    if actor.kind == "staff" and actor.role is Role.CLINICIAN and actor.id == staff_id:
        return
    require_lead(actor)


async def add_request(
    ctx: HubContext,
    actor: Actor,
    staff_id: int,
    kind: RequestKind,
    first: date,
    last: date,
    weight: int,
    shift: str | None,
) -> int:
    _may_request_for(actor, staff_id)
    validate_period(first, last, "request")
    shift = shift or None
    validate_request(kind, weight, shift, shift_names(ctx))
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await _clinician(uow, staff_id)
        entry = RequestEntry(0, staff_id, kind, first, last, weight, shift)
        request_id = await uow.rota.add_request(entry, now)
        await _audit(
            uow,
            actor,
            "rota.request.add",
            staff_id,
            now,
            {
                "kind": kind.value,
                "first": first.isoformat(),
                "last": last.isoformat(),
                "weight": weight,
                "shift": shift,
            },
        )
        await uow.commit()
    return request_id


async def remove_request(ctx: HubContext, actor: Actor, request_id: int) -> None:
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        found = next((r for r in await uow.rota.requests() if r.id == request_id), None)
        if found is None:
            raise NotFound(f"no request {request_id}")
        _may_request_for(actor, found.staff_id)
        await uow.rota.remove_request(request_id)
        await _audit(uow, actor, "rota.request.remove", found.staff_id, now, {"id": request_id})
        await uow.commit()


async def own_requests(ctx: HubContext, actor: Actor) -> list[RequestEntry]:
    async with ctx.uow() as uow:
        return [r for r in await uow.rota.requests() if r.staff_id == actor.id]


async def set_demand(ctx: HubContext, actor: Actor, values: list[int]) -> None:
    require_lead(actor)
    week = validate_demand(values)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        await uow.rota.set_demand(week)
        await uow.audit.append(
            AuditRecord("rota.demand", actor.ref, "rota", "demand", {"total": sum(week)}), now
        )
        await uow.commit()


async def forecast_demand(ctx: HubContext, actor: Actor, before: date) -> Forecast:
    """Clinicians needed per hour of week from the ``rota.forecast_weeks`` weeks of
    answered calls before ``before`` (Erlang C at the configured service level)."""
    require_lead(actor)
    settings = ctx.settings.rota
    zone = ZoneInfo(TIMEZONE)
    until = datetime.combine(before, time(), tzinfo=zone)
    since = until - timedelta(weeks=settings.forecast_weeks)
    async with ctx.uow() as uow:
        calls = await uow.rota.call_history(since, until)
    if not calls:
        raise ValidationError(
            f"no answered calls in the {settings.forecast_weeks} weeks before {before}: "
            "set demand by hand instead"
        )
    try:
        return forecast(
            calls,
            level=settings.service_level_pct / 100,
            target_s=settings.answer_target_s,
            minimum=1,
            timezone=TIMEZONE,
        )
    except (RotaInputError, ValueError) as e:
        raise ValidationError(str(e)) from None
