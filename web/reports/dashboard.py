"""The manager dashboard: figures, charts drawn as SVG on the server, and exports.

Every table on the page can be downloaded as CSV (``/reports.csv?table=…``) and the
summary as JSON (``/reports.json``); the page and the downloads are built from the same
``hub.reports.summary.Report``, so they always agree. The range's consultations, one by
one with who took part (guests included) and how each was secured, are exported as a
FHIR Bundle (``/reports.fhir.json``), CSV (``/reports.consultations.csv``) and JSON
(``/reports.consultations.json``): audited, since they name residents and guests.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web

from hub.calls.consultation import Reason
from hub.calls.security import SecurityLevel
from hub.outcomes.avoided import AVOIDED_EVENTS, EVENT_LABELS, EVENTS, AvoidedCounts
from hub.outcomes.codes import OutcomeCode
from hub.people import admin
from hub.people.access import Role
from hub.reports import export, summary
from web.http.keys import CTX, TARIFFS
from web.http.render import render
from web.http.security import actor_of, require
from web.reports import consultation_export
from web.reports.fhir import encounter_bundle

routes = web.RouteTableDef()
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

Row = dict[str, object]

#: A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COUNT_COLUMNS = ("calls", "not_attributable", *(e.export for e in AVOIDED_EVENTS))
HOME_FIGURE_COLUMNS = (
    "cost_avoided",
    "answer_p50_s",
    "answer_p90_s",
    "answer_p95_s",
    "answered_within_5_min_pct",
)


def _query(request: web.Request) -> summary.ReportQuery:
    """The range and home asked for; by default the last six months, all homes."""
    today = summary.local_date(request.app[CTX].clock.now())  # report days are UK days
    start = request.query.get("from") or (today - timedelta(days=182)).isoformat()
    end = request.query.get("to") or today.isoformat()
    home = request.query.get("home", "")
    return summary.ReportQuery.parse(start, end, int(home) if home.isdigit() else None)


async def _report(request: web.Request, *, per_home: bool = False) -> summary.Report:
    ctx = request.app[CTX]
    return await summary.build(
        ctx, actor_of(request), _query(request), request.app[TARIFFS], per_home=per_home
    )


@routes.get("/reports")
@require(Role.MANAGER, Role.ADMIN)
async def dashboard(request: web.Request) -> web.StreamResponse:
    report = await _report(request)
    homes = await admin.list_homes(request.app[CTX], actor_of(request))
    peak = max(report.hour_of_week.values(), default=0)
    months_max = max((c.calls for _, c in report.by_month), default=0)
    outcome_max = max(report.outcomes.values(), default=0)
    reason_max = max(report.reasons.values(), default=0)
    labels = {c.value: c.label for c in OutcomeCode}
    names = Counter(h.name for h in homes)
    return render(
        "reports.html",
        request,
        {
            "r": report,
            "homes": homes,
            # The per-home rows are keyed by name: link only names that are unambiguous.
            "home_ids": {h.name: h.id for h in homes if names[h.name] == 1},
            "days": DAYS,
            "peak": peak,
            "months_max": months_max,
            "outcome_max": outcome_max,
            "outcome_labels": labels,
            "reason_max": reason_max,
            "reason_labels": {r.value: r.label for r in Reason},
            "exports": export_hrefs(report),
            "tariffs": request.app[TARIFFS],
            "event_labels": EVENT_LABELS,
            "events": EVENTS,
            "security_labels": [(v.value, v.label) for v in SecurityLevel] + [("", "Not recorded")],
            "monthly_month": report.query.end.strftime("%Y-%m"),
        },
    )


@routes.get("/reports.csv")
@require(Role.MANAGER, Role.ADMIN)
async def export_csv(request: web.Request) -> web.StreamResponse:
    table = request.query.get("table") or "summary"
    if table not in TABLES:
        raise web.HTTPBadRequest(
            text=f"there is no report table {table[:40]!r}: choose one of {', '.join(TABLES)}"
        )
    report = await _report(request, per_home=table in ("summary", "homes"))
    fields, rows = TABLES[table](report)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    suffix = "" if table == "summary" else f"{table}-"
    name = f"telehub-report-{suffix}{report.query.start}-{report.query.end}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@routes.get("/reports.json")
@require(Role.MANAGER, Role.ADMIN)
async def export_json(request: web.Request) -> web.StreamResponse:
    """The summary (one row per home and a total), as ``telehub report --format json``."""
    report = await _report(request, per_home=True)
    name = f"telehub-report-{report.query.start}-{report.query.end}.json"
    return web.json_response(
        summary.summary_rows(report),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@routes.get("/reports.fhir.json")
@require(Role.MANAGER, Role.ADMIN)
async def export_fhir(request: web.Request) -> web.StreamResponse:
    """The range's consultations as a FHIR R4 Bundle of Encounters (audited: it names
    residents), as ``telehub report --format fhir``."""
    ctx = request.app[CTX]
    query = _query(request)
    bundle = await encounter_bundle(ctx, actor_of(request), query)
    home = "" if query.home_id is None else f"home{query.home_id}-"
    name = f"telehub-encounters-{home}{query.start}-{query.end}.json"
    return web.Response(
        text=bundle.model_dump_json(indent=2),
        content_type="application/fhir+json",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@routes.get("/reports.consultations.csv")
@require(Role.MANAGER, Role.ADMIN)
async def export_consultations_csv(request: web.Request) -> web.StreamResponse:
    """The range's consultations, one row each, with their guests and security (audited:
    it names residents and guests)."""
    query = _query(request)
    found = await export.consultations(request.app[CTX], actor_of(request), query, format="csv")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=consultation_export.CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(
        {k: safe_cell(v) for k, v in row.items()} for row in consultation_export.csv_rows(found)
    )
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_consultations_file(query)}.csv"'},
    )


@routes.get("/reports.consultations.json")
@require(Role.MANAGER, Role.ADMIN)
async def export_consultations_json(request: web.Request) -> web.StreamResponse:
    """The range's consultations as JSON objects, with their guests and security."""
    query = _query(request)
    found = await export.consultations(request.app[CTX], actor_of(request), query, format="json")
    return web.json_response(
        {
            "from": query.start.isoformat(),
            "to": query.end.isoformat(),
            "home_id": found.home_id,  # a care-home manager's own home even when not asked
            "exported_at": found.at.isoformat(),
            "consultations": consultation_export.json_records(found),
        },
        headers={
            "Content-Disposition": f'attachment; filename="{_consultations_file(query)}.json"'
        },
    )


def _consultations_file(query: summary.ReportQuery) -> str:
    home = "" if query.home_id is None else f"home{query.home_id}-"
    return f"telehub-consultations-{home}{query.start}-{query.end}"


def export_hrefs(report: summary.Report) -> dict[str, str]:
    """Download links for exactly the range and home on the page: each CSV table, the
    JSON summary, the FHIR bundle and the consultations as CSV and JSON."""
    q = report.query
    params = {"from": q.start.isoformat(), "to": q.end.isoformat()}
    if q.home_id is not None:
        params["home"] = str(q.home_id)
    links = {name: f"/reports.csv?{urlencode({'table': name, **params})}" for name in TABLES}
    links["json"] = f"/reports.json?{urlencode(params)}"
    links["fhir"] = f"/reports.fhir.json?{urlencode(params)}"
    links["consultations_csv"] = f"/reports.consultations.csv?{urlencode(params)}"
    links["consultations_json"] = f"/reports.consultations.json?{urlencode(params)}"
    return links


def safe_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# Each table: its CSV column names, and its rows, built from the page's Report.


def _summary(report: summary.Report) -> tuple[list[str], list[Row]]:
    rows = summary.summary_rows(report)
    return list(rows[-1]), rows


def _homes(report: summary.Report) -> tuple[list[str], list[Row]]:
    """Per home: counts, cost avoided and answer times (as the summary's home rows)."""
    rows: list[Row] = [
        {
            "home": name,
            **_range(report),
            **_counts(c),
            **summary.home_figure_columns(report.home_figures[name]),
        }
        for name, c in report.by_home
    ]
    return ["home", "from", "to", *COUNT_COLUMNS, *HOME_FIGURE_COLUMNS], rows


def _months(report: summary.Report) -> tuple[list[str], list[Row]]:
    return ["month", "from", "to", *COUNT_COLUMNS], [
        {"month": month, **_range(report), **_counts(c)} for month, c in report.by_month
    ]


def _hour_of_week(report: summary.Report) -> tuple[list[str], list[Row]]:
    rows: list[Row] = [
        {
            "day": DAYS[day],
            "day_index": day,
            "hour": hour,
            "from": report.query.start.isoformat(),
            "to": report.query.end.isoformat(),
            "calls": report.hour_of_week.get((day, hour), 0),
        }
        for day in range(7)
        for hour in range(24)
    ]
    return ["day", "day_index", "hour", "from", "to", "calls"], rows


def _outcomes(report: summary.Report) -> tuple[list[str], list[Row]]:
    labels = {c.value: c.label for c in OutcomeCode}
    return _breakdown(report, "outcome", report.outcomes, labels)


def _reasons(report: summary.Report) -> tuple[list[str], list[Row]]:
    labels = {r.value: r.label for r in Reason}
    return _breakdown(report, "reason", report.reasons, labels)


def _breakdown(
    report: summary.Report, column: str, counts: Mapping[str, int], labels: Mapping[str, str]
) -> tuple[list[str], list[Row]]:
    rows: list[Row] = [
        {column: code, "label": labels.get(code, code), **_range(report), "calls": n}
        for code, n in counts.items()
    ]
    return [column, "label", "from", "to", "calls"], rows


def _range(report: summary.Report) -> Row:
    return {"from": report.query.start.isoformat(), "to": report.query.end.isoformat()}


def _counts(c: AvoidedCounts) -> Row:
    return {
        "calls": c.calls,
        "not_attributable": c.not_attributable,
        **summary.export_counts(c),
    }


TABLES: Mapping[str, Callable[[summary.Report], tuple[list[str], list[Row]]]] = {
    "summary": _summary,
    "hour_of_week": _hour_of_week,
    "outcomes": _outcomes,
    "reasons": _reasons,
    "homes": _homes,
    "months": _months,
}
