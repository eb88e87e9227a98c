"""Who is on shift now, and the cover gaps of the hours ahead.

Routing asks ``on_shift_at``; the manager banner asks ``cover_gaps``. Both read the
published rotas only. A moment no published rota covers is "no rota in force": routing
then lets every clinician answer (there is nobody else to route to) and the banner says
so, because an unplanned hub is itself a cover gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.context import HubContext
from hub.people.access import Actor, Role, require_role
from hub.people.staff import StaffUser
from hub.rostering.problem import TIMEZONE, RotaRecord, ShiftRecord
from rota.model import Problem
from rota.problem_io import parse_problem


@dataclass(frozen=True)
class OnShift:
    """The moment's cover: ``in_force`` when a published rota covers it; ``staff`` maps
    each on-shift clinician's id to their skills."""

    at: datetime
    in_force: bool
    staff: Mapping[int, frozenset[str]]

    def has(self, user_id: int) -> bool:
        return user_id in self.staff

    def with_skill(self, skill: str | None) -> list[int]:
        return [u for u, skills in self.staff.items() if skill is None or skill in skills]


async def on_shift_at(ctx: HubContext, at: datetime) -> OnShift:
    local_day = at.astimezone(ZoneInfo(TIMEZONE)).date()
    async with ctx.uow() as uow:
        shifts = await uow.rota.published_shifts_between(at, at + timedelta(microseconds=1))
        in_force = await uow.rota.published_covering(local_day) is not None
        # A night shift of yesterday's rota still counts as the rota in force.
        in_force = in_force or bool(shifts)
        # Every claim asks: read the staff only when someone is on shift.
        users = {u.id: u for u in await uow.staff.list()} if shifts else {}
    staff = {
        s.staff_id: frozenset(k.value for k in users[s.staff_id].skills)
        for s in shifts
        if s.staff_id in users and users[s.staff_id].active
    }
    return OnShift(at, in_force, staff)


@dataclass(frozen=True)
class Gap:
    """One hour (local start) short of cover: ``needed``/``on_duty`` clinicians, or a
    missing skill, or no published rota at all."""

    start: datetime
    kind: str  # "no_rota" | "short" | "skill"
    needed: int = 0
    on_duty: int = 0
    skill: str | None = None

    @property
    def message(self) -> str:
        when = self.start.strftime("%a %d %b %H:00")
        if self.kind == "no_rota":
            return f"{when}: no published rota"
        if self.kind == "skill":
            return f"{when}: no {(self.skill or '').replace('_', ' ')} on duty"
        return f"{when}: {self.on_duty} of {self.needed} clinicians on duty"


def _needed(problem: Problem, rota: RotaRecord, local_start: datetime) -> int:
    index = (local_start.date() - rota.start).days * 24 + local_start.hour
    hourly = problem.demand.hourly
    return hourly[index] if 0 <= index < len(hourly) else 0


async def cover_gaps(ctx: HubContext, actor: Actor, hours: int | None = None) -> list[Gap]:
    """Hours from now until ``hours`` ahead (default ``rota.gap_banner_hours``) whose
    published cover falls short of the rota's demand or skill rules."""
    require_role(actor, Role.MANAGER, Role.ADMIN)
    span = hours if hours is not None else ctx.settings.rota.gap_banner_hours
    zone = ZoneInfo(TIMEZONE)
    now = ctx.clock.now().astimezone(UTC)
    first = now.replace(minute=0, second=0, microsecond=0)
    until = first + timedelta(hours=span)
    async with ctx.uow() as uow:
        shifts = await uow.rota.published_shifts_between(first, until)
        first_day = first.astimezone(zone).date()
        rotas = await uow.rota.published_overlapping(first_day, until.astimezone(zone).date())
        users = {u.id: u for u in await uow.staff.list() if u.active}
    problems = {r.id: parse_problem(r.problem) for r in rotas}
    gaps: list[Gap] = []
    hour = first
    while hour < until:
        local = hour.astimezone(zone)
        rota = next((r for r in rotas if r.covers(local.date())), None)
        if rota is None:
            gaps.append(Gap(local, "no_rota"))
        else:
            gaps.extend(_hour_gaps(problems[rota.id], rota, local, hour, shifts, users))
        hour += timedelta(hours=1)
    return gaps


def _hour_gaps(
    problem: Problem,
    rota: RotaRecord,
    local: datetime,
    hour: datetime,
    shifts: list[ShiftRecord],
    users: Mapping[int, StaffUser],
) -> list[Gap]:
    on = [
        users[s.staff_id] for s in shifts if s.starts_at <= hour < s.ends_at and s.staff_id in users
    ]
    needed = _needed(problem, rota, local)
    out: list[Gap] = []
    if len(on) < needed:
        out.append(Gap(local, "short", needed, len(on)))
    for cover in problem.rules.skill_cover:
        if cover.from_hour <= local.hour < cover.to_hour:
            have = sum(1 for u in on if cover.skill in {k.value for k in u.skills})
            if have < cover.minimum:
                out.append(Gap(local, "skill", cover.minimum, have, cover.skill))
    return out
