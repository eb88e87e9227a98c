"""Importing historical call logs (``telehub import-calls`` and the admin import page).

The service takes a ``CallLog``: rows already read from the file by the edge that owns
its format (the CSV format, documented in docs/import.md, is ``web.calls.call_log``),
each a typed ``CallRow`` or a ``BadRow`` with the problems found reading it. Here every
row is checked against what is stored; errors name the spreadsheet line (the header is
line 1) and every problem of that row. All or nothing: one bad row and nothing is
written, unless the caller asks to skip invalid rows, in which case the good rows are
written and the bad ones reported. A duplicate (a call already stored, or a row with the
same resident and time as an earlier row) is not an error: it is skipped, counted and
listed, and the rest is imported.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation, Reason, State
from hub.context import HubContext
from hub.errors import RowErrors, ValidationError
from hub.outcomes.avoided import avoided
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, Outcome, OutcomeCode
from hub.people.access import Actor, Role, require_role
from hub.people.residents import Resident
from hub.ports import UnitOfWork

BATCH = 5000
YIELD_EVERY = 100  # rows checked between chances for the batch in flight to progress
Progress = Callable[[int], None]


@dataclass(frozen=True)
class CallRow:
    """One call of a log, read and checked on its own (not yet against what is stored)."""

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
class BadRow:
    """A row the log could not read: every problem of it, in column order."""

    line: int
    home_code: str  # as written, upper-cased: an unknown home is named before the problems
    problems: str


class CallLog(Protocol):
    """A call log as the edge that owns its format reads it (``web.calls.call_log``)."""

    def rows(self, now: datetime) -> Iterable[CallRow | BadRow]:
        """Every row in file order, read lazily; ``now`` is the time of the import (a
        call requested after it is a bad row). Raises ``RowErrors`` for a log that
        cannot be read at all (a header without the columns needed, as line 1)."""
        ...


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


async def import_calls(
    ctx: HubContext,
    actor: Actor,
    log: CallLog,
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
        duplicates: list[tuple[int, str]] = []
        writer = _Writer(uow, seen, errors, duplicates, skip_invalid, on_progress)
        batch: list[Consultation] = []
        try:
            for count, row in enumerate(log.rows(now), 1):
                line = row.line
                try:
                    home = homes.get(row.home_code)
                    if isinstance(row, BadRow):
                        if home is None:  # every problem of the row, the home first
                            raise ValidationError(
                                f"unknown care home {row.home_code}; {row.problems}"
                            )
                        raise ValidationError(row.problems)
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
        intention=row.intention,
        requested_at=row.requested_at,
        answered_at=row.answered_at,
        ended_at=ended_at,
        outcome=outcome.code if outcome else None,
        follow_up=outcome.follow_up if outcome else None,
        admission_judgement=outcome.admission_judgement if outcome else None,
        outcome_at=row.ended_at if outcome else None,
        avoided=result,
    )
