"""What a rota is made from: staff contracts, leave and requests (``/rota/people``), the
weekly demand grid with a forecast from call history (``/rota/demand``), and each
clinician's own shifts and requests (``/rota/mine``).

Bad input is shown on the page it was typed into (422) with everything typed kept.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from hub.context import HubContext
from hub.errors import Conflict, NotFound, ValidationError
from hub.people.access import Role
from hub.rostering import inputs, plans
from hub.rostering.problem import HOURS_PER_WEEK, LeaveKind
from rota.forecast import Forecast
from rota.model import RequestKind
from web.http.forms import checkbox, form, int_param, text
from web.http.keys import CTX
from web.http.local_time import hub_zone
from web.http.render import render
from web.http.security import actor_of, require
from web.rota.calendar import shifts_calendar
from web.rota.charts import hour_name, week_chart

routes = web.RouteTableDef()
LEAD = (Role.MANAGER, Role.ADMIN)
FormData = MultiDictProxy[str | bytes | web.FileField]
REQUEST_KINDS = {
    RequestKind.DAY_OFF: "Day off",
    RequestKind.NO_NIGHTS: "No nights",
    RequestKind.SHIFT: "Preferred shift",
}
MINE_WEEKS = 4
InputError = (ValidationError, NotFound, Conflict)


def _ctx(request: web.Request) -> HubContext:
    return request.app[CTX]


def _day(raw: str, what: str, default: date | None = None) -> date:
    if not raw.strip() and default is not None:
        return default
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError(f"{what}: {raw[:20]!r} is not a date like 2026-03-02") from None


def _staff_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise ValidationError("choose a clinician")
    return int(raw)


def _request_values(data: FormData) -> dict[str, str]:
    return {k: text(data, k) for k in ("staff_id", "kind", "first", "last", "weight", "shift")}


def _parse_request(values: dict[str, str]) -> tuple[RequestKind, date, date, int, str | None]:
    try:
        kind = RequestKind(values["kind"])
    except ValueError:
        raise ValidationError("choose a kind of request: day off, no nights or a shift") from None
    first = _day(values["first"], "from")
    last = _day(values["last"], "to", default=first)
    raw = values["weight"].strip() or "1"
    if not re.fullmatch(r"-?[0-9]{1,6}", raw):
        raise ValidationError(
            f"request weight must be a whole number from 1 to 100, not {raw[:10]!r}"
        )
    return kind, first, last, int(raw), values["shift"] or None


# -- contracts, leave and requests ----------------------------------------------------


async def _render_people(
    request: web.Request,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    forms: dict[str, dict[str, Any]] | None = None,
) -> web.StreamResponse:
    roster = await inputs.roster(_ctx(request), actor_of(request))
    names = {u.id: u.display_name for u in roster.clinicians}
    return render(
        "rota_people.html",
        request,
        {
            "roster": roster,
            "names": names,
            "leave": sorted(roster.leave, key=lambda e: (e.first, names.get(e.staff_id, ""))),
            "requests": sorted(roster.requests, key=lambda r: (r.first, names.get(r.staff_id, ""))),
            "leave_kinds": list(LeaveKind),
            "request_kinds": REQUEST_KINDS,
            "shift_names": inputs.shift_names(_ctx(request)),
            "errors": errors or {},
            "forms": forms or {},
        },
        status=status,
    )


@routes.get("/rota/people")
@require(*LEAD, hub_wide=True)
async def people(request: web.Request) -> web.StreamResponse:
    return await _render_people(request)


@routes.post("/rota/people/contract")
@require(*LEAD, hub_wide=True)
async def contract(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    values: dict[str, Any] = {
        "staff_id": text(data, "staff_id"),
        "hours": text(data, "hours"),
        "night_capable": checkbox(data, "night_capable"),
    }
    try:
        staff_id = _staff_id(values["staff_id"])
        try:
            hours = float(values["hours"])
        except ValueError:
            raise ValidationError(
                f"contracted hours: {values['hours'][:20]!r} is not a number of hours a week"
            ) from None
        await inputs.set_contract(
            _ctx(request), actor_of(request), staff_id, hours, values["night_capable"]
        )
    except InputError as err:
        return await _render_people(
            request, status=422, errors={"contract": err.message}, forms={"contract": values}
        )
    raise web.HTTPSeeOther(f"/rota/people#staff-{staff_id}")


@routes.post("/rota/people/leave")
@require(*LEAD, hub_wide=True)
async def add_leave(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    values = {k: text(data, k) for k in ("staff_id", "first", "last", "kind")}
    try:
        staff_id = _staff_id(values["staff_id"])
        first = _day(values["first"], "from")
        last = _day(values["last"], "to", default=first)
        try:
            kind = LeaveKind(values["kind"])
        except ValueError:
            raise ValidationError("choose a kind of leave") from None
        await inputs.add_leave(_ctx(request), actor_of(request), staff_id, first, last, kind)
    except InputError as err:
        return await _render_people(
            request, status=422, errors={"leave": err.message}, forms={"leave": values}
        )
    raise web.HTTPSeeOther("/rota/people#leave")


@routes.post("/rota/people/leave/{leave_id}/remove")
@require(*LEAD, hub_wide=True)
async def remove_leave(request: web.Request) -> web.StreamResponse:
    leave_id = int_param(request, "leave_id")
    await inputs.remove_leave(_ctx(request), actor_of(request), leave_id)
    raise web.HTTPSeeOther("/rota/people#leave")


@routes.post("/rota/people/requests")
@require(*LEAD, hub_wide=True)
async def add_request(request: web.Request) -> web.StreamResponse:
    values = _request_values(await form(request))
    try:
        staff_id = _staff_id(values["staff_id"])
        await inputs.add_request(
            _ctx(request), actor_of(request), staff_id, *_parse_request(values)
        )
    except InputError as err:
        return await _render_people(
            request, status=422, errors={"request": err.message}, forms={"request": values}
        )
    raise web.HTTPSeeOther("/rota/people#requests")


@routes.post("/rota/people/requests/{request_id}/remove")
@require(*LEAD, hub_wide=True)
async def remove_request(request: web.Request) -> web.StreamResponse:
    request_id = int_param(request, "request_id")
    await inputs.remove_request(_ctx(request), actor_of(request), request_id)
    raise web.HTTPSeeOther("/rota/people#requests")


# -- weekly demand ------------------------------------------------------------------


async def _render_demand(
    request: web.Request,
    *,
    status: int = 200,
    values: list[str] | None = None,
    forecast: Forecast | None = None,
    error: str | None = None,
    notice: str | None = None,
    before: date | None = None,
) -> web.StreamResponse:
    ctx = _ctx(request)
    roster = await inputs.roster(ctx, actor_of(request))
    if values is None:
        week = forecast.clinicians if forecast is not None else roster.demand
        values = [str(v) for v in week]
    numbers = [float(v) if _is_number(v) else 0.0 for v in values]
    titles = [f"{hour_name(h)}: {values[h]} clinicians" for h in range(HOURS_PER_WEEK)]
    cells = []
    for h in range(HOURS_PER_WEEK):
        title = hour_name(h)
        if forecast is not None:
            title += (
                f": {forecast.arrivals_per_hour[h]:.2f} calls/h, "
                f"{forecast.handling_s[h] / 60:.0f} min handling"
            )
        cells.append({"name": f"h{h}", "value": values[h], "title": title})
    arrivals = None
    if forecast is not None:
        arrivals = week_chart(
            forecast.arrivals_per_hour,
            [
                f"{hour_name(h)}: {forecast.arrivals_per_hour[h]:.2f} calls/h, "
                f"mean handling {forecast.handling_s[h] / 60:.1f} min"
                for h in range(HOURS_PER_WEEK)
            ],
            "arrivals",
        )
    today = ctx.clock.now().astimezone(hub_zone()).date()
    return render(
        "rota_demand.html",
        request,
        {
            "rows": [cells[d * 24 : d * 24 + 24] for d in range(7)],
            "days": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
            "chart": week_chart(numbers, titles),
            "arrivals": arrivals,
            "forecast": forecast,
            "mean_arrivals": sum(forecast.arrivals_per_hour) / HOURS_PER_WEEK if forecast else 0,
            "mean_handling_min": (sum(forecast.handling_s) / HOURS_PER_WEEK / 60)
            if forecast
            else 0,
            "is_default": roster.demand_is_default and forecast is None,
            "total": sum(numbers),
            "before": (before or today).isoformat(),
            "settings": ctx.settings.rota,
            "error": error,
            "notice": notice,
        },
        status=status,
    )


def _is_number(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return True


@routes.get("/rota/demand")
@require(*LEAD, hub_wide=True)
async def demand(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    actor = actor_of(request)
    inputs.require_lead(actor)
    notice = (
        "Demand saved: new rotas are generated against it." if "saved" in request.query else None
    )
    if "forecast" not in request.query:
        return await _render_demand(request, notice=notice)
    try:
        today = ctx.clock.now().astimezone(hub_zone()).date()
        before = _day(request.query.get("before", ""), "before", default=today)
        result = await inputs.forecast_demand(ctx, actor, before)
    except ValidationError as err:
        return await _render_demand(request, status=422, error=err.message)
    return await _render_demand(
        request,
        forecast=result,
        before=before,
        notice="Forecast from call history: check it, then press Save to use it (not saved yet).",
    )


@routes.post("/rota/demand")
@require(*LEAD, hub_wide=True)
async def save_demand(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    raw = [text(data, f"h{h}").strip() for h in range(HOURS_PER_WEEK)]
    try:
        week = []
        for h, value in enumerate(raw):
            if not value.isdigit() or len(value) > 4:
                raise ValidationError(
                    f"demand for {hour_name(h)} must be a whole number of clinicians, "
                    f"not {value[:10]!r}"
                )
            week.append(int(value))
        await inputs.set_demand(_ctx(request), actor_of(request), week)
    except ValidationError as err:
        return await _render_demand(request, status=422, values=raw, error=err.message)
    raise web.HTTPSeeOther("/rota/demand?saved=1")


# -- a clinician's own shifts and requests --------------------------------------------


async def _render_mine(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
) -> web.StreamResponse:
    ctx = _ctx(request)
    actor = actor_of(request)
    now = ctx.clock.now()
    zone = hub_zone()
    shifts = await plans.my_shifts(ctx, actor, now, now + timedelta(weeks=MINE_WEEKS))
    rows = []
    for s in shifts:
        start, end = s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)
        rows.append(
            {
                "day": start.date(),
                "shift": s.shift,
                "start": f"{start:%H:%M}",
                "end": f"{end:%H:%M}"
                + (f" ({end:%a %d %b})" if end.date() != start.date() else ""),
                "hours": round((s.ends_at - s.starts_at).total_seconds() / 3600, 1),
            }
        )
    own = await inputs.own_requests(ctx, actor)
    return render(
        "rota_mine.html",
        request,
        {
            "rows": rows,
            "weeks": MINE_WEEKS,
            "requests": sorted(own, key=lambda r: r.first),
            "request_kinds": REQUEST_KINDS,
            "shift_names": inputs.shift_names(ctx),
            "on_rota": actor.role is Role.CLINICIAN,
            "error": error,
            "form": values or {},
        },
        status=status,
    )


@routes.get("/rota/mine")
@require()
async def mine(request: web.Request) -> web.StreamResponse:
    return await _render_mine(request)


@routes.get("/rota/mine.ics")
@require()
async def mine_calendar(request: web.Request) -> web.StreamResponse:
    """The same shifts as "My shifts", as an iCalendar file to import into a calendar."""
    ctx = _ctx(request)
    actor = actor_of(request)
    now = ctx.clock.now()
    shifts = await plans.my_shifts(ctx, actor, now, now + timedelta(weeks=MINE_WEEKS))
    body = shifts_calendar(actor.name, shifts, now)
    return web.Response(
        body=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="telehub-my-shifts.ics"',
            "Cache-Control": "no-store",
        },
    )


@routes.post("/rota/mine/requests")
@require()
async def add_own_request(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    values = _request_values(await form(request))
    try:
        await inputs.add_request(_ctx(request), actor, actor.id, *_parse_request(values))
    except InputError as err:
        return await _render_mine(request, status=422, error=err.message, values=values)
    raise web.HTTPSeeOther("/rota/mine#requests")


@routes.post("/rota/mine/requests/{request_id}/remove")
@require()
async def remove_own_request(request: web.Request) -> web.StreamResponse:
    request_id = int_param(request, "request_id")
    await inputs.remove_request(_ctx(request), actor_of(request), request_id)
    raise web.HTTPSeeOther("/rota/mine#requests")
