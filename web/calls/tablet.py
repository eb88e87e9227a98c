"""The care-home tablet: enrolment, then its home's start page and resident list.

The start page also lists the home's recent calls whose follow-up window is open, so
carers can record that a resident went to hospital or needed a GP after all (a
re-presentation, which cancels the matching "avoided" in the reports): choose, check
what changes, confirm; undo for a few minutes (web/calls/representation_form.py).
"""

from __future__ import annotations

from aiohttp import web

from hub.calls import history
from hub.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    LockedOut,
    NotFound,
    ValidationError,
)
from hub.outcomes import representations
from hub.outcomes.codes import RepresentationKind
from hub.outcomes.representations import Change
from hub.people import admin, enrolment, resident_records
from hub.people.access import Actor
from hub.people.residents import format_nhs_number
from web.calls import representation_form
from web.http.forms import form, int_param, text
from web.http.keys import CTX
from web.http.local_time import local
from web.http.render import render
from web.http.route_access import public
from web.http.security import (
    DEVICE_COOKIE,
    DEVICE_COOKIE_MAX_AGE,
    actor_of,
    optional_actor,
    require_actor,
    require_device,
    set_cookie,
)
from web.http.throttles import EnrolmentGuard

routes = web.RouteTableDef()


@routes.get("/enrol")
@public
async def enrol_page(request: web.Request) -> web.StreamResponse:
    actor = optional_actor(request)
    if actor is not None and actor.is_device:
        raise web.HTTPSeeOther("/tablet")
    return render("enrol.html", request, {})


@routes.post("/enrol")
@public
async def enrol_submit(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    guard = EnrolmentGuard(request)
    try:
        guard.check()  # before the code is looked up: guessing gets slower and slower
        enrolled = await enrolment.enrol(request.app[CTX], text(data, "code"))
    except (AuthenticationFailed, ValidationError) as err:
        locked = isinstance(err, LockedOut)
        if not locked:
            guard.failed()
        response = render(
            "enrol.html",
            request,
            {"error": err.message, "code": text(data, "code")[:20]},
            status=429 if locked else 401 if isinstance(err, AuthenticationFailed) else 422,
        )
        if isinstance(err, LockedOut):
            response.headers["Retry-After"] = str(err.retry_after_s)
        return response
    guard.succeeded()
    response = web.HTTPSeeOther("/tablet")
    set_cookie(response, request, DEVICE_COOKIE, enrolled.token, max_age=DEVICE_COOKIE_MAX_AGE)
    raise response


def _device(request: web.Request) -> Actor:
    actor = actor_of(request)
    assert actor.is_device and actor.home_id is not None
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
    undone: Change | None = None,
    status: int = 200,
) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = _device(request)
    assert actor.home_id is not None
    search = request.query.get("q", "")
    home = await admin.get_home(ctx, actor, actor.home_id)
    residents = await resident_records.residents_of_home(ctx, actor, actor.home_id, search)
    recent = await history.recent_calls_of_home(ctx, actor, actor.home_id)
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
            "undoable": {
                rep.id: rep.recorded_at + representations.undo_window(ctx)
                for rc in recent
                for rep in rc.representations
                if representations.can_undo(ctx, actor, rep)
            },
            "undone": undone,
            "request_rep": int(rep) if (rep := request.query.get("rep", "")).isdigit() else None,
        },
        status=status,
    )


@routes.post("/tablet/calls/{call_id}/representations")
@require_device
async def record_representation(request: web.Request) -> web.StreamResponse:
    """The resident went to A&E / was admitted / 999 / an ambulance / a GP after all.

    Two steps (web/calls/representation_form.py): the first post shows what changes, the
    confirming one records it; then it can be undone for a few minutes.
    """
    ctx = request.app[CTX]
    actor = _device(request)
    call_id = int_param(request, "call_id")
    try:
        data, confirmed = await representation_form.read(request, ctx)
        if not confirmed:
            change = await representations.preview(ctx, actor, call_id, data)
            return representation_form.confirm_page(
                request,
                ctx,
                change,
                action=request.path,
                back="/tablet#recent",
                body_class="tablet",
            )
        done = await representations.record(ctx, actor, call_id, data, confirmed=True)
    except NotFound:
        await history.audit_refused(ctx, actor, call_id, "representation")
        raise
    except (ValidationError, Conflict) as err:
        status = 409 if isinstance(err, Conflict) else 422
        return await _render_home(request, error=err.message, error_call=call_id, status=status)
    raise web.HTTPSeeOther(f"/tablet?recorded={call_id}&rep={done.representation.id}#recent")


@routes.post("/tablet/calls/{call_id}/representations/{rep_id}/undo")
@require_device
async def undo_representation(request: web.Request) -> web.StreamResponse:
    """Undo a re-presentation this tablet recorded a few minutes ago."""
    ctx = request.app[CTX]
    actor = _device(request)
    call_id = int_param(request, "call_id")
    try:
        change = await representations.undo(ctx, actor, call_id, int_param(request, "rep_id"))
    except NotFound:
        await history.audit_refused(ctx, actor, call_id, "representation undo")
        raise
    except (Conflict, Forbidden) as err:
        status = 409 if isinstance(err, Conflict) else 403
        return await _render_home(request, error=err.message, error_call=call_id, status=status)
    return await _render_home(request, undone=change)


@routes.get("/api/homes/{home_id}/residents")
@require_actor
async def api_residents(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    residents = await resident_records.residents_of_home(
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
@require_actor
async def api_resident(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    record = await resident_records.view_resident(
        request.app[CTX], actor, int_param(request, "resident_id")
    )
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
                    "outcome": c.outcome.value if c.outcome else None,
                    "state": c.state.value,
                }
                for c in record.consultations
            ],
        }
    )
