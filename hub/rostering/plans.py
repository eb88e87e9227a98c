"""Rotas: generate (CP-SAT, in a worker thread), view, edit by hand, publish, withdraw,
and repair after sickness; and each clinician's own shifts.

A draft may break hard rules while a rota lead works on it — every broken rule is
shown at once — but it cannot be published until none is broken. A published rota is
a promise: a hand edit that would break a rule is refused, and sickness re-solves only
the affected days with every other published shift frozen (``rota.repair``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from hub.audit.trail import AuditRecord
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.people.access import Actor
from hub.people.staff import StaffUser
from hub.ports import UnitOfWork
from hub.rostering.inputs import require_lead
from hub.rostering.problem import (
    LeaveKind,
    RotaRecord,
    RotaStatus,
    ShiftRecord,
    assignments_of,
    build_problem,
    default_week_demand,
    shift_records,
)
from rota.errors import RotaError
from rota.model import Assignment, Problem, Score, Solution, Violation
from rota.problem_io import dump_problem, parse_problem
from rota.rules import check
from rota.score import score
from rota.solution_io import dump_solution

if TYPE_CHECKING:
    from hub.settings import RotaSettings
    from rota.repair import Repaired
    from rota.solver import Progress

# OR-Tools (CP-SAT, with pandas) takes about half a second to import: it is loaded by
# the first solve, not by every process that serves pages (rota.solver, rota.repair).
ProgressFn = Callable[["Progress"], None]


def _solve(
    problem: Problem,
    limit_s: float,
    workers: int,
    seed: int,
    on_progress: ProgressFn | None,
    stop: threading.Event | None,
) -> Solution:
    """``rota.solver.solve``, imported here, on the worker thread that solves: the first
    solve's half second of imports does not hold up the event loop."""
    from rota.solver import solve

    return solve(problem, limit_s, workers, seed, on_progress, stop=stop)


def _repair_sickness(
    problem: Problem,
    published: Sequence[Assignment],
    staff: str,
    first: date,
    last: date,
    settings: RotaSettings,
    on_progress: ProgressFn | None,
    stop: threading.Event | None,
) -> Repaired:
    """``rota.repair.repair_sickness``, imported on the worker thread that calls it."""
    from rota.repair import repair_sickness

    return repair_sickness(
        problem,
        published,
        staff,
        first,
        last,
        time_limit_s=float(settings.time_limit_s),
        workers=settings.workers,
        seed=settings.seed,
        on_progress=on_progress,
        stop=stop,
    )


class RotaRulesBroken(Conflict):
    """A change that would leave a published rota breaking hard rules."""

    def __init__(self, message: str, violations: list[Violation]) -> None:
        super().__init__(message)
        self.violations = violations


@dataclass(frozen=True)
class RotaView:
    record: RotaRecord
    problem: Problem
    shifts: list[ShiftRecord]
    violations: list[Violation]
    score: Score
    names: dict[str, str]  # staff id (as in the problem) → display name

    @property
    def assignments(self) -> tuple[Assignment, ...]:
        return assignments_of(self.shifts)


def _summary(solution: Solution) -> dict[str, Any]:
    out = dump_solution(solution)
    out.pop("assignments", None)
    return out


def _edited_summary(
    previous: Any, problem: Problem, chosen: tuple[Assignment, ...]
) -> dict[str, Any]:
    result = score(problem, chosen)
    summary = dict(previous)
    summary.update(
        status="edited",
        objective=result.total,
        score={"total": result.total, "by_rule": result.by_rule()},
        uncovered=sum(u.short for u in result.uncovered),
    )
    return summary


async def prepare(ctx: HubContext, actor: Actor, start: date, days: int, pattern: str) -> Problem:
    """The problem a rota for this period would solve, from what is stored now."""
    require_lead(actor)
    async with ctx.uow() as uow:
        return build_problem(
            ctx.settings.rota,
            start,
            days,
            pattern,
            await uow.staff.list(),
            await uow.rota.contracts(),
            await uow.rota.leave(),
            await uow.rota.requests(),
            await uow.rota.demand() or default_week_demand(),
        )


async def generate(
    ctx: HubContext,
    actor: Actor,
    start: date,
    days: int,
    pattern: str,
    *,
    time_limit_s: float | None = None,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> RotaRecord:
    """Solve a rota for the period and store it as a draft. The solver runs in a worker
    thread so the hub keeps serving calls; ``on_progress`` is called from that thread,
    and setting ``stop`` ends the search early (nothing is stored)."""
    problem = await prepare(ctx, actor, start, days, pattern)
    settings = ctx.settings.rota
    limit = float(time_limit_s if time_limit_s is not None else settings.time_limit_s)
    if not 1 <= limit <= 600:
        raise ValidationError("the time limit must be between 1 and 600 seconds", field="limit")
    try:
        solution = await asyncio.to_thread(
            _solve, problem, limit, settings.workers, settings.seed, on_progress, stop
        )
    except RotaError as e:
        raise ValidationError(e.message) from None
    now = ctx.clock.now()
    record = RotaRecord(
        0,
        start,
        days,
        pattern,
        RotaStatus.DRAFT,
        dump_problem(problem),
        _summary(solution),
        actor.id,
        now,
    )
    async with ctx.uow() as uow:
        rota_id = await uow.rota.add_rota(record, shift_records(problem, solution.assignments))
        await _audit(
            uow,
            actor,
            "rota.generate",
            rota_id,
            now,
            {
                "start": start.isoformat(),
                "days": days,
                "pattern": pattern,
                "status": solution.status.value,
                "objective": solution.objective,
            },
        )
        stored = await uow.rota.get(rota_id)
        await uow.commit()
    assert stored is not None
    return stored


async def _audit(
    uow: UnitOfWork, actor: Actor, action: str, rota_id: int, at: datetime, detail: dict[str, Any]
) -> None:
    await uow.audit.append(AuditRecord(action, actor.ref, "rota", str(rota_id), detail), at)


async def _record(uow: UnitOfWork, rota_id: int) -> RotaRecord:
    record = await uow.rota.get(rota_id)
    if record is None:
        raise NotFound(f"no rota {rota_id}")
    return record


async def list_rotas(ctx: HubContext, actor: Actor) -> list[RotaRecord]:
    require_lead(actor)
    async with ctx.uow() as uow:
        return await uow.rota.recent()


async def staff_names(ctx: HubContext, actor: Actor) -> dict[int, str]:
    """Every member of staff's display name by id (who made or published a rota)."""
    require_lead(actor)
    async with ctx.uow() as uow:
        return {u.id: u.display_name for u in await uow.staff.list()}


def _names(users: list[StaffUser]) -> dict[str, str]:
    return {str(u.id): u.display_name for u in users}


async def view(ctx: HubContext, actor: Actor, rota_id: int) -> RotaView:
    require_lead(actor)
    async with ctx.uow() as uow:
        record = await _record(uow, rota_id)
        shifts = await uow.rota.shifts(rota_id)
        users = await uow.staff.list()
    problem = parse_problem(record.problem)
    chosen = assignments_of(shifts)
    return RotaView(
        record, problem, shifts, check(problem, chosen), score(problem, chosen), _names(users)
    )


@dataclass(frozen=True)
class CellEdit:
    """One cell of the grid: ``staff_id``'s shift on ``day`` (None: no shift)."""

    staff_id: int
    day: date
    shift: str | None


async def edit(
    ctx: HubContext, actor: Actor, rota_id: int, edits: Sequence[CellEdit]
) -> list[Violation]:
    """Apply hand edits together, as one change, and return every hard rule the rota
    then breaks. A draft keeps the change and shows what it breaks; a published rota
    refuses a change that would break anything, and then nothing changes. Together
    matters: swapping two people's shifts is often legal only as a pair (each half
    alone leaves an hour without a senior), and a change is never half-saved."""
    require_lead(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        record = await _record(uow, rota_id)
        if record.status is RotaStatus.WITHDRAWN:
            raise Conflict("this rota was withdrawn; generate or copy a new one")
        problem = parse_problem(record.problem)
        _check_edits(record, problem, edits)
        cells = {(str(e.staff_id), e.day): e.shift for e in edits}
        kept = [
            a
            for a in assignments_of(await uow.rota.shifts(rota_id))
            if (a.staff, a.day) not in cells
        ]
        added = [Assignment(sid, day, shift) for (sid, day), shift in cells.items() if shift]
        chosen = tuple(sorted([*kept, *added]))
        broken = check(problem, chosen)
        if broken and record.status is RotaStatus.PUBLISHED:
            raise RotaRulesBroken(
                f"the published rota would break {len(broken)} hard rule(s); not changed",
                broken,
            )
        await uow.rota.set_shifts(rota_id, shift_records(problem, chosen))
        await uow.rota.update(rota_id, summary=_edited_summary(record.summary, problem, chosen))
        changes = [{"staff": e.staff_id, "day": e.day.isoformat(), "shift": e.shift} for e in edits]
        detail = {"changes": changes, "violations": len(broken)}
        await _audit(uow, actor, "rota.edit", rota_id, now, detail)
        await uow.commit()
    return broken


def _check_edits(record: RotaRecord, problem: Problem, edits: Sequence[CellEdit]) -> None:
    if not edits:
        raise ValidationError("no change to save")
    staff = {s.id for s in problem.staff}
    shifts = {s.name for s in problem.shifts}
    seen: set[tuple[int, date]] = set()
    for e in edits:
        if str(e.staff_id) not in staff:
            raise ValidationError(f"staff {e.staff_id} is not on this rota", field="staff")
        if not record.covers(e.day):
            raise ValidationError(f"{e.day} is outside the rota ({record.start}–{record.last})")
        if e.shift is not None and e.shift not in shifts:
            raise ValidationError(f"unknown shift {e.shift!r} for the {record.pattern} pattern")
        if (e.staff_id, e.day) in seen:
            raise ValidationError(f"staff {e.staff_id} on {e.day} is changed twice")
        seen.add((e.staff_id, e.day))


async def publish(ctx: HubContext, actor: Actor, rota_id: int) -> RotaRecord:
    require_lead(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        record = await _record(uow, rota_id)
        if record.status is not RotaStatus.DRAFT:
            raise Conflict(f"rota {rota_id} is {record.status.value}, not a draft")
        problem = parse_problem(record.problem)
        broken = check(problem, assignments_of(await uow.rota.shifts(rota_id)))
        if broken:
            raise RotaRulesBroken(
                f"rota {rota_id} breaks {len(broken)} hard rule(s); fix them before publishing",
                broken,
            )
        clash = await uow.rota.published_overlapping(record.start, record.last)
        if clash:
            other = clash[0]
            raise Conflict(
                f"published rota {other.id} already covers {other.start}–{other.last}; "
                "withdraw it first"
            )
        await uow.rota.update(
            rota_id, status=RotaStatus.PUBLISHED, published_by=actor.id, published_at=now
        )
        await _audit(uow, actor, "rota.publish", rota_id, now, {})
        stored = await _record(uow, rota_id)
        await uow.commit()
    return stored


async def withdraw(ctx: HubContext, actor: Actor, rota_id: int) -> None:
    require_lead(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        record = await _record(uow, rota_id)
        if record.status is RotaStatus.WITHDRAWN:
            return
        await uow.rota.update(rota_id, status=RotaStatus.WITHDRAWN)
        await _audit(uow, actor, "rota.withdraw", rota_id, now, {"was": record.status.value})
        await uow.commit()


@dataclass(frozen=True)
class SicknessHandled:
    view: RotaView
    days: tuple[date, ...]  # re-solved: the sick days, widened if they alone could not hold
    changed: int  # assignments added or removed (as in the audit's changed_shifts)


async def report_sickness(
    ctx: HubContext,
    actor: Actor,
    rota_id: int,
    staff_id: int,
    first: date,
    last: date,
    *,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> SicknessHandled:
    """Record sickness as leave and re-solve only the affected days of a published rota,
    every other published shift frozen (a day more on each side only if those alone
    cannot be covered within the rules: ``rota.repair``)."""
    require_lead(actor)
    async with ctx.uow() as uow:
        record = await _record(uow, rota_id)
        published = assignments_of(await uow.rota.shifts(rota_id))
    if record.status is not RotaStatus.PUBLISHED:
        raise Conflict("sickness is handled on a published rota; edit a draft by hand")
    problem = parse_problem(record.problem)
    try:
        sick, solution, days = await asyncio.to_thread(
            _repair_sickness,
            problem,
            published,
            str(staff_id),
            first,
            last,
            ctx.settings.rota,
            on_progress,
            stop,
        )
    except RotaError as e:
        raise ValidationError(e.message) from None
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        current = await _record(uow, rota_id)
        if current.status is not RotaStatus.PUBLISHED:
            raise Conflict("the rota was withdrawn while sickness was being handled")
        await uow.rota.set_shifts(rota_id, shift_records(sick, solution.assignments))
        await uow.rota.update(rota_id, problem=dump_problem(sick), summary=_summary(solution))
        clash = [e for e in await uow.rota.leave(staff_id) if e.first <= last and first <= e.last]
        if not clash:
            await uow.rota.add_leave(staff_id, first, last, LeaveKind.SICK, now)
        changed = sorted(set(solution.assignments) ^ set(published))
        await _audit(
            uow,
            actor,
            "rota.sickness",
            rota_id,
            now,
            {
                "staff": staff_id,
                "first": first.isoformat(),
                "last": last.isoformat(),
                "changed_shifts": len(changed),
                "resolved_days": [d.isoformat() for d in days],
            },
        )
        await uow.commit()
    return SicknessHandled(await view(ctx, actor, rota_id), days, len(changed))


async def my_shifts(
    ctx: HubContext, actor: Actor, since: datetime, until: datetime
) -> list[ShiftRecord]:
    """A clinician's own published shifts (a rota lead may ask for anyone's)."""
    if actor.kind != "staff":
        raise Forbidden("shifts belong to staff")
    async with ctx.uow() as uow:
        return await uow.rota.published_shifts_between(since, until, actor.id)
