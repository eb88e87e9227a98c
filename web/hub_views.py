"""Hub staff pages: homes and resident records (each view audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from hub import admin, closure, records
from hub.access import Actor, Role
from hub.errors import Conflict, ValidationError
from hub.outcomes import RepresentationKind
from hub.residents import format_nhs_number
from web.forms import form, int_param, text
from web.keys import CTX
from web.render import render
from web.security import actor_of, require

routes = web.RouteTableDef()
STAFF = (Role.CLINICIAN, Role.MANAGER, Role.ADMIN)


def _actor(request: web.Request) -> Actor:
    actor = actor_of(request)
    assert actor is not None
    return actor


@routes.get("/hub")
@require(*STAFF)
async def hub_index(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    homes = await admin.list_homes(ctx, _actor(request))
    async with ctx.uow() as uow:
        counts = await uow.residents.count_by_home()
    return render("hub_index.html", request, {"homes": homes, "counts": counts})


@routes.get("/hub/homes/{home_id}")
@require(*STAFF)
async def hub_home(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    home_id = int_param(request, "home_id")
    home = await admin.get_home(ctx, _actor(request), home_id)
    search = request.query.get("q", "")
    residents = await records.residents_of_home(ctx, _actor(request), home_id, search)
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
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.StreamResponse:
    ctx = request.app[CTX]
    record = await records.view_resident(ctx, _actor(request), int_param(request, "resident_id"))
    home = await admin.get_home(ctx, _actor(request), record.resident.home_id)
    now = ctx.clock.now()
    window = closure.window(ctx)
    open_for_follow_up = {
        c.id
        for c in record.consultations
        if c.ended_at and c.outcome and now <= c.ended_at + window
    }
    return render(
        "resident.html",
        request,
        {
            "record": record,
            "home": home,
            "fmt_nhs": format_nhs_number,
            "error": error,
            "follow_up_ids": open_for_follow_up,
            "kinds": list(RepresentationKind),
            "follow_up_hours": ctx.settings.outcomes.follow_up_hours,
        },
        status=status,
    )


@routes.post("/residents/{resident_id}/calls/{call_id}/representations")
@require(*STAFF)
async def record_representation(request: web.Request) -> web.StreamResponse:
    """Staff record that the resident reached hospital after all (cancels "avoided")."""
    ctx = request.app[CTX]
    data = await form(request)
    when = text(data, "at")
    try:
        at = datetime.fromisoformat(when).replace(tzinfo=UTC) if when else ctx.clock.now()
    except ValueError:
        return await _render_resident(request, error=f"{when!r} is not a date and time", status=422)
    try:
        await closure.record_representation(
            ctx,
            _actor(request),
            int_param(request, "call_id"),
            {"kind": text(data, "kind"), "at": at.isoformat()},
        )
    except (ValidationError, Conflict) as err:
        return await _render_resident(request, error=err.message, status=422)
    raise web.HTTPSeeOther(f"/residents/{int_param(request, 'resident_id')}")
