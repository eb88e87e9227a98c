"""Hub staff pages: homes and resident records (each view audited)."""

from __future__ import annotations

from aiohttp import web

from hub.calls import closure, history
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.outcomes import representations
from hub.outcomes.codes import RepresentationKind
from hub.people import admin, resident_records
from hub.people.access import Role
from hub.people.residents import format_nhs_number
from web.calls import representation_form
from web.http.forms import int_param
from web.http.keys import CTX
from web.http.local_time import local
from web.http.render import render
from web.http.security import actor_of, require

routes = web.RouteTableDef()
STAFF = (Role.CLINICIAN, Role.MANAGER, Role.ADMIN)


@routes.get("/hub")
@require(*STAFF)
async def hub_index(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    homes = await admin.list_homes(ctx, actor_of(request))
    counts = await resident_records.resident_counts(ctx, actor_of(request))
    return render("hub_index.html", request, {"homes": homes, "counts": counts})


@routes.get("/hub/homes/{home_id}")
@require(*STAFF)
async def hub_home(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    home_id = int_param(request, "home_id")
    home = await admin.get_home(ctx, actor_of(request), home_id)
    search = request.query.get("q", "")
    residents = await resident_records.residents_of_home(ctx, actor_of(request), home_id, search)
    return render(
        "hub_home.html",
        request,
        {"home": home, "residents": residents, "q": search, "fmt_nhs": format_nhs_number},
    )


@routes.get("/residents/{resident_id}")
@require(*STAFF)
async def resident_page(request: web.Request) -> web.StreamResponse:
    return await _render_resident(request)


async def _render_resident(
    request: web.Request,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> web.StreamResponse:
    ctx = request.app[CTX]
    record = await resident_records.view_resident(
        ctx, actor_of(request), int_param(request, "resident_id")
    )
    home = await admin.get_home(ctx, actor_of(request), record.resident.home_id)
    now = ctx.clock.now()
    window = closure.window(ctx)
    open_for_follow_up = {
        c.id
        for c in record.consultations
        if c.ended_at and c.outcome and now <= c.ended_at + window
    }
    recorded = await representations.for_calls(
        ctx, actor_of(request), [c for c in record.consultations if c.id in open_for_follow_up]
    )
    return render(
        "resident.html",
        request,
        {
            "record": record,
            "home": home,
            "fmt_nhs": format_nhs_number,
            "error": error,
            "follow_up_ids": open_for_follow_up,
            "recorded_reps": recorded,
            "local": local,
            "undo_minutes": ctx.settings.outcomes.representation_undo_minutes,
            "undoable": {
                rep.id: rep.recorded_at + representations.undo_window(ctx)
                for reps in recorded.values()
                for rep in reps
                if representations.can_undo(ctx, actor_of(request), rep)
            },
            "notice": notice
            or ("That has been recorded." if request.query.get("recorded") else None),
            "kinds": list(RepresentationKind),
            "follow_up_hours": ctx.settings.outcomes.follow_up_hours,
        },
        status=status,
    )


@routes.post("/residents/{resident_id}/calls/{call_id}/representations")
@require(*STAFF)
async def record_representation(request: web.Request) -> web.StreamResponse:
    """Staff record that the resident reached hospital or a GP after all (cancels
    "avoided"): choose, check what changes, confirm (web/calls/representation_form.py)."""
    ctx = request.app[CTX]
    resident_id = int_param(request, "resident_id")
    call_id = int_param(request, "call_id")
    try:
        data, confirmed = await representation_form.read(request, ctx)
        if not confirmed:
            change = await representations.preview(
                ctx, actor_of(request), call_id, data, resident_id=resident_id
            )
            return representation_form.confirm_page(
                request, ctx, change, action=request.path, back=f"/residents/{resident_id}"
            )
        await representations.record(
            ctx, actor_of(request), call_id, data, confirmed=True, resident_id=resident_id
        )
    except NotFound:
        await history.audit_refused(ctx, actor_of(request), call_id, "representation")
        raise
    except (ValidationError, Conflict) as err:
        return await _render_resident(request, error=err.message, status=422)
    raise web.HTTPSeeOther(f"/residents/{resident_id}?recorded={call_id}")


@routes.post("/residents/{resident_id}/calls/{call_id}/representations/{rep_id}/undo")
@require(*STAFF)
async def undo_representation(request: web.Request) -> web.StreamResponse:
    """Undo a re-presentation this member of staff recorded a few minutes ago."""
    ctx = request.app[CTX]
    call_id = int_param(request, "call_id")
    try:
        change = await representations.undo(
            ctx, actor_of(request), call_id, int_param(request, "rep_id")
        )
    except NotFound:
        await history.audit_refused(ctx, actor_of(request), call_id, "representation undo")
        raise
    except (Conflict, Forbidden) as err:
        status = 409 if isinstance(err, Conflict) else 403
        return await _render_resident(request, error=err.message, status=status)
    return await _render_resident(request, notice=f"Undone. {change.sentence}")
