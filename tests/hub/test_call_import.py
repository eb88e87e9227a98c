"""Importing call logs: all or nothing, line-numbered errors, --skip-invalid.

The logs are written as CSV and read by the edge's reader (``web.calls.call_log``, whose
own tests are tests/web/test_call_log.py), so the messages checked here are the ones
people see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from hub.calls import imports
from hub.calls.imports import ImportResult, import_calls, import_summary
from hub.errors import RowErrors
from hub.outcomes.tariffs import load_tariffs
from hub.people.access import SYSTEM
from hub.reports.summary import ReportQuery, build
from tests.hub.test_calls import edna
from web.calls.call_log import CsvCallLog

HEADER = (
    "home_code,nhs_number,resident_name,requested_at,answered_at,ended_at,reason,"
    "intention,outcome,follow_up,admission_judgement\n"
)
GOOD = (
    "AB123,9434765919,,2026-02-01T10:00:00Z,2026-02-01T10:03:00Z,2026-02-01T10:20:00Z,"
    "fall,call_999,managed_advice,none,yes\n"
    "AB123,,Edna Smith,2026-02-02T22:00:00+00:00,2026-02-02T22:06:00+00:00,"
    "2026-02-02T22:30:00+00:00,breathing,ae,sent_to_ae,none,no\n"
)


def log(text: str) -> CsvCallLog:
    """The call log of CSV ``text``, read a line at a time like a file."""
    return CsvCallLog(text.splitlines(keepends=True))


def hourly_rows(home_code: str, nhs_numbers: Sequence[str], start: datetime, n: int) -> str:
    """``n`` good rows (no header) from one home, an hour apart from ``start``, taking
    the residents in turn: answered after 3 min, ended after 25, A&E avoided."""
    rows = []
    for i in range(n):
        at = start + timedelta(hours=i)
        answered, ended = at + timedelta(minutes=3), at + timedelta(minutes=25)
        rows.append(
            f"{home_code},{nhs_numbers[i % len(nhs_numbers)]},,{at.isoformat()},"
            f"{answered.isoformat()},{ended.isoformat()},fall,ae,managed_advice,none,no\n"
        )
    return "".join(rows)


async def test_good_file_is_imported_with_avoided_events(ctx, clock, home) -> None:
    await edna(ctx, clock, home)
    result = await import_calls(ctx, SYSTEM, log(HEADER + GOOD))
    assert result.imported == 2 and result.skipped == []
    report = await build(ctx, SYSTEM, ReportQuery.parse("2026-02-01", "2026-02-28"), load_tariffs())
    assert report.counts.calls == 2
    assert (report.counts.ae_attendance, report.counts.call_999, report.counts.admission) == (
        1,
        1,
        1,
    )
    assert report.answer.p50_s == pytest.approx(180)


async def test_bad_rows_are_line_numbered_and_nothing_is_written(ctx, clock, home) -> None:
    await edna(ctx, clock, home)
    bad = (
        HEADER
        + GOOD
        + (
            "ZZZ99,9434765919,,2026-02-03T10:00:00Z,,,fall,,,,\n"
            "AB123,9434765918,,2026-02-03T11:00:00Z,,,fall,,,,\n"
            "AB123,9434765919,,03/02/2026 12:00,,,fall,,,,\n"
            "AB123,9434765919,,2026-02-01T10:00:00Z,,,fall,,,,\n"
            "AB123,9434765919,,2026-02-04T10:00:00Z,2026-02-04T09:00:00Z,,fall,,,,\n"
            "AB123,9434765919,,2026-02-05T10:00:00Z,2026-02-05T10:01:00Z,2026-02-05T10:09:00Z,"
            "fall,,cured,,\n"
        )
    )
    with pytest.raises(RowErrors) as err:
        await import_calls(ctx, SYSTEM, log(bad))
    assert err.value.errors == [  # line 7 repeats line 2: a duplicate, not an error
        (4, "unknown care home ZZZ99"),
        (5, "NHS number 9434765918 fails its modulus-11 check digit"),
        (
            6,
            "requested_at '03/02/2026 12:00' is not a date and time like 2026-03-01T14:05:00+00:00",
        ),
        (8, "answered_at is before requested_at"),
        (9, "outcome 'cured' is not in the coded list"),
    ]
    async with ctx.uow() as uow:
        assert await uow.consultations.count() == 0


async def test_skip_invalid_keeps_the_good_rows(ctx, clock, home) -> None:
    await edna(ctx, clock, home)
    text = HEADER + GOOD + "AB123,9434765918,,2026-02-03T11:00:00Z,,,fall,,,,\n"
    result = await import_calls(ctx, SYSTEM, log(text), skip_invalid=True)
    assert result.imported == 2 and [line for line, _ in result.skipped] == [4]
    again = await import_calls(ctx, SYSTEM, log(HEADER + GOOD), skip_invalid=True)
    assert again.imported == 0 and again.skipped == []
    assert {m for _, m in again.duplicates} == {"this call is already stored"}


MORE = "".join(
    f"AB123,9434765919,,2026-02-{day:02d}T08:00:00Z,2026-02-{day:02d}T08:02:00Z,"
    f"2026-02-{day:02d}T08:20:00Z,fall,ae,managed_advice,none,yes\n"
    for day in range(3, 12)
)


async def test_a_bad_row_after_written_batches_still_imports_nothing(
    ctx, clock, home, monkeypatch
) -> None:

    monkeypatch.setattr(imports, "BATCH", 2)  # good rows are written while checking
    await edna(ctx, clock, home)
    bad = HEADER + GOOD + MORE + "AB123,9434765918,,2026-02-20T11:00:00Z,,,fall,,,,\n"
    with pytest.raises(RowErrors) as err:
        await import_calls(ctx, SYSTEM, log(bad))
    assert [line for line, _ in err.value.errors] == [13]
    async with ctx.uow() as uow:
        assert await uow.consultations.count() == 0
    report = await build(ctx, SYSTEM, ReportQuery.parse("2026-02-01", "2026-02-28"), load_tariffs())
    assert report.counts.calls == 0  # the rollup went back with the rows


async def test_batches_with_progress_skip_and_already_stored(ctx, clock, home, monkeypatch) -> None:

    monkeypatch.setattr(imports, "BATCH", 3)
    await edna(ctx, clock, home)
    first = await import_calls(ctx, SYSTEM, log(HEADER + GOOD))
    assert first.imported == 2
    seen: list[int] = []
    text = HEADER + MORE + GOOD + "AB123,9434765918,,2026-02-20T11:00:00Z,,,fall,,,,\n"
    result = await import_calls(ctx, SYSTEM, log(text), skip_invalid=True, on_progress=seen.append)
    assert result.imported == 9
    assert result.skipped == [(13, "NHS number 9434765918 fails its modulus-11 check digit")]
    assert result.duplicates == [
        (11, "this call is already stored"),
        (12, "this call is already stored"),
    ]
    assert seen == sorted(seen) and seen[-1] == 9
    report = await build(ctx, SYSTEM, ReportQuery.parse("2026-02-01", "2026-02-28"), load_tariffs())
    assert report.counts.calls == 11 and report.counts.ae_attendance == 10


def test_imported_avoided_events_are_what_closure_derives() -> None:
    """The import derives avoided events without building each call twice: the same
    answer as ``hub.calls.closure.derive`` on the stored call, for every combination."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta
    from itertools import product

    from hub.calls.closure import derive
    from hub.calls.consultation import Reason
    from hub.calls.imports import CallRow, _consultation
    from hub.outcomes.codes import AdmissionJudgement, Intention, OutcomeCode

    at = datetime(2026, 2, 1, 10, tzinfo=UTC)
    window = timedelta(hours=72)
    for intention, outcome, judgement in product(
        [None, *Intention], [None, *OutcomeCode], [None, *AdmissionJudgement]
    ):
        row = CallRow(
            line=2,
            home_code="AB123",
            nhs_number="9434765919",
            resident_name=None,
            requested_at=at,
            answered_at=at + timedelta(minutes=3),
            ended_at=at + timedelta(minutes=20),
            reason=Reason.FALL,
            intention=intention,
            outcome=outcome,
            follow_up=None,
            admission_judgement=judgement,
        )
        call = _consultation(row, 1, 1, window)
        assert call.avoided == derive(replace(call, avoided=None), (), window)


# -- issue 10, item 12: duplicates are skipped and counted; every problem of a row -----


async def test_an_overlapping_log_imports_the_new_calls_and_skips_the_old(ctx, clock, home) -> None:
    """Without --skip-invalid: calls already stored are not bad rows."""
    await edna(ctx, clock, home)
    first = await import_calls(ctx, SYSTEM, log(HEADER + GOOD))
    assert first.imported == 2
    overlap = HEADER + GOOD + MORE  # the same two calls again, and nine new ones
    result = await import_calls(ctx, SYSTEM, log(overlap))
    assert result.imported == 9 and result.skipped == []
    assert result.duplicates == [
        (2, "this call is already stored"),
        (3, "this call is already stored"),
    ]
    assert import_summary(result) == "Imported 9 calls; skipped 2 duplicates."
    async with ctx.uow() as uow:
        assert await uow.consultations.count() == 11
        (event,) = await uow.audit.recent(1)
    assert event.detail == {
        "count": 9,
        "skipped": 0,
        "duplicates": 2,
        "source": "import-calls",
    }


async def test_a_row_repeated_in_the_file_is_a_duplicate(ctx, clock, home) -> None:
    await edna(ctx, clock, home)
    first_row = GOOD.splitlines(keepends=True)[0]
    result = await import_calls(ctx, SYSTEM, log(HEADER + first_row + first_row))
    assert result.imported == 1
    assert result.duplicates == [(3, "same resident and time as line 2")]
    assert import_summary(result) == "Imported 1 call; skipped 1 duplicate."


async def test_every_problem_of_a_row_is_reported(ctx, clock, home) -> None:
    await edna(ctx, clock, home)
    bad = HEADER + (
        "ZZZ99,9434765918,,yesterday,,,sneeze,maybe,,call_back,perhaps\n"
        "AB123,9434765919,,2026-02-04T10:00:00Z,2026-02-04T09:00:00Z,2026-02-04T08:00:00Z,"
        "fall,,managed_advice,,\n"
    )
    with pytest.raises(RowErrors) as err:
        await import_calls(ctx, SYSTEM, log(bad))
    assert err.value.errors == [
        (
            2,
            "unknown care home ZZZ99; "
            "NHS number 9434765918 fails its modulus-11 check digit; "
            "requested_at 'yesterday' is not a date and time like 2026-03-01T14:05:00+00:00; "
            "reason 'sneeze' is not in the reasons list; "
            "intention 'maybe' is not in the intentions list; "
            "follow_up call_back needs a time, which imports do not carry: "
            "use none or home_to_call_if_worse; "
            "admission_judgement 'perhaps' is not in yes, no, unsure",
        ),
        (
            3,
            "answered_at is before requested_at; ended_at is before the call was answered",
        ),
    ]


def test_counts_are_worded_for_one_and_many() -> None:
    assert import_summary(ImportResult(1, [])) == "Imported 1 call."
    assert import_summary(ImportResult(0, [])) == "Imported 0 calls."
    assert (
        import_summary(ImportResult(1200, [(3, "x")], [(4, "y"), (5, "y")]))
        == "Imported 1,200 calls; skipped 2 duplicates; skipped 1 bad row."
    )
