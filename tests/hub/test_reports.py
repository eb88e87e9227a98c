"""Reports aggregate in SQL what the avoided function stored; scope and bad ranges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub import calls, closure, reports
from hub.access import SYSTEM, Actor, Role
from hub.errors import Forbidden, ValidationError
from hub.tariffs import load_tariffs
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
    call = await calls.request_call(ctx, tab, request(resident_id, intention=intention))
    clock.advance(timedelta(minutes=wait_min))
    await calls.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=10))
    await calls.end(ctx, nurse, call.id)
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
    report = await reports.build(ctx, SYSTEM, reports.ReportQuery(day, day), load_tariffs())
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
    rows = reports.summary_rows(report)
    assert rows[-1]["home"] == "All" and rows[-1]["calls"] == 3


async def test_empty_range_is_zeros_not_errors(ctx, clock, home) -> None:
    day = clock.now().date() - timedelta(days=400)
    report = await reports.build(ctx, SYSTEM, reports.ReportQuery(day, day), load_tariffs())
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
        reports.ReportQuery.parse(start, end)
    assert message in err.value.message


async def test_care_home_manager_sees_only_their_home(ctx, clock, home, other_home) -> None:
    manager = Actor("staff", 50, "M", Role.MANAGER, home_id=home.id)
    day = clock.now().date()
    with pytest.raises(Forbidden, match="your own care home's report only"):
        await reports.build(
            ctx, manager, reports.ReportQuery(day, day, other_home.id), load_tariffs()
        )
    mine = await reports.build(ctx, manager, reports.ReportQuery(day, day), load_tariffs())
    assert mine.home_name == "Rose Court"
    with pytest.raises(Forbidden, match="for managers"):
        await reports.build(
            ctx,
            Actor("staff", 51, "C", Role.CLINICIAN),
            reports.ReportQuery(day, day),
            load_tariffs(),
        )
