"""Importing historical call logs from a spreadsheet (``telehub import-calls``).

Columns are documented in docs/import.md. Every row is checked first; errors name the
spreadsheet line (the header is line 1). All or nothing: one bad row and nothing is
written, unless the caller asks to skip invalid rows, in which case the good rows are
written and the bad ones reported.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from hub.access import Actor, Role, require_role
from hub.audit import AuditRecord
from hub.closure import derive
from hub.consultations import Consultation, Reason, State
from hub.context import HubContext
from hub.errors import RowErrors, ValidationError
from hub.outcomes import AdmissionJudgement, FollowUp, Intention, OutcomeCode
from hub.ports import UnitOfWork
from hub.residents import Resident, parse_nhs_number

COLUMNS = (
    "home_code",
    "nhs_number",
    "resident_name",
    "requested_at",
    "answered_at",
    "ended_at",
    "reason",
    "intention",
    "outcome",
    "follow_up",
    "admission_judgement",
)
REQUIRED = ("home_code", "requested_at", "reason")
BATCH = 5000
E = TypeVar("E", bound=StrEnum)
Progress = Callable[[int], None]


@dataclass(frozen=True)
class CallRow:
    line: int
    home_code: str
    nhs_number: str | None
    resident_name: str | None
    requested_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    reason: Reason
    intention: Intention | None
    outcome: OutcomeCode | None
    follow_up: FollowUp | None
    admission_judgement: AdmissionJudgement | None


@dataclass(frozen=True)
class ImportResult:
    imported: int
    skipped: list[tuple[int, str]]


def read_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(lines)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or not ({"nhs_number", "resident_name"} & set(header)):
        problems = []
        if missing:
            problems.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s): {', '.join(unknown)}")
        if not ({"nhs_number", "resident_name"} & set(header)):
            problems.append("give nhs_number or resident_name")
        raise RowErrors([(1, "; ".join(problems))])
    reader.fieldnames = header
    for index, raw in enumerate(reader):
        yield index + 2, {k: (v or "").strip() for k, v in raw.items() if k is not None}


def parse_row(line: int, v: dict[str, str], now: datetime) -> CallRow:
    nhs = parse_nhs_number(v["nhs_number"]) if v.get("nhs_number") else None
    name = " ".join(v.get("resident_name", "").split()) or None
    if nhs is None and name is None:
        raise ValidationError("give the resident's NHS number or name")
    requested = _when(v["requested_at"], "requested_at")
    answered = _when(v["answered_at"], "answered_at") if v.get("answered_at") else None
    ended = _when(v["ended_at"], "ended_at") if v.get("ended_at") else None
    if requested > now:
        raise ValidationError("requested_at is in the future")
    if answered and answered < requested:
        raise ValidationError("answered_at is before requested_at")
    if ended and ended < (answered or requested):
        raise ValidationError("ended_at is before the call was answered")
    outcome = _enum(OutcomeCode, v.get("outcome"), "outcome", "the coded list")
    if outcome is not None and (ended is None or answered is None):
        raise ValidationError("a call with an outcome needs answered_at and ended_at")
    return CallRow(
        line=line,
        home_code=v["home_code"].upper(),
        nhs_number=nhs,
        resident_name=name,
        requested_at=requested,
        answered_at=answered,
        ended_at=ended,
        reason=_enum(Reason, v.get("reason"), "reason", "the reasons list") or Reason.OTHER,
        intention=_enum(Intention, v.get("intention"), "intention", "the intentions list"),
        outcome=outcome,
        follow_up=_follow_up(v.get("follow_up")),
        admission_judgement=_enum(
            AdmissionJudgement,
            v.get("admission_judgement"),
            "admission_judgement",
            "yes, no, unsure",
        ),
    )


async def import_calls(
    ctx: HubContext,
    actor: Actor,
    lines: Iterable[str],
    *,
    skip_invalid: bool = False,
    on_progress: Progress | None = None,
) -> ImportResult:
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    follow_up = timedelta(hours=ctx.settings.outcomes.follow_up_hours)
    errors: list[tuple[int, str]] = []
    calls: list[Consultation] = []
    async with ctx.uow() as uow:
        homes = {h.code: h for h in await uow.homes.list()}
        by_nhs: dict[str, Resident] = {}
        by_name: dict[tuple[int, str], list[Resident]] = {}
        for each in homes.values():
            for r in await uow.residents.for_home(each.id):
                by_nhs[r.details.nhs_number] = r
                by_name.setdefault((each.id, r.display_name.lower()), []).append(r)
        seen: dict[tuple[int, datetime], int] = {}
        for line, values in read_rows(lines):
            try:
                row = parse_row(line, values, now)
                home = homes.get(row.home_code)
                if home is None:
                    raise ValidationError(f"unknown care home {row.home_code}")
                resident = by_nhs.get(row.nhs_number) if row.nhs_number else None
                if row.nhs_number and resident is None:
                    raise ValidationError(f"no resident with NHS number {row.nhs_number}")
                if resident is None and row.resident_name:
                    found = by_name.get((home.id, row.resident_name.lower()), [])
                    if len(found) != 1:
                        raise ValidationError(
                            f"{'no' if not found else 'more than one'} resident called "
                            f"{row.resident_name} at {home.code}: give the NHS number"
                        )
                    resident = found[0]
                assert resident is not None
                if resident.home_id != home.id:
                    raise ValidationError(f"resident {resident.display_name} is not at {home.code}")
                key = (resident.id, row.requested_at)
                if key in seen:
                    raise ValidationError(f"same resident and time as line {seen[key]}")
                seen[key] = line
                calls.append(_consultation(row, home.id, resident.id, follow_up))
            except ValidationError as err:
                errors.append((line, err.message))
        existing = await _already_stored(uow, calls)
        if existing:
            for call in calls:
                if (call.resident_id, call.requested_at) in existing:
                    errors.append(
                        (seen[(call.resident_id, call.requested_at)], "this call is already stored")
                    )
            calls = [c for c in calls if (c.resident_id, c.requested_at) not in existing]
        errors.sort()
        if errors and not skip_invalid:
            raise RowErrors(errors)
        for start in range(0, len(calls), BATCH):
            await uow.consultations.add_many(calls[start : start + BATCH])
            if on_progress:
                on_progress(min(len(calls), start + BATCH))
        await uow.audit.append(
            AuditRecord(
                "consultation.imported",
                actor.ref,
                "import",
                now.isoformat(),
                {"count": len(calls), "skipped": len(errors), "source": "import-calls"},
            ),
            now,
        )
        await uow.commit()
    return ImportResult(len(calls), errors)


async def _already_stored(uow: UnitOfWork, calls: list[Consultation]) -> set[tuple[int, datetime]]:
    keys = {(c.resident_id, c.requested_at) for c in calls}
    stored = await uow.consultations.request_times({r for r, _ in keys})
    return keys & stored


def _consultation(
    row: CallRow, home_id: int, resident_id: int, follow_up: timedelta
) -> Consultation:
    state = (
        State.ENDED
        if row.ended_at and row.answered_at
        else (State.CANCELLED if row.ended_at else State.ABANDONED)
    )
    call = Consultation(
        id=0,
        home_id=home_id,
        resident_id=resident_id,
        device_id=None,
        state=state,
        reason=row.reason,
        soft_signs=(),
        observations={},
        news2_score=None,
        news2_band=None,
        intention=row.intention.value if row.intention else None,
        requested_at=row.requested_at,
        answered_at=row.answered_at,
        ended_at=row.ended_at or row.requested_at,
        outcome=row.outcome.value if row.outcome else None,
        follow_up=(row.follow_up or FollowUp.NONE).value if row.outcome else None,
        admission_judgement=(row.admission_judgement or AdmissionJudgement.UNSURE).value
        if row.outcome
        else None,
        outcome_at=row.ended_at if row.outcome else None,
    )
    return replace(call, avoided=derive(call, (), follow_up))


def _follow_up(raw: str | None) -> FollowUp | None:
    value = _enum(FollowUp, raw, "follow_up", "none, home_to_call_if_worse")
    if value is FollowUp.CALL_BACK:
        raise ValidationError(
            "follow_up call_back needs a time, which imports do not carry: "
            "use none or home_to_call_if_worse"
        )
    return value


def _when(raw: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{field} {raw!r} is not a date and time like 2026-03-01T14:05:00+00:00"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _enum(enum: type[E], raw: str | None, field: str, allowed: str) -> E | None:
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        raise ValidationError(f"{field} {raw!r} is not in {allowed}") from None
