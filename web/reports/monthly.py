"""The printable monthly report of one care home (A4, for commissioners and boards).

Built with ``hub.reports.summary.build`` like the dashboard, so its figures and its access
rules (a care-home manager sees their own home only) are the dashboard's. A month is a
UK calendar month: from 00:00 UK time on the 1st to 00:00 UK time on the 1st of the
next month (BST in summer), as the manager reading it expects.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from aiohttp import web

from hub.calls.consultation import Reason
from hub.errors import ValidationError
from hub.outcomes.avoided import EVENTS
from hub.outcomes.codes import OutcomeCode
from hub.people import admin
from hub.people.access import Actor, Role
from hub.reports import summary
from web.http.keys import CTX, TARIFFS
from web.http.render import render
from web.http.security import actor_of, require

routes = web.RouteTableDef()

MONTH = re.compile(r"(\d{4})-(\d{2})")
EVENT_LABELS = {
    "ae_attendance": "A&E attendances",
    "call_999": "999 calls",
    "conveyance": "Ambulance conveyances",
    "admission": "Hospital admissions",
    "urgent_gp": "Urgent GP visits",
}
CURRENCY_SIGNS = {"GBP": "£", "EUR": "€", "USD": "$"}


def month_range(raw: str) -> tuple[date, date]:
    """``2026-03`` → (1 March 2026, 31 March 2026); anything else is a ValidationError."""
    found = MONTH.fullmatch(raw.strip())
    year, month = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if not found or not 1 <= month <= 12 or year < 2000:
        raise ValidationError(
            f"the month must look like 2026-03 (year, then month 01–12), got {raw[:20]!r}",
            field="month",
        )
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _home_id(request: web.Request, actor: Actor) -> int:
    raw = request.query.get("home", "")
    if not raw and actor.home_id is not None:
        return actor.home_id
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationError("say which care home the report is for (home=ID)", field="home")
    return int(raw)


@routes.get("/reports/monthly")
@require(Role.MANAGER, Role.ADMIN)
async def monthly_report(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    # The default is last month on the UK calendar, the one the report itself counts.
    today = summary.local_date(ctx.clock.now())
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    month = request.query.get("month") or last_month
    first, last = month_range(month)
    tariffs = request.app[TARIFFS]
    # build() applies the access rules (403 for another home) and 404s a missing home.
    report = await summary.build(
        ctx, actor, summary.ReportQuery(first, last, _home_id(request, actor)), tariffs
    )
    assert report.query.home_id is not None
    home = await admin.get_home(ctx, actor, report.query.home_id)
    homes = await admin.list_homes(ctx, actor)
    costs = [
        {
            "event": event,
            "label": EVENT_LABELS[event],
            "count": getattr(report.counts, event),
            "unit": tariffs.unit_cost(event),
            "cost": report.cost[event],
            "source": tariffs.sources[event].source,
            "year": tariffs.sources[event].year,
        }
        for event in EVENTS
    ]
    return render(
        "report_monthly.html",
        request,
        {
            "r": report,
            "home": home,
            "homes": homes,
            "month": f"{first:%Y-%m}",
            "month_label": f"{first:%B %Y}",
            "first": first,
            "last": last,
            "costs": costs,
            "events": [(e, EVENT_LABELS[e], getattr(report.counts, e)) for e in EVENTS],
            "sign": CURRENCY_SIGNS.get(report.currency, report.currency + " "),
            "target_min": int(summary.ANSWER_TARGET.total_seconds() // 60),
            "outcome_bars": _bars(report.outcomes, {c.value: c.label for c in OutcomeCode}),
            "reason_bars": _bars(report.reasons, {r.value: r.label for r in Reason}),
            "generated": ctx.clock.now().astimezone(summary.report_zone()),
        },
    )


def _bars(counts: dict[str, int], labels: dict[str, str]) -> list[tuple[str, int, float]]:
    """(label, count, width 0–1) per code, largest first, for a horizontal bar chart."""
    peak = max(counts.values(), default=0)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(labels.get(code, code), n, n / peak if peak else 0.0) for code, n in ordered]
