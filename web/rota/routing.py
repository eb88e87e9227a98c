"""Routing on the console: who may answer which call, shift status, alerts.

The console page gets the viewer's routing when it is rendered (``console_context``)
and polls ``GET /api/routing`` after each queue update and every half minute: the
queue snapshot on the WebSocket is the same for every clinician, routing is not.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from hub.people.access import Actor, Role
from hub.rostering import routing, routing_rules
from hub.rostering.routing import ConsoleRouting
from web.http.keys import CTX, SWITCHBOARD
from web.http.security import actor_of, require

routes = web.RouteTableDef()


def routing_json(view: ConsoleRouting) -> dict[str, Any]:
    return {
        "at": view.at.isoformat(),
        "in_force": view.cover.in_force,
        "enforced": view.enforced,
        "answer_target_s": view.answer_target_s,
        "on_shift_ids": sorted(view.cover.staff),
        "viewer": {
            "clinician": view.clinician,
            "on_shift": view.on_shift,
            "read_only": view.read_only,
            "skills": sorted(view.skills),
            "shift_note": view.shift_note,
        },
        "calls": [
            {
                "call_id": c.entry.call_id,
                "state": c.entry.state,
                "needs": c.needs,
                "needs_label": routing_rules.skill_label(c.needs) if c.needs else None,
                "may_answer": c.may_answer,
                "refusal": c.refusal,
                "shortfall": c.shortfall,
                "waited_s": c.waited_s,
            }
            for c in view.calls
        ],
        "alerts": [
            {
                "call_id": a.call_id,
                "kind": a.kind,
                "home_name": a.home_name,
                "resident_name": a.resident_name,
                "reason": a.reason,
                "waited_s": a.waited_s,
                "why": a.why,
            }
            for a in view.alerts
        ],
    }


async def console_context(request: web.Request, actor: Actor) -> dict[str, Any]:
    """What console.html needs to know about routing when it is first drawn."""
    ctx = request.app[CTX]
    view = await routing.console_routing(ctx, actor)
    return {
        "routing": view,
        "read_only_off_shift": view.read_only,
        "shift_note": view.shift_note,
        "skill_for_reason": dict(ctx.settings.rota.skill_for_reason),
    }


@routes.get("/api/routing")
@require(Role.CLINICIAN, Role.MANAGER, Role.ADMIN, hub_wide=True)
async def api_routing(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    ctx = request.app[CTX]
    view = await routing.console_routing(ctx, actor)
    online = request.app[SWITCHBOARD].online_staff()
    colleagues = await routing.transfer_list(ctx, actor, view.cover, online)
    return web.json_response(
        {**routing_json(view), "colleagues": [dataclasses.asdict(c) for c in colleagues]}
    )
