"""The manager dashboard: figures, charts drawn as SVG on the server, and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from aiohttp import web

from hub import admin, reports
from hub.access import Actor, Role
from hub.outcomes import OutcomeCode
from hub.tariffs import load_tariffs
from web.keys import CTX
from web.render import render
from web.security import actor_of, require

routes = web.RouteTableDef()
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _actor(request: web.Request) -> Actor:
    actor = actor_of(request)
    assert actor is not None
    return actor


async def _report(request: web.Request) -> reports.Report:
    ctx = request.app[CTX]
    today = ctx.clock.now().date()
    start = request.query.get("from") or (today - timedelta(days=182)).isoformat()
    end = request.query.get("to") or today.isoformat()
    home = request.query.get("home", "")
    query = reports.ReportQuery.parse(start, end, int(home) if home.isdigit() else None)
    return await reports.build(ctx, _actor(request), query, load_tariffs())


@routes.get("/reports")
@require(Role.MANAGER, Role.ADMIN)
async def dashboard(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    homes = await admin.list_homes(request.app[CTX], _actor(request))
    peak = max(report.hour_of_week.values(), default=0)
    months_max = max((c.calls for _, c in report.by_month), default=0)
    outcome_max = max(report.outcomes.values(), default=0)
    labels = {c.value: c.label for c in OutcomeCode}
    return render(
        "reports.html",
        request,
        {
            "r": report,
            "homes": homes,
            "days": DAYS,
            "peak": peak,
            "months_max": months_max,
            "outcome_max": outcome_max,
            "outcome_labels": labels,
            "csv_query": request.query_string,
        },
    )


@routes.get("/reports.csv")
@require(Role.MANAGER, Role.ADMIN)
async def export_csv(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    rows = reports.summary_rows(report)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[-1]))
    writer.writeheader()
    writer.writerows(rows)
    name = f"telehub-report-{report.query.start}-{report.query.end}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
