"""The care-home tablet: enrolment, then its home's start page and resident list.

The start page also lists the home's recent calls whose follow-up window is open, so
carers can record that a resident went to hospital after all (a re-presentation,
which cancels the matching "avoided" in the reports).
"""

from __future__ import annotations

from aiohttp import web

from hub import admin, call_records, closure, enrolment, records
from hub.access import Actor
from hub.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from hub.outcomes import RepresentationKind
from hub.residents import format_nhs_number
from web.forms import form, int_param, text
from web.keys import CTX
from web.local_time import local, parse_local
from web.render import render
from web.security import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE, actor_of, require_device, set_cookie

routes = web.RouteTableDef()


@routes.get("/enrol")
async def enrol_page(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    if actor is not None and actor.is_device:
        raise web.HTTPSeeOther("/tablet")
    return render("enrol.html", request, {})


@routes.post("/enrol")
async def enrol_submit(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    try:
        enrolled = await enrolment.enrol(request.app[CTX], text(data, "code"))
    except (AuthenticationFailed, ValidationError) as err:
        return render(
            "enrol.html",
            request,
            {"error": err.message, "code": text(data, "code")[:20]},
            status=401 if isinstance(err, AuthenticationFailed) else 422,
        )
    response = web.HTTPSeeOther("/tablet")
    set_cookie(response, request, DEVICE_COOKIE, enrolled.token, max_age=DEVICE_COOKIE_MAX_AGE)
    raise response


def _device(request: web.Request) -> Actor:
    actor = actor_of(request)
    assert actor is not None and actor.is_device and actor.home_id is not None
    return actor


@routes.get("/tablet")
@require_device
async def tablet_home(request: web.Request) -> web.StreamResponse:
    return await _render_home(request)


async def _render_home(
    request: web.Request,
    *,
    error: str | None = None,
    error_call: int | None = None,
    status: int = 200,
) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = _device(request)
    assert actor.home_id is not None
    search = request.query.get("q", "")
    home = await admin.get_home(ctx, actor, actor.home_id)
    residents = await records.residents_of_home(ctx, actor, actor.home_id, search)
    recent = await call_records.recent_calls_of_home(ctx, actor, actor.home_id)
    return render(
        "tablet_home.html",
        request,
        {
            "home": home,
            "residents": residents,
            "q": search,
            "fmt_nhs": format_nhs_number,
            "recent": recent,
            "kinds": list(RepresentationKind),
            "follow_up_hours": ctx.settings.outcomes.follow_up_hours,
            "local": local,
            "error": error,
            "error_call": error_call,
            "recorded": request.query.get("recorded", ""),
        },
        status=status,
    )


@routes.post("/tablet/calls/{call_id}/representations")
@require_device
async def record_representation(request: web.Request) -> web.StreamResponse:
    """The resident went to A&E / was admitted / 999 was called / was conveyed after all."""
    ctx = request.app[CTX]
    actor = _device(request)
    call_id = int_param(request, "call_id")
    data = await form(request)
    when = text(data, "at").strip()
    try:
        at = parse_local(when, field="at", name="when") if when else ctx.clock.now()
        await closure.record_representation(
            ctx, actor, call_id, {"kind": text(data, "kind"), "at": at.isoformat()}
        )
    except NotFound:
        await call_records.audit_refused(ctx, actor, call_id, "representation")
        raise
    except (ValidationError, Conflict) as err:
        status = 409 if isinstance(err, Conflict) else 422
        return await _render_home(request, error=err.message, error_call=call_id, status=status)
    raise web.HTTPSeeOther(f"/tablet?recorded={call_id}#recent")


@routes.get("/api/homes/{home_id}/residents")
async def api_residents(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    if actor is None:
        raise AuthenticationFailed("log in or enrol this tablet first")
    residents = await records.residents_of_home(
        request.app[CTX], actor, int_param(request, "home_id"), request.query.get("q", "")
    )
    return web.json_response(
        {
            "residents": [
                {
                    "id": r.id,
                    "name": r.display_name,
                    "date_of_birth": r.details.date_of_birth.isoformat(),
                    "nhs_number": r.details.nhs_number,
                    "dnacpr": r.details.dnacpr,
                    "end_of_life": r.details.end_of_life,
                }
                for r in residents
            ]
        }
    )


@routes.get("/api/residents/{resident_id}")
async def api_resident(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    if actor is None:
        raise AuthenticationFailed("log in or enrol this tablet first")
    record = await records.view_resident(request.app[CTX], actor, int_param(request, "resident_id"))
    r = record.resident
    d = r.details
    return web.json_response(
        {
            "id": r.id,
            "home_id": r.home_id,
            "name": r.display_name,
            "date_of_birth": d.date_of_birth.isoformat(),
            "nhs_number": d.nhs_number,
            "dnacpr": d.dnacpr,
            "end_of_life": d.end_of_life,
            "allergies": d.allergies,
            "alerts": d.alerts,
            "consultations": [
                {
                    "id": c.id,
                    "requested_at": c.requested_at.isoformat(),
                    "reason": c.reason.value,
                    "news2_score": c.news2_score,
                    "outcome": c.outcome,
                    "state": c.state.value,
                }
                for c in record.consultations
            ],
        }
    )
