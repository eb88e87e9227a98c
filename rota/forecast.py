"""Demand from call history: arrivals and handling time by hour of week, turned into
clinicians needed with Erlang C for a service level (default 90% answered in 5 minutes).

Erlang C models one queue with Poisson arrivals, exponential handling times and callers
who wait rather than hang up. Hub calls fit it well enough for staffing; its answer is
the *minimum* to meet the target, so the rota's uncovered-hours weight treats it as a
floor, not a suggestion.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rota.errors import RotaInputError

HOURS_PER_WEEK = 168
MIN_SAMPLES = 10  # fewer calls than this in an hour of week: use the overall mean AHT


def erlang_b(traffic: float, agents: int) -> float:
    """Blocking probability, by the stable recursion B(n) = A·B(n−1) / (n + A·B(n−1))
    (the factorial formula overflows past a hundred or so agents)."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a call waits, for ``traffic`` erlangs offered to ``agents``."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(traffic, agents)
    return agents * b / (agents - traffic * (1 - b))


def service_level(rate_per_hour: float, handling_s: float, agents: int, target_s: float) -> float:
    """Share of calls answered within ``target_s``."""
    traffic = rate_per_hour * handling_s / 3600
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    wait = erlang_c(traffic, agents)
    return 1 - wait * math.exp(-(agents - traffic) * target_s / handling_s)


def agents_needed(
    rate_per_hour: float, handling_s: float, target_s: float = 300, level: float = 0.9
) -> int:
    """Fewest agents meeting the service level (0 when no calls are expected)."""
    if not 0 < level < 1:
        raise ValueError(f"service level must be between 0 and 1, got {level}")
    traffic = rate_per_hour * handling_s / 3600
    if traffic <= 0:
        return 0
    agents = max(1, math.floor(traffic) + 1)
    while service_level(rate_per_hour, handling_s, agents, target_s) < level:
        agents += 1
    return agents


@dataclass(frozen=True)
class Forecast:
    """Per hour of week (0 = Monday 00:00, local time)."""

    arrivals_per_hour: tuple[float, ...]
    handling_s: tuple[float, ...]
    clinicians: tuple[int, ...]
    weeks: float
    level: float
    target_s: float


def hour_of_week(moment: datetime) -> int:
    return moment.weekday() * 24 + moment.hour


def forecast(
    calls: Iterable[tuple[datetime, float]],
    *,
    level: float = 0.9,
    target_s: float = 300,
    minimum: int = 0,
    timezone: str = "Europe/London",
) -> Forecast:
    """Average arrivals per hour of week over the whole days the history spans (an hour
    of week seen on four days with 8 calls in all has 2 arrivals an hour), and the mean
    handling time per hour of week; times without an offset are taken as UTC."""
    zone = ZoneInfo(timezone)
    local = [
        ((t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(zone), float(s)) for t, s in calls
    ]
    if not local:
        raise RotaInputError("calls: no calls to forecast from")
    counts = [0] * HOURS_PER_WEEK
    handling: list[list[float]] = [[] for _ in range(HOURS_PER_WEEK)]
    for moment, seconds in local:
        counts[hour_of_week(moment)] += 1
        handling[hour_of_week(moment)].append(seconds)
    first = min(m for m, _ in local).date()
    last = max(m for m, _ in local).date()
    seen = [0] * HOURS_PER_WEEK
    day = first
    while day <= last:
        for h in range(24):
            seen[day.weekday() * 24 + h] += 1
        day += timedelta(days=1)
    overall = sum(s for _, s in local) / len(local)
    rates = tuple(c / n if n else 0.0 for c, n in zip(counts, seen, strict=True))
    aht = tuple(sum(hs) / len(hs) if len(hs) >= MIN_SAMPLES else overall for hs in handling)
    need = tuple(
        max(minimum, agents_needed(r, a, target_s, level)) for r, a in zip(rates, aht, strict=True)
    )
    return Forecast(rates, aht, need, ((last - first).days + 1) / 7, level, target_s)


def parse_calls_csv(text: str, source: str = "calls.csv") -> list[tuple[datetime, float]]:
    """``requested_at,handling_seconds`` rows; errors name the spreadsheet line."""
    reader = csv.DictReader(io.StringIO(text))
    columns = {"requested_at", "handling_seconds"}
    if reader.fieldnames is None or set(reader.fieldnames) != columns:
        raise RotaInputError(f"{source}:1: expected the columns requested_at,handling_seconds")
    out: list[tuple[datetime, float]] = []
    for line, row in enumerate(reader, start=2):
        try:
            when = datetime.fromisoformat(row["requested_at"].replace("Z", "+00:00"))
        except ValueError as err:
            raise RotaInputError(
                f"{source}:{line}: requested_at {row['requested_at']!r} is not an ISO 8601 time"
            ) from err
        try:
            seconds = float(row["handling_seconds"])
        except ValueError as err:
            raise RotaInputError(
                f"{source}:{line}: handling_seconds {row['handling_seconds']!r} is not a number"
            ) from err
        if not 0 < seconds < 86400 or math.isnan(seconds):
            raise RotaInputError(
                f"{source}:{line}: handling_seconds must be above 0 and below a day"
            )
        out.append((when, seconds))
    return out


def dump_forecast(result: Forecast) -> dict[str, object]:
    """The ``demand`` block of a problem file, with the inputs behind it alongside."""
    return {
        "hour_of_week": list(result.clinicians),
        "arrivals_per_hour": [round(r, 3) for r in result.arrivals_per_hour],
        "mean_handling_s": [round(a, 1) for a in result.handling_s],
        "service_level": result.level,
        "answer_within_s": result.target_s,
        "weeks_of_history": round(result.weeks, 2),
    }
