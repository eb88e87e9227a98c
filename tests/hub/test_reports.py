"""Reports aggregate in SQL what the avoided function stored; scope and bad ranges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hub.calls import closure, live
from hub.errors import Forbidden, ValidationError
from hub.outcomes.tariffs import load_tariffs
from hub.people.access import SYSTEM, Actor, Role
from hub.reports import summary
from tests.hub.test_calls import clinicians, edna, request, tablet


async def closed_call(
    ctx,
    clock,
    home,
    nurse,
    tab,
    resident_id,
    *,
    wait_min: float,  # type: ignore[no-untyped-def]
    outcome: str = "managed_advice",
    intention: str | None = "call_999",
):
    call = await live.request_call(ctx, tab, request(resident_id, intention=intention))
    clock.advance(timedelta(minutes=wait_min))
    await live.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=10))
    await live.end(ctx, nurse, call.id)
    await closure.record_outcome(
        ctx, nurse, call.id, {"outcome": outcome, "follow_up": "none", "admission_judgement": "yes"}
    )
    return call


async def test_report_counts_answer_times_and_breakdowns(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=2)
    await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=4, outcome="called_999_conveyed")
    await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=8, intention=None)
    day = clock.now().date()
    report = await summary.build(ctx, SYSTEM, summary.ReportQuery(day, day), load_tariffs())
    c = report.counts
    assert (c.calls, c.attributable, c.not_attributable) == (3, 2, 1)
    # The conveyed call avoided nothing but the admission (judged "yes", not admitted).
    assert (c.ae_attendance, c.call_999, c.conveyance, c.admission) == (1, 1, 1, 2)
    assert report.answer.answered == 3 and report.answer.within_target == 2
    assert report.answer.p50_s == pytest.approx(240, abs=1)
    assert report.answer.p95_s == pytest.approx(480, abs=1)
    assert report.outcomes == {"managed_advice": 2, "called_999_conveyed": 1}
    assert report.reasons == {"breathing": 3}
    assert [name for name, _ in report.by_home] == ["Rose Court"]
    assert [m for m, _ in report.by_month] == [day.strftime("%Y-%m")]
    assert sum(report.hour_of_week.values()) == 3
    assert report.cost_total > 0
    rows = summary.summary_rows(report)
    assert rows[-1]["home"] == "All" and rows[-1]["calls"] == 3


async def test_empty_range_is_zeros_not_errors(ctx, clock, home) -> None:
    day = clock.now().date() - timedelta(days=400)
    report = await summary.build(ctx, SYSTEM, summary.ReportQuery(day, day), load_tariffs())
    assert report.counts.calls == 0 and report.answer.p50_s is None
    assert report.cost_total == 0 and report.by_home == []


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-03-10", "2026-03-01", "ends (2026-03-01) before it starts (2026-03-10)"),
        ("2026-03-01", None, "give both a start and an end date"),
        (None, "2026-03-01", "give both a start and an end date"),
        ("yesterday", "2026-03-01", "dates must look like 2026-03-01"),
    ],
)
def test_bad_ranges(start: str | None, end: str | None, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        summary.ReportQuery.parse(start, end)
    assert message in err.value.message


async def test_care_home_manager_sees_only_their_home(ctx, clock, home, other_home) -> None:
    manager = Actor("staff", 50, "M", Role.MANAGER, home_id=home.id)
    day = clock.now().date()
    with pytest.raises(Forbidden, match="your own care home's report only"):
        await summary.build(
            ctx, manager, summary.ReportQuery(day, day, other_home.id), load_tariffs()
        )
    mine = await summary.build(ctx, manager, summary.ReportQuery(day, day), load_tariffs())
    assert mine.home_name == "Rose Court"
    with pytest.raises(Forbidden, match="for managers"):
        await summary.build(
            ctx,
            Actor("staff", 51, "C", Role.CLINICIAN),
            summary.ReportQuery(day, day),
            load_tariffs(),
        )


async def _heat_map(ctx, first: str, last: str, home_id: int | None) -> dict[tuple[int, int], int]:  # type: ignore[no-untyped-def]
    query = summary.ReportQuery.parse(first, last, home_id)
    return (await summary.build(ctx, SYSTEM, query, load_tariffs())).hour_of_week


async def test_heat_map_is_in_uk_local_time(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    for at in (datetime(2026, 7, 1, 8, 30, tzinfo=UTC), datetime(2026, 1, 14, 8, 30, tzinfo=UTC)):
        clock.current = at
        await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=1)
    # All homes come from the daily rollup, one home from the rows: both say the same.
    for home_id in (None, home.id):
        # Wednesday 1 July 2026, 08:30 UTC is 09:30 British Summer Time.
        assert await _heat_map(ctx, "2026-07-01", "2026-07-01", home_id) == {(2, 9): 1}
        # Wednesday 14 January 2026, 08:30 UTC is 08:30 GMT.
        assert await _heat_map(ctx, "2026-01-14", "2026-01-14", home_id) == {(2, 8): 1}
        assert await _heat_map(ctx, "2026-01-01", "2026-12-31", home_id) == {
            (2, 8): 1,
            (2, 9): 1,
        }


async def test_heat_map_across_the_daylight_saving_changes(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    for at in (
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 00:30 GMT, Sunday
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # clocks went forward at 01:00: 02:30 BST
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # clocks went back at 01:00: 01:30 GMT
    ):
        clock.current = at
        await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=1)
    for home_id in (None, home.id):
        assert await _heat_map(ctx, "2026-03-29", "2026-03-29", home_id) == {(6, 0): 1, (6, 2): 1}
        assert await _heat_map(ctx, "2026-10-25", "2026-10-25", home_id) == {(6, 1): 2}
        assert await _heat_map(ctx, "2026-03-01", "2026-10-31", home_id) == {
            (6, 0): 1,
            (6, 1): 2,
            (6, 2): 1,
        }


async def test_answer_percentiles_are_bucket_edges_and_agree_across_scopes(
    ctx, clock, home
) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    # Waits of 61 s (bucket (60, 65]), exactly 5 min (within the target) and 90 min
    # (1-minute buckets past the hour); nearest-rank p50 is the middle one.
    await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=61 / 60)
    await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=5)
    await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=90)  # 1-minute buckets
    day = clock.now().date()
    for home_id in (None, home.id):
        query = summary.ReportQuery(day, day, home_id)
        answer = (await summary.build(ctx, SYSTEM, query, load_tariffs())).answer
        assert (answer.answered, answer.within_target) == (3, 2)
        assert (answer.p50_s, answer.p90_s, answer.p95_s) == (300.0, 5400.0, 5400.0)
    assert summary.wait_bucket(61_000_000) == 13 and summary.bucket_edge_s(13) == 65.0


def test_answer_time_buckets() -> None:
    b, edge = summary.wait_bucket, summary.bucket_edge_s
    assert [b(0), b(1), b(5_000_000), b(5_000_001)] == [0, 1, 1, 2]
    assert (b(3_600_000_000), b(3_600_000_001)) == (720, 721)
    assert (edge(720), edge(721), edge(2100)) == (3600.0, 3660.0, 86400.0)
    assert b(86_400_000_001) == summary.OVERFLOW_BUCKET and edge(summary.OVERFLOW_BUCKET) is None
    assert summary.reported_wait_s(86_400_000_001) == pytest.approx(86400.000001)
    assert summary.reported_wait_s(299_999_999) == 300.0


def test_a_range_runs_from_uk_midnight_to_uk_midnight() -> None:
    july = summary.ReportQuery(date(2026, 7, 1), date(2026, 7, 31))
    # 00:00 BST on 1 July is 23:00 UTC on 30 June; 00:00 BST on 1 August ends the month.
    assert july.since == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
    assert july.until == datetime(2026, 7, 31, 23, 0, tzinfo=UTC)
    january = summary.ReportQuery(date(2026, 1, 1), date(2026, 1, 31))
    assert january.since == datetime(2026, 1, 1, tzinfo=UTC)  # GMT: UK midnight is UTC's
    assert january.until == datetime(2026, 2, 1, tzinfo=UTC)

    def length(day: date) -> timedelta:
        q = summary.ReportQuery(day, day)
        return q.until - q.since

    assert length(date(2026, 3, 29)) == timedelta(hours=23)  # clocks go forward
    assert length(date(2026, 10, 25)) == timedelta(hours=25)  # clocks go back
    assert length(date(2026, 7, 1)) == timedelta(hours=24)
    assert summary.local_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert summary.local_date(datetime(2026, 10, 25, 23, 30, tzinfo=UTC)) == date(2026, 10, 25)


# Calls and the UK day each belongs to (the UTC day differs for some).
UK_DAYS = [
    (datetime(2026, 6, 30, 22, 59, 59, 999999, tzinfo=UTC), date(2026, 6, 30)),  # 23:59:59 BST
    (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1)),  # 00:30 BST, 1 July
    (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),  # 23:30 GMT
    (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),  # 00:30 BST
    (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # 00:30 BST
    (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # 23:30 GMT, same day
]


async def _calls_on(ctx, first: date, last: date, home_id: int | None) -> summary.Report:  # type: ignore[no-untyped-def]
    query = summary.ReportQuery(first, last, home_id)
    return await summary.build(ctx, SYSTEM, query, load_tariffs())


async def test_days_and_months_are_uk_days_and_months(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    for at, _ in UK_DAYS:
        clock.current = at
        await closed_call(ctx, clock, home, nurse, tab, r.id, wait_min=1)
    # All homes come from the daily rollup, one home from the rows: both say the same.
    for home_id in (None, home.id):
        for day in sorted({d for _, d in UK_DAYS} | {date(2026, 3, 29), date(2026, 10, 24)}):
            report = await _calls_on(ctx, day, day, home_id)
            expected = sum(1 for _, d in UK_DAYS if d == day)
            assert report.counts.calls == expected, (day, home_id)
            assert sum(report.hour_of_week.values()) == expected
        june = await _calls_on(ctx, date(2026, 6, 1), date(2026, 6, 30), home_id)
        july = await _calls_on(ctx, date(2026, 7, 1), date(2026, 7, 31), home_id)
        assert (june.counts.calls, july.counts.calls) == (1, 1)
        assert [m for m, _ in july.by_month] == ["2026-07"]
        # The month trend puts 23:30 UTC on 30 June in July, like the monthly report.
        year = await _calls_on(ctx, date(2026, 1, 1), date(2026, 12, 31), home_id)
        assert [(m, c.calls) for m, c in year.by_month] == [
            ("2026-03", 2),
            ("2026-06", 1),
            ("2026-07", 1),
            ("2026-10", 2),
        ]
        # The heat map: 00:30 BST on Wednesday 1 July; 23:59 BST on Tuesday 30 June.
        assert july.hour_of_week == {(2, 0): 1}
        assert june.hour_of_week == {(1, 23): 1}
