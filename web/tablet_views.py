"""The care-home tablet: enrolment, then its home's start page and resident list."""

from __future__ import annotations

from aiohttp import web

from hub import admin, enrolment, records
from hub.errors import AuthenticationFailed, ValidationError
from hub.residents import format_nhs_number
from web.forms import form, int_param, text
from web.keys import CTX
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


@routes.get("/tablet")
@require_device
async def tablet_home(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    assert actor is not None and actor.home_id is not None
    search = request.query.get("q", "")
    home = await admin.get_home(ctx, actor, actor.home_id)
    residents = await records.residents_of_home(ctx, actor, actor.home_id, search)
    return render(
        "tablet_home.html",
        request,
        {"home": home, "residents": residents, "q": search, "fmt_nhs": format_nhs_number},
    )


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
