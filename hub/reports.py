"""Manager reports: what the hub did and avoided, for a date range and a home or all.

Every figure is aggregated by the database (``uow.reports``) from the avoided flags that
``hub.avoided.avoided`` stored on each consultation; this module only validates the
question, assembles the answer and prices it with the tariffs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from hub.access import Actor, Role
from hub.avoided import AvoidedCounts
from hub.context import HubContext
from hub.errors import Forbidden, NotFound, ValidationError
from hub.tariffs import Tariffs, cost_by_event

MAX_DAYS = 3 * 366
ANSWER_TARGET = timedelta(minutes=5)


@dataclass(frozen=True)
class ReportQuery:
    start: date  # inclusive
    end: date  # inclusive
    home_id: int | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    @classmethod
    def parse(cls, start: str | None, end: str | None, home_id: int | None = None) -> ReportQuery:
        if not start or not end:
            raise ValidationError("give both a start and an end date (YYYY-MM-DD)")
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError:
            raise ValidationError(
                f"dates must look like 2026-03-01, got {start!r} and {end!r}"
            ) from None
        if last < first:
            raise ValidationError(f"the range ends ({last}) before it starts ({first})")
        if (last - first).days > MAX_DAYS:
            raise ValidationError(f"a report covers at most {MAX_DAYS} days")
        return cls(first, last, home_id)


@dataclass(frozen=True)
class AnswerTimes:
    answered: int
    p50_s: float | None
    p90_s: float | None
    p95_s: float | None
    within_target: int

    @property
    def within_target_pct(self) -> float | None:
        return None if not self.answered else 100 * self.within_target / self.answered


@dataclass(frozen=True)
class Report:
    query: ReportQuery
    home_name: str
    counts: AvoidedCounts
    cost: Mapping[str, Decimal]
    currency: str
    answer: AnswerTimes
    by_home: list[tuple[str, AvoidedCounts]] = field(default_factory=list)
    by_month: list[tuple[str, AvoidedCounts]] = field(default_factory=list)
    hour_of_week: dict[tuple[int, int], int] = field(default_factory=dict)  # (dow 0=Mon, h)
    outcomes: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def cost_total(self) -> Decimal:
        return sum(self.cost.values(), Decimal(0))


def scope(actor: Actor, home_id: int | None) -> int | None:
    """Hub managers see all homes; a care-home manager only their own (403 otherwise)."""
    if actor.kind == "system":
        return home_id
    if actor.kind != "staff" or actor.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("reports are for managers")
    if actor.home_id is not None:
        if home_id not in (None, actor.home_id):
            raise Forbidden("you can see your own care home's report only")
        return actor.home_id
    return home_id


async def build(ctx: HubContext, actor: Actor, query: ReportQuery, tariffs: Tariffs) -> Report:
    home_id = scope(actor, query.home_id)
    q = ReportQuery(query.start, query.end, home_id)
    async with ctx.uow() as uow:
        home_name = "All care homes"
        if home_id is not None:
            home = await uow.homes.get(home_id)
            if home is None:
                raise NotFound(f"no care home {home_id}")
            home_name = home.name
        r = uow.reports
        counts = await r.counts(q.since, q.until, home_id)
        answer = await r.answer_times(q.since, q.until, home_id, ANSWER_TARGET)
        report = Report(
            query=q,
            home_name=home_name,
            counts=counts,
            cost=cost_by_event(counts, tariffs),
            currency=tariffs.currency,
            answer=answer,
            by_home=await r.by_home(q.since, q.until, home_id),
            by_month=await r.by_month(q.since, q.until, home_id),
            hour_of_week=await r.hour_of_week(q.since, q.until, home_id),
            outcomes=await r.breakdown("outcome", q.since, q.until, home_id),
            reasons=await r.breakdown("reason", q.since, q.until, home_id),
        )
    return report


def summary_rows(report: Report) -> list[dict[str, object]]:
    """One flat row per home (and a total), for CSV and JSON exports."""
    rows = []
    for name, c in [*report.by_home, ("All", report.counts)]:
        rows.append(
            {
                "home": name,
                "from": report.query.start.isoformat(),
                "to": report.query.end.isoformat(),
                "calls": c.calls,
                "not_attributable": c.not_attributable,
                "avoided_ae_attendances": c.ae_attendance,
                "avoided_999_calls": c.call_999,
                "avoided_conveyances": c.conveyance,
                "avoided_admissions": c.admission,
                "avoided_urgent_gp_visits": c.urgent_gp,
            }
        )
    total = rows[-1]
    total["cost_avoided"] = str(report.cost_total)
    a = report.answer
    total["answer_p50_s"] = _round(a.p50_s)
    total["answer_p90_s"] = _round(a.p90_s)
    total["answer_p95_s"] = _round(a.p95_s)
    total["answered_within_5_min_pct"] = _round(a.within_target_pct)
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
