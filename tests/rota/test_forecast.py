"""Erlang C against independent arithmetic and published figures; the forecast from a
call history; the CSV it reads."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from rota.errors import RotaInputError
from rota.forecast import (
    agents_needed,
    erlang_c,
    forecast,
    parse_calls_csv,
    service_level,
)


def erlang_c_by_factorials(a: float, n: int) -> float:
    """The textbook formula, written out with no shared code."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("a", "n"), [(5, 6), (5, 8), (10, 11), (10, 14), (22.9, 28), (48, 55)])
def test_erlang_c_matches_the_factorial_formula(a: float, n: int) -> None:
    assert erlang_c(a, n) == pytest.approx(erlang_c_by_factorials(a, n), rel=1e-12)


def test_erlang_c_table_values() -> None:
    # 10 erlangs: probability of waiting with 11..14 agents, as in published tables
    assert [round(erlang_c(10, n), 4) for n in (11, 12, 13, 14)] == [0.6821, 0.4494, 0.2853, 0.1741]


def test_textbook_100_calls_an_hour_3_minutes_80_in_20_seconds() -> None:
    # A = 100 × 180 / 3600 = 5 erlangs. 7 agents answer 74.0% in 20 s, 8 agents 88.0%.
    assert service_level(100, 180, 7, 20) == pytest.approx(0.7404, abs=1e-4)
    assert service_level(100, 180, 8, 20) == pytest.approx(0.8801, abs=1e-4)
    assert agents_needed(100, 180, target_s=20, level=0.8) == 8


def test_published_example_250_calls_330_seconds_80_in_30() -> None:
    # "the accountant thinks you need 22.9 advisors; Erlang thinks we need 28"
    assert agents_needed(250, 330, target_s=30, level=0.8) == 28


def test_no_calls_needs_nobody_and_overload_is_never_enough() -> None:
    assert agents_needed(0, 300) == 0
    assert service_level(100, 180, 5, 20) == 0.0  # 5 agents for 5 erlangs: the queue grows


def test_forecast_averages_over_the_weeks_seen() -> None:
    monday = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)  # 09:15 UTC = 09:15 in London in March
    calls = []
    for week in range(4):
        calls += [(monday + timedelta(weeks=week, minutes=i), 600.0) for i in range(12)]
    # Sunday 29 March 13:15 UTC is 14:15 in London (summer time began that night)
    calls.append((monday + timedelta(weeks=3, days=6, hours=4), 60.0))
    f = forecast(calls, level=0.9, target_s=300)
    assert f.weeks == pytest.approx(4.0)
    assert f.arrivals_per_hour[9] == pytest.approx(12.0)  # 48 calls over 4 Mondays 09:00
    assert f.handling_s[9] == 600.0
    assert f.clinicians[9] == agents_needed(12.0, 600.0, 300, 0.9) == 4
    assert f.clinicians[10] == 0
    assert f.clinicians[6 * 24 + 14] == 1  # one call in four Sundays: still someone


def test_forecast_uses_the_hub_time_zone() -> None:
    summer = datetime(2026, 7, 6, 8, 30)  # no offset: UTC, which is 09:30 in London
    f = forecast([(summer, 300.0)], timezone="Europe/London")
    assert f.arrivals_per_hour[9] == 1.0


def test_calls_csv() -> None:
    rows = parse_calls_csv("requested_at,handling_seconds\n2026-03-02T09:00:00Z,420\n")
    assert rows == [(datetime(2026, 3, 2, 9, tzinfo=UTC), 420.0)]
    for text, message in [
        ("when,seconds\n", "calls.csv:1: expected the columns requested_at,handling_seconds"),
        (
            "requested_at,handling_seconds\nyesterday,5\n",
            "calls.csv:2: requested_at 'yesterday' is not an ISO 8601 time",
        ),
        (
            "requested_at,handling_seconds\n2026-03-02T09:00,-5\n",
            "calls.csv:2: handling_seconds must be above 0 and below a day",
        ),
    ]:
        with pytest.raises(RotaInputError) as err:
            parse_calls_csv(text)
        assert err.value.message == message
