"""Importing historical call logs from a spreadsheet (``telehub import-calls``).

Columns are documented in docs/import.md. Every row is checked first; errors name the
spreadsheet line (the header is line 1) and every problem of that row. All or nothing:
one bad row and nothing is written, unless the caller asks to skip invalid rows, in
which case the good rows are written and the bad ones reported. A duplicate (a call
already stored, or a row with the same resident and time as an earlier row) is not an
error: it is skipped, counted and listed, and the rest is imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation, Reason, State
from hub.context import HubContext
from hub.errors import RowErrors, ValidationError
from hub.outcomes.avoided import avoided
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, Outcome, OutcomeCode
from hub.people.access import Actor, Role, require_role
from hub.people.plain_text import plain_name
from hub.people.residents import Resident, parse_nhs_number
from hub.ports import UnitOfWork

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
YIELD_EVERY = 100  # rows checked between chances for the batch in flight to progress
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")
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
    skipped: list[tuple[int, str]]  # bad rows (line, every problem), when skipping them
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (line, why), skipped


def plural(n: int, noun: str) -> str:
    """``1 call``, ``2 calls``, ``1 bad row``, ``3 bad rows``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def import_summary(result: ImportResult) -> str:
    """One line for people: what was imported and what was skipped."""
    words = f"Imported {plural(result.imported, 'call')}"
    if result.duplicates:
        words += f"; skipped {plural(len(result.duplicates), 'duplicate')}"
    if result.skipped:
        words += f"; skipped {plural(len(result.skipped), 'bad row')}"
    return words + "."


def read_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, column → stripped value) for each row; the header is line 1.

    Like ``csv.DictReader``: blank lines are skipped, missing cells are empty and cells
    past the header are ignored."""
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader, [])]
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
    width = len(header)
    index = 0
    for raw in reader:
        if not raw:
            continue
        if len(raw) < width:
            raw += [""] * (width - len(raw))
        index += 1
        yield index + 1, {k: v.strip() for k, v in zip(header, raw, strict=False)}


def parse_row(
    line: int, v: dict[str, str], now: datetime, nhs_numbers: dict[str, str] | None = None
) -> CallRow:
    """One spreadsheet row, checked: every problem of the row is reported, in column
    order, in one ``ValidationError`` (``; ``-separated). ``nhs_numbers`` remembers
    numbers already checked (a log names the same residents again and again)."""
    problems = _Problems()
    nhs = None
    if raw_nhs := v.get("nhs_number"):
        nhs = nhs_numbers.get(raw_nhs) if nhs_numbers is not None else None
        if nhs is None:
            nhs = problems.check(parse_nhs_number, raw_nhs)
            if nhs is not None and nhs_numbers is not None:
                nhs_numbers[raw_nhs] = nhs
    name = problems.check(
        plain_name, v.get("resident_name", ""), field="resident_name", label="resident_name"
    )
    if not v.get("nhs_number") and not v.get("resident_name"):
        problems.add("give the resident's NHS number or name")
    requested = problems.check(_when, v["requested_at"], "requested_at")
    answered = (
        problems.check(_when, v["answered_at"], "answered_at") if v.get("answered_at") else None
    )
    ended = problems.check(_when, v["ended_at"], "ended_at") if v.get("ended_at") else None
    if requested and requested > now:
        problems.add("requested_at is in the future")
    if requested and answered and answered < requested:
        problems.add("answered_at is before requested_at")
    began = answered or requested
    if ended and began and ended < began:
        problems.add("ended_at is before the call was answered")
    outcome = problems.check(_enum, OutcomeCode, v.get("outcome"), "outcome", "the coded list")
    if outcome is not None and (not v.get("ended_at") or not v.get("answered_at")):
        problems.add("a call with an outcome needs answered_at and ended_at")
    reason = problems.check(_enum, Reason, v.get("reason"), "reason", "the reasons list")
    intention = problems.check(
        _enum, Intention, v.get("intention"), "intention", "the intentions list"
    )
    follow_up = problems.check(_follow_up, v.get("follow_up"))
    judgement = problems.check(
        _enum,
        AdmissionJudgement,
        v.get("admission_judgement"),
        "admission_judgement",
        "yes, no, unsure",
    )
    problems.raise_any()
    assert requested is not None
    return CallRow(
        line=line,
        home_code=v["home_code"].upper(),
        nhs_number=nhs,
        resident_name=name or None,
        requested_at=requested,
        answered_at=answered,
        ended_at=ended,
        reason=reason or Reason.OTHER,
        intention=intention,
        outcome=outcome,
        follow_up=follow_up,
        admission_judgement=judgement,
    )


class _Problems:
    """Every problem of one row, so that all are reported at once."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def check(self, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``parse(*args, **kwargs)``, or None with its problem noted."""
        try:
            return parse(*args, **kwargs)
        except ValidationError as err:
            self.add(err.message)
            return None

    def raise_any(self) -> None:
        if self.messages:
            raise ValidationError("; ".join(self.messages))


async def import_calls(
    ctx: HubContext,
    actor: Actor,
    lines: Iterable[str],
    *,
    skip_invalid: bool = False,
    on_progress: Progress | None = None,
) -> ImportResult:
    """Check every row and store the good ones in one transaction.

    Good rows are written a batch at a time while the next batch is being checked; the
    first bad row stops the writing (unless ``skip_invalid``) and the transaction is
    rolled back after every row has been checked, so all errors are reported at once.
    """
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    follow_up = timedelta(hours=ctx.settings.outcomes.follow_up_hours)
    errors: list[tuple[int, str]] = []
    async with ctx.uow() as uow:
        homes = {h.code: h for h in await uow.homes.list()}
        by_nhs: dict[str, Resident] = {}
        by_name: dict[tuple[int, str], list[Resident]] = {}
        for each in homes.values():
            for r in await uow.residents.for_home(each.id):
                by_nhs[r.details.nhs_number] = r
                by_name.setdefault((each.id, r.display_name.lower()), []).append(r)
        seen: dict[tuple[int, datetime], int] = {}
        nhs_numbers: dict[str, str] = {}
        duplicates: list[tuple[int, str]] = []
        writer = _Writer(uow, seen, errors, duplicates, skip_invalid, on_progress)
        batch: list[Consultation] = []
        try:
            for count, (line, values) in enumerate(read_rows(lines), 1):
                try:
                    home = homes.get(values["home_code"].upper())
                    try:
                        row = parse_row(line, values, now, nhs_numbers)
                    except ValidationError as err:
                        if home is None:  # every problem of the row, the home first
                            raise ValidationError(
                                f"unknown care home {values['home_code'].upper()}; {err.message}"
                            ) from None
                        raise
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
                        raise ValidationError(
                            f"resident {resident.display_name} is not at {home.code}"
                        )
                    key = (resident.id, row.requested_at)
                    if key in seen:  # a duplicate: reported and skipped, never an error
                        duplicates.append((line, f"same resident and time as line {seen[key]}"))
                        continue
                    seen[key] = line
                    batch.append(_consultation(row, home.id, resident.id, follow_up))
                except ValidationError as err:
                    errors.append((line, err.message))
                if len(batch) == BATCH:
                    await writer.submit(batch)
                    batch = []
                elif count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # let the batch being written move on
            await writer.submit(batch)
            imported = await writer.finish()
        finally:
            await writer.abandon()
        errors.sort()
        duplicates.sort()
        if errors and not skip_invalid:
            raise RowErrors(errors)
        await uow.audit.append(
            AuditRecord(
                "consultation.imported",
                actor.ref,
                "import",
                now.isoformat(),
                {
                    "count": imported,
                    "skipped": len(errors),
                    "duplicates": len(duplicates),
                    "source": "import-calls",
                },
            ),
            now,
        )
        await uow.commit()
    return ImportResult(imported, errors, duplicates)


class _Writer:
    """Stores batches of checked calls, one at a time, behind the checking loop."""

    def __init__(
        self,
        uow: UnitOfWork,
        seen: dict[tuple[int, datetime], int],
        errors: list[tuple[int, str]],
        duplicates: list[tuple[int, str]],
        skip_invalid: bool,
        on_progress: Progress | None,
    ) -> None:
        self.uow, self.seen, self.errors, self.duplicates = uow, seen, errors, duplicates
        self.skip_invalid, self.on_progress = skip_invalid, on_progress
        self.imported = 0
        self.task: asyncio.Task[None] | None = None

    async def submit(self, batch: list[Consultation]) -> None:
        await self.finish()
        if batch:
            self.task = asyncio.create_task(self._write(batch))

    async def finish(self) -> int:
        if self.task is not None:
            task, self.task = self.task, None
            await task
        return self.imported

    async def abandon(self) -> None:
        """After a failure: stop the batch in flight before the transaction goes."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def _write(self, batch: list[Consultation]) -> None:
        existing = await _already_stored(self.uow, batch)
        if existing:
            for call in batch:
                key = (call.resident_id, call.requested_at)
                if key in existing:  # imported before: reported and skipped
                    self.duplicates.append((self.seen[key], "this call is already stored"))
            batch = [c for c in batch if (c.resident_id, c.requested_at) not in existing]
        if self.errors and not self.skip_invalid:
            return  # all or nothing: this import will be refused, write no more
        if batch:
            await self.uow.consultations.add_many(batch)
            self.imported += len(batch)
        if self.on_progress:
            self.on_progress(self.imported)


async def _already_stored(uow: UnitOfWork, calls: list[Consultation]) -> set[tuple[int, datetime]]:
    if not calls:
        return set()
    keys = {(c.resident_id, c.requested_at) for c in calls}
    times = [at for _, at in keys]
    stored = await uow.consultations.request_times(
        {r for r, _ in keys}, since=min(times), until=max(times)
    )
    return keys & stored


def _consultation(
    row: CallRow, home_id: int, resident_id: int, follow_up: timedelta
) -> Consultation:
    state = (
        State.ENDED
        if row.ended_at and row.answered_at
        else (State.CANCELLED if row.ended_at else State.ABANDONED)
    )
    ended_at = row.ended_at or row.requested_at
    outcome = None
    if row.outcome is not None:
        outcome = Outcome(
            row.outcome,
            row.follow_up or FollowUp.NONE,
            None,
            row.admission_judgement or AdmissionJudgement.UNSURE,
        )
    # What hub.calls.closure.derive would say of the stored call, without building it twice.
    result = avoided(row.intention, outcome, (), row.requested_at, ended_at, follow_up)
    return Consultation(
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
        ended_at=ended_at,
        outcome=outcome.code.value if outcome else None,
        follow_up=outcome.follow_up.value if outcome else None,
        admission_judgement=outcome.admission_judgement.value if outcome else None,
        outcome_at=row.ended_at if outcome else None,
        avoided=result,
    )


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
