"""The CSV call-log format (docs/import.md): its columns, and each row read into a
checked ``hub.calls.imports.CallRow``.

This is the edge half of ``telehub import-calls`` and the admin import page: the hub's
``import_calls`` takes the rows this module reads (``CsvCallLog`` is its ``CallLog``)
and checks them against what is stored. Lines are numbered as in a spreadsheet, the
header being line 1. A header without the columns needed is refused as line 1 before
any row is read; a row that cannot be read becomes a ``BadRow`` with every problem of
the row, in column order, so that all of them are reported at once.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from hub.calls.consultation import Reason
from hub.calls.imports import BadRow, CallRow
from hub.errors import RowErrors, ValidationError
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, OutcomeCode
from hub.people.plain_text import plain_name
from hub.people.residents import parse_nhs_number

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
NOT_UTF8 = "the file is not UTF-8 text (save it as CSV UTF-8 and import it again)"
E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


class CsvCallLog:
    """A call log as CSV text, read lazily a line at a time (files of millions of rows)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = lines

    def rows(self, now: datetime) -> Iterator[CallRow | BadRow]:
        """Every data row, checked: a ``CallRow``, or a ``BadRow`` with its problems.
        Raises ``RowErrors`` (line 1) when the header lacks a column needed."""
        nhs_numbers: dict[str, str] = {}  # a log names the same residents again and again
        for line, values in read_rows(self.lines):
            try:
                yield parse_row(line, values, now, nhs_numbers)
            except ValidationError as err:
                yield BadRow(line, values["home_code"].upper(), err.message)


def read_rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, column → stripped value) for each row; the header is line 1.

    Like ``csv.DictReader``: blank lines are skipped, missing cells are empty and cells
    past the header are ignored."""
    reader = csv.reader(lines)
    header = [h.strip() for h in next(_readable(reader, 1), [])]
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
    for raw in _readable(reader, 2):
        if not raw:
            continue
        if len(raw) < width:
            raw += [""] * (width - len(raw))
        index += 1
        yield index + 1, {k: v.strip() for k, v in zip(header, raw, strict=False)}


def _readable(reader: Iterator[list[str]], line: int) -> Iterator[list[str]]:
    """The reader's rows, ``line`` being the number of the next non-blank one. A file
    it cannot read is refused as ``RowErrors``, not a crash: a cell past the CSV
    reader's size limit (usually a quote left open, which runs on to the end of the
    file) at the row it stopped on; text that is not UTF-8 (from the CLI, which does not
    check first) as the whole file, line 1."""
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            problem = str(err)
            if "field limit" in problem:
                limit = csv.field_size_limit()
                problem = f"a cell is longer than {limit:,} characters: is a quote mark left open?"
            raise RowErrors([(line, f"cannot read this row as CSV: {problem}")]) from None
        except UnicodeDecodeError:
            raise RowErrors([(1, NOT_UTF8)]) from None
        line += 1 if raw else 0
        yield raw


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
    # A log is history: a later time is a typo (and 9999-12-31 would overflow the
    # follow-up window that the import adds to the end of the call).
    if answered and answered > now:
        problems.add("answered_at is in the future")
    if ended and ended > now:
        problems.add("ended_at is in the future")
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
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first datetime in UTC
        raise ValidationError(f"{field} {raw!r} is outside the range of dates") from None


def _enum(enum: type[E], raw: str | None, field: str, allowed: str) -> E | None:
    if not raw:
        return None
    try:
        return enum(raw)
    except ValueError:
        raise ValidationError(f"{field} {raw!r} is not in {allowed}") from None
