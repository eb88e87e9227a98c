"""Manager reports: what the hub did and avoided, for a date range and a home or all.

Every figure is aggregated by the database (``uow.reports``) from the avoided flags that
``hub.outcomes.avoided.avoided`` stored on each consultation; this module only validates the
question, assembles the answer and prices it with the tariffs.

Every day, month and hour in a report is on the UK wall clock (``REPORT_ZONE``, British
Summer Time included): a range of days runs from local midnight to local midnight, so a
day is 23 or 25 hours long when the clocks change, and a month is a local month.
Answer-time percentiles are reported at
the precision of the answer-time histogram (``wait_bucket``): the upper edge of the
bucket that holds the nearest-rank value, so they are the same whether the database
answers from rows or from its daily rollup (docs/outcomes.md, "The report rollup").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hub.audit.trail import AuditRecord
from hub.calls.security import SecurityLevel
from hub.context import HubContext
from hub.errors import Forbidden, NotFound, ValidationError
from hub.outcomes.avoided import AVOIDED_EVENTS, AvoidedCounts
from hub.outcomes.tariffs import Tariffs, cost_by_event
from hub.people.access import Actor, Role, require_role
from hub.reports.answer_times import AnswerTimes

MAX_DAYS = 3 * 366
ANSWER_TARGET = timedelta(minutes=5)
REPORT_ZONE = "Europe/London"  # the wall clock of every report day, month and hour

# The answer-time histogram: 5-second buckets up to an hour, 1-minute buckets up to a
# day, then one open bucket. Bucket k > 0 holds waits in (edge(k-1), edge(k)].
FINE_STEP_US = 5_000_000
FINE_UNTIL_US = 3_600_000_000
COARSE_STEP_US = 60_000_000
COARSE_UNTIL_US = 86_400_000_000
FINE_BUCKETS = FINE_UNTIL_US // FINE_STEP_US  # 720
OVERFLOW_BUCKET = FINE_BUCKETS + (COARSE_UNTIL_US - FINE_UNTIL_US) // COARSE_STEP_US + 1  # 2101


def wait_bucket(wait_us: int) -> int:
    """The histogram bucket of a wait given in whole microseconds (0 for no wait)."""
    if wait_us <= 0:
        return 0
    if wait_us <= FINE_UNTIL_US:
        return -(-wait_us // FINE_STEP_US)
    if wait_us <= COARSE_UNTIL_US:
        return FINE_BUCKETS + -(-(wait_us - FINE_UNTIL_US) // COARSE_STEP_US)
    return OVERFLOW_BUCKET


def bucket_edge_s(bucket: int) -> float | None:
    """The upper edge of a bucket in seconds (None for the open bucket past a day)."""
    if bucket <= FINE_BUCKETS:
        return max(bucket, 0) * FINE_STEP_US / 1e6
    if bucket < OVERFLOW_BUCKET:
        return (FINE_UNTIL_US + (bucket - FINE_BUCKETS) * COARSE_STEP_US) / 1e6
    return None


def reported_wait_s(wait_us: int) -> float:
    """A nearest-rank wait as reports show it: its bucket's upper edge (exact past a day)."""
    edge = bucket_edge_s(wait_bucket(wait_us))
    return wait_us / 1e6 if edge is None else edge


def report_zone() -> ZoneInfo:
    return ZoneInfo(REPORT_ZONE)  # cached by zoneinfo


def local_midnight(day: date) -> datetime:
    """The instant (in UTC) the UK calendar day ``day`` starts. UK clocks change at
    01:00 UTC, never at midnight, so every local midnight exists exactly once."""
    return datetime.combine(day, time(), report_zone()).astimezone(UTC)


def local_date(at: datetime) -> date:
    """The UK calendar day of the instant ``at`` (an aware datetime)."""
    return at.astimezone(report_zone()).date()


def nearest_rank(p: float, n: int) -> int:
    """The 0-based index of the nearest-rank ``p`` percentile among ``n`` sorted values."""
    return max(0, min(n - 1, math.ceil(p * n) - 1))


@dataclass(frozen=True)
class ReportQuery:
    """Calls requested on the UK calendar days ``start`` to ``end``, both included."""

    start: date  # inclusive
    end: date  # inclusive
    home_id: int | None = None

    @property
    def since(self) -> datetime:
        """UK midnight starting ``start`` (23:00 UTC the day before in summer)."""
        return local_midnight(self.start)

    @property
    def until(self) -> datetime:
        """UK midnight ending ``end`` (exclusive)."""
        return local_midnight(self.end + timedelta(days=1))

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
class Report:
    query: ReportQuery
    home_name: str
    counts: AvoidedCounts
    cost: Mapping[str, Decimal]
    currency: str
    answer: AnswerTimes
    by_home: list[tuple[str, AvoidedCounts]] = field(default_factory=list)
    by_month: list[tuple[str, AvoidedCounts]] = field(default_factory=list)  # UK months
    # (weekday 0=Monday, hour) on the UK wall clock (REPORT_ZONE), daylight saving included
    hour_of_week: dict[tuple[int, int], int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    # Ended answered calls still without an outcome (deferred ones included), and of
    # those how many were deferred with a reason (hub.calls.closure.defer_outcome).
    outcomes_outstanding: int = 0
    outcomes_deferred: int = 0
    # Answered calls by negotiated security level (hub.calls.security; "" = not recorded).
    security: dict[str, int] = field(default_factory=dict)
    # Per home (keyed like ``by_home``): cost avoided, and answer times when built with
    # ``per_home=True`` (the exports), as those are read from each home's rows.
    home_figures: dict[str, HomeFigures] = field(default_factory=dict)

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


@dataclass(frozen=True)
class HomeFigures:
    """One care home's cost avoided, and its answer times (None when two homes share
    the name that ``by_home`` groups by, so no one home's waits can be given)."""

    cost: Decimal
    answer: AnswerTimes | None


async def build(
    ctx: HubContext, actor: Actor, query: ReportQuery, tariffs: Tariffs, *, per_home: bool = False
) -> Report:
    """The report for ``query``. ``per_home`` adds each home's answer times to
    ``Report.home_figures``, read from that home's rows: for exports."""
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
        outstanding, deferred = await r.outcomes_outstanding(q.since, q.until, home_id)
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
            outcomes_outstanding=outstanding,
            outcomes_deferred=deferred,
            security=await r.security_levels(q.since, q.until, home_id),
        )
        ids: dict[str, list[int]] = {}
        for h in await uow.homes.list() if per_home else []:
            ids.setdefault(h.name, []).append(h.id)
        for name, c in report.by_home:
            only = ids.get(name, [])
            waits = (
                await r.answer_times(q.since, q.until, only[0], ANSWER_TARGET)
                if len(only) == 1
                else None
            )
            cost = sum(cost_by_event(c, tariffs).values(), Decimal(0))
            report.home_figures[name] = HomeFigures(cost, waits)
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
                **export_counts(c),
            }
        )
        if name in report.home_figures and len(rows) <= len(report.by_home):
            rows[-1] |= home_figure_columns(report.home_figures[name])
    total = rows[-1]
    total |= home_figure_columns(HomeFigures(report.cost_total, report.answer))
    total["outcomes_outstanding"] = report.outcomes_outstanding
    total["outcomes_deferred"] = report.outcomes_deferred
    for level in (*SecurityLevel, ""):
        total[f"calls_security_{level or 'not_recorded'}"] = report.security.get(level, 0)
    return rows


def export_counts(counts: AvoidedCounts) -> dict[str, int]:
    """The avoided-event columns of an export row, by their export names."""
    return {e.export: getattr(counts, e.name) for e in AVOIDED_EVENTS}


def home_figure_columns(figures: HomeFigures) -> dict[str, object]:
    """Cost avoided and answer-time columns of an export row (empty when unknown)."""
    a = figures.answer
    return {
        "cost_avoided": str(figures.cost),
        "answer_p50_s": _round(a.p50_s) if a else None,
        "answer_p90_s": _round(a.p90_s) if a else None,
        "answer_p95_s": _round(a.p95_s) if a else None,
        "answered_within_5_min_pct": _round(a.within_target_pct) if a else None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


RollupProgress = Callable[[int, int], None]  # (chunks done, chunks in all)


async def rebuild_rollup(
    ctx: HubContext, actor: Actor, on_progress: RollupProgress | None = None
) -> int:
    """Recompute the report rollup from every consultation (``telehub report
    rebuild-rollup``), in one transaction; returns the number of counted calls."""
    require_role(actor, Role.ADMIN)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        calls = await uow.reports.rebuild_rollup(on_progress)
        await uow.audit.append(
            AuditRecord("report.rollup_rebuilt", actor.ref, "report", "rollup", {"calls": calls}),
            now,
        )
        await uow.commit()
    return calls
