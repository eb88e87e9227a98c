"""The JSON formats of docs/rota.md: problem in, solution out.

Parsing validates everything that can be judged from the input alone and raises one
error type, ``RotaInputError``, whose message names the field; whether the hard rules
can all hold together is a separate question (``rota.feasibility``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rota.errors import RotaInputError
from rota.jsonfields import Obj, read_json
from rota.model import (
    Demand,
    Leave,
    Problem,
    Request,
    RequestKind,
    RuleParams,
    ShiftType,
    SkillCover,
    Staff,
    Weights,
)
from rota.patterns import PATTERNS
from rota.solution_io import (
    dump_assignments,
    dump_solution,
    dump_violations,
    load_assignments,
    parse_assignments,
)

__all__ = [
    "RotaInputError",
    "dump_assignments",
    "dump_problem",
    "dump_solution",
    "dump_violations",
    "load_assignments",
    "load_problem",
    "parse_assignments",
    "parse_problem",
    "parse_shifts",
]

MAX_DAYS = 366
# Written by ``telehub rota forecast`` beside ``hour_of_week``; kept for the reader, unused.
FORECAST_NOTES = (
    "arrivals_per_hour",
    "mean_handling_s",
    "service_level",
    "answer_within_s",
    "weeks_of_history",
)
_RULE_INTS = {f.name for f in fields(RuleParams)} - {"skill_cover", "max_avg_weekly_hours"}
_RULE_INTS -= {"full_time_hours"}


def load_problem(path: Path) -> Problem:
    return parse_problem(read_json(path))


def parse_problem(data: Any) -> Problem:
    top = Obj(
        data,
        "",
        {
            "period",
            "timezone",
            "staff",
            "shifts",
            "demand",
            "leave",
            "requests",
            "rules",
            "weights",
        },
    )
    period = Obj(top.raw("period"), "period", {"start", "days"})
    start = period.day("start")
    days = period.integer("days", hi=10**6)
    if days < 1:
        raise RotaInputError(f"period.days: must be at least 1 (got {days})")
    if days > MAX_DAYS:
        raise RotaInputError(f"period.days: at most {MAX_DAYS} days (got {days})")
    timezone = top.string("timezone", "Europe/London")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as err:  # "Europe" is a folder
        raise RotaInputError(f"timezone: unknown time zone {timezone!r}") from err
    rules = _rules(top.value.get("rules", {}))
    staff = _staff(top.array("staff"), rules)
    shifts = _shifts(top.raw("shifts"))
    by_id = {s.id for s in staff}
    leave = _leave(top.array("leave", required=False), by_id)
    requests = _requests(top.array("requests", required=False), by_id, {s.name for s in shifts})
    demand = _demand(top.raw("demand"), start, days, staff)
    return Problem(
        start=start,
        days=days,
        staff=staff,
        shifts=shifts,
        demand=demand,
        leave=leave,
        requests=requests,
        rules=rules,
        weights=_weights(top.value.get("weights", {})),
        timezone=timezone,
    )


def _staff(items: list[Any], rules: RuleParams) -> tuple[Staff, ...]:
    out: list[Staff] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"staff[{i}]"
        o = Obj(item, path, {"id", "name", "skills", "fte", "contracted_hours", "night_capable"})
        sid = o.string("id")
        if sid in seen:
            raise RotaInputError(f"{path}.id: duplicate staff id {sid!r}")
        seen.add(sid)
        if o.has("fte") == o.has("contracted_hours"):
            raise RotaInputError(f"{path}: give exactly one of fte or contracted_hours")
        if o.has("fte"):
            fte = o.number("fte", hi=2.0)
            hours = fte * rules.full_time_hours
            if hours > 168:  # stored as contracted_hours, which must read back
                raise RotaInputError(
                    f"{path}.fte: {fte:g} × rules.full_time_hours ({rules.full_time_hours:g}) "
                    f"is {hours:g} hours a week, more than the 168 in a week"
                )
        else:
            hours = o.number("contracted_hours", hi=168.0)
        skills = o.array("skills", required=False)
        for j, skill in enumerate(skills):
            if not isinstance(skill, str) or not skill.strip():
                raise RotaInputError(f"{path}.skills[{j}]: expected a non-empty string")
        out.append(
            Staff(
                id=sid,
                contracted_hours=hours,
                skills=frozenset(skills),
                night_capable=o.boolean("night_capable", True),
                name=o.text("name"),
            )
        )
    return tuple(out)


def _shifts(items: Any) -> tuple[ShiftType, ...]:
    if isinstance(items, str):
        if items not in PATTERNS:
            known = ", ".join(sorted(PATTERNS))
            raise RotaInputError(f"shifts: unknown pattern {items!r} (known: {known})")
        return PATTERNS[items]
    if not isinstance(items, list):
        raise RotaInputError("shifts: expected a list of shifts or a pattern name")
    return parse_shifts(items)


def parse_shifts(items: Any, path: str = "shifts") -> tuple[ShiftType, ...]:
    """A list of ``{name, start, hours}`` shifts (start ``"HH:00"`` or an hour 0–23,
    1–24 hours, unique names), as in a problem's ``shifts`` or a pattern in config;
    errors name ``path[i].field``."""
    if not isinstance(items, list):
        raise RotaInputError(f"{path}: expected a list of shifts")
    if not items:
        raise RotaInputError(f"{path}: at least one shift type is needed")
    out: list[ShiftType] = []
    for i, item in enumerate(items):
        at = f"{path}[{i}]"
        o = Obj(item, at, {"name", "start", "hours"})
        name = o.string("name")
        if any(s.name == name for s in out):
            raise RotaInputError(f"{at}.name: duplicate shift name {name!r}")
        hours = o.integer("hours", lo=-(10**6), hi=10**6)
        if not 1 <= hours <= 24:
            raise RotaInputError(f"{at}.hours: a shift lasts 1 to 24 hours (got {hours})")
        out.append(ShiftType(name, o.hour("start"), hours))
    return tuple(out)


def _leave(items: list[Any], staff_ids: set[str]) -> tuple[Leave, ...]:
    out: list[tuple[int, Leave]] = []
    for i, item in enumerate(items):
        path = f"leave[{i}]"
        o = Obj(item, path, {"staff", "from", "to", "kind"})
        sid = _known_staff(o, staff_ids)
        first, last = o.day("from"), o.day("to")
        if last < first:
            raise RotaInputError(f"{path}: 'to' ({last}) is before 'from' ({first})")
        for j, other in out:
            if other.staff == sid and other.first <= last and first <= other.last:
                raise RotaInputError(
                    f"{path}: leave for {sid!r} ({first}..{last}) overlaps leave[{j}] "
                    f"({other.first}..{other.last}); merge them into one entry"
                )
        out.append((i, Leave(sid, first, last, o.string("kind", "annual"))))
    return tuple(leave for _, leave in out)


def _requests(items: list[Any], staff_ids: set[str], shifts: set[str]) -> tuple[Request, ...]:
    out: list[Request] = []
    kinds = ", ".join(k.value for k in RequestKind)
    for i, item in enumerate(items):
        path = f"requests[{i}]"
        o = Obj(item, path, {"staff", "kind", "date", "from", "to", "shift", "weight"})
        sid = _known_staff(o, staff_ids)
        try:
            kind = RequestKind(o.string("kind"))
        except ValueError as err:
            raise RotaInputError(f"{path}.kind: expected one of {kinds}") from err
        if o.has("date") == (o.has("from") or o.has("to")):
            raise RotaInputError(f"{path}: give either date, or from and to")
        first, last = (o.day("date"),) * 2 if o.has("date") else (o.day("from"), o.day("to"))
        if last < first:
            raise RotaInputError(f"{path}: 'to' ({last}) is before 'from' ({first})")
        shift = None
        if kind is RequestKind.SHIFT:
            shift = o.string("shift")
            if shift not in shifts:
                raise RotaInputError(f"{path}.shift: unknown shift {shift!r}")
        elif o.has("shift"):
            raise RotaInputError(f"{path}.shift: only a 'shift' request names a shift")
        weight = o.integer("weight", 1, lo=1, hi=100)
        out.append(Request(sid, kind, first, last, weight, shift))
    return tuple(out)


def _known_staff(o: Obj, staff_ids: set[str]) -> str:
    sid = o.string("staff")
    if sid not in staff_ids:
        raise RotaInputError(f"{o.at('staff')}: unknown staff id {sid!r}")
    return sid


def _profile(value: Any, path: str, start: date, days: int) -> tuple[int, ...]:
    o = Obj(value, path, {"hourly", "hour_of_week"})
    if o.has("hourly") == o.has("hour_of_week"):
        raise RotaInputError(f"{path}: give exactly one of hourly or hour_of_week")
    if o.has("hourly"):
        return o.ints("hourly", 24 * days)
    week = o.ints("hour_of_week", 168)
    offset = start.weekday() * 24
    return tuple(week[(offset + h) % 168] for h in range(24 * days))


def _demand(value: Any, start: date, days: int, staff: tuple[Staff, ...]) -> Demand:
    o = Obj(value, "demand", {"hourly", "hour_of_week", "by_skill", *FORECAST_NOTES})
    profile = {k: v for k, v in o.value.items() if k in ("hourly", "hour_of_week")}
    hourly = _profile(profile, "demand", start, days)
    by_skill: dict[str, tuple[int, ...]] = {}
    raw = o.value.get("by_skill") or {}
    if not isinstance(raw, dict):
        raise RotaInputError("demand.by_skill: expected an object of skill → demand")
    held = {skill for s in staff for skill in s.skills}
    for skill, profile in raw.items():
        path = f"demand.by_skill.{skill}"
        if skill not in held:
            raise RotaInputError(f"{path}: no staff member has skill {skill!r}")
        by_skill[skill] = _profile(profile, path, start, days)
    return Demand(hourly, by_skill)


def _rules(value: Any) -> RuleParams:
    names = {f.name for f in fields(RuleParams)}
    o = Obj(value, "rules", names)
    d = RuleParams()
    kwargs: dict[str, Any] = {}
    for name in _RULE_INTS:
        hi = 23 if name.startswith("night_window") else 24 * 366
        kwargs[name] = o.integer(name, getattr(d, name), hi=hi)
    kwargs["max_avg_weekly_hours"] = o.number(
        "max_avg_weekly_hours", d.max_avg_weekly_hours, 0, 168
    )
    kwargs["full_time_hours"] = o.number("full_time_hours", d.full_time_hours, 1, 168)
    if kwargs["weekly_rest_window_days"] < 1:
        raise RotaInputError("rules.weekly_rest_window_days: must be at least 1 (got 0)")
    if o.has("skill_cover"):
        covers: list[SkillCover] = []
        for i, item in enumerate(o.array("skill_cover")):
            path = f"rules.skill_cover[{i}]"
            c = Obj(item, path, {"skill", "from", "to", "min"})
            lo, hi = c.hour("from"), c.hour("to", hi=24)
            if hi <= lo:
                raise RotaInputError(f"{path}: 'to' ({hi}:00) must be after 'from' ({lo}:00)")
            covers.append(SkillCover(c.string("skill"), lo, hi, c.integer("min", 1, lo=1)))
        kwargs["skill_cover"] = tuple(covers)
    return RuleParams(**kwargs)


def _weights(value: Any) -> Weights:
    names = {f.name for f in fields(Weights)}
    o = Obj(value, "weights", names)
    d = Weights()
    return Weights(**{n: o.integer(n, getattr(d, n), hi=10**6) for n in names})


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def dump_problem(problem: Problem) -> dict[str, Any]:
    """The canonical JSON of a problem (``parse_problem(dump_problem(p)) == p``)."""
    rules: dict[str, Any] = {k: v for k, v in asdict(problem.rules).items() if k != "skill_cover"}
    rules["skill_cover"] = [
        {"skill": c.skill, "from": c.from_hour, "to": c.to_hour, "min": c.minimum}
        for c in problem.rules.skill_cover
    ]
    demand: dict[str, Any] = {"hourly": list(problem.demand.hourly)}
    if problem.demand.by_skill:
        demand["by_skill"] = {k: {"hourly": list(v)} for k, v in problem.demand.by_skill.items()}
    return {
        "period": {"start": problem.start.isoformat(), "days": problem.days},
        "timezone": problem.timezone,
        "staff": [
            {
                "id": s.id,
                "name": s.name,
                "skills": sorted(s.skills),
                "contracted_hours": s.contracted_hours,
                "night_capable": s.night_capable,
            }
            for s in problem.staff
        ],
        "shifts": [
            {"name": s.name, "start": f"{s.start_hour:02d}:00", "hours": s.hours}
            for s in problem.shifts
        ],
        "demand": demand,
        "leave": [
            {"staff": x.staff, "from": _iso(x.first), "to": _iso(x.last), "kind": x.kind}
            for x in problem.leave
        ],
        "requests": [_dump_request(r) for r in problem.requests],
        "rules": rules,
        "weights": asdict(problem.weights),
    }


def _dump_request(r: Request) -> Mapping[str, Any]:
    out: dict[str, Any] = {"staff": r.staff, "kind": r.kind.value}
    out |= (
        {"date": _iso(r.first)}
        if r.first == r.last
        else {"from": _iso(r.first), "to": _iso(r.last)}
    )
    if r.shift is not None:
        out["shift"] = r.shift
    out["weight"] = r.weight
    return out
