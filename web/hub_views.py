"""Hub staff pages: homes and resident records (each view audited)."""

from __future__ import annotations

from aiohttp import web

from hub import admin, records
from hub.access import Actor, Role
from hub.residents import format_nhs_number
from web.forms import int_param
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
    ctx = request.app[CTX]
    record = await records.view_resident(ctx, _actor(request), int_param(request, "resident_id"))
    home = await admin.get_home(ctx, _actor(request), record.resident.home_id)
    return render(
        "resident.html",
        request,
        {"record": record, "home": home, "fmt_nhs": format_nhs_number},
    )
