"""Who is on shift at a time, across midnight and across a clock change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from rota.model import Assignment
from rota.oncall import on_shift
from tests.rota.factory import a, make_problem


def who(
    problem: object, rota: list[Assignment], at: datetime, skill: str | None = None
) -> list[str]:
    return [o.staff for o in on_shift(problem, rota, at, skill)]  # type: ignore[arg-type]


def test_a_night_shift_covers_the_small_hours_of_the_next_day() -> None:
    p = make_problem()
    rota = [a("sen1", 0, "night"), a("nur1", 1, "early"), a("sen2", 1, "night")]
    assert who(p, rota, datetime(2026, 3, 2, 23, 0)) == ["sen1"]
    assert who(p, rota, datetime(2026, 3, 3, 3, 30)) == ["sen1"]
    assert who(p, rota, datetime(2026, 3, 3, 6, 59)) == ["sen1"]
    assert who(p, rota, datetime(2026, 3, 3, 7, 0)) == ["nur1"]  # end is exclusive
    assert who(p, rota, datetime(2026, 3, 3, 22, 59)) == []


def test_filter_by_skill_and_aware_times() -> None:
    p = make_problem()
    rota = [a("sen1", 0, "early"), a("nur1", 0, "early")]
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # UTC = London time in March
    assert who(p, rota, at) == ["nur1", "sen1"]
    assert who(p, rota, at, "senior_clinician") == ["sen1"]


def test_a_night_shift_on_the_night_the_clocks_go_forward_ends_on_time() -> None:
    p = replace(make_problem(), start=date(2026, 3, 28))  # clocks go forward 29 March 01:00
    rota = [Assignment("sen1", date(2026, 3, 28), "night")]  # 23:00 + 8 h elapsed
    [shift] = on_shift(p, rota, datetime(2026, 3, 29, 3, 0))
    assert shift.end.hour == 8  # 8 hours' work ends at 08:00 on the (moved) clock
    assert who(p, rota, datetime(2026, 3, 29, 7, 30)) == ["sen1"]
