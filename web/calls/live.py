"""Calls over HTTP: the tablet's call pages, the clinician console, and their JSON API.

Live updates travel over the WebSocket (``/ws``, see docs/signalling.md); these
endpoints start a call, score observations as they are typed, and hand out ICE
servers with short-lived TURN credentials.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.calls import closure, live, news2
from hub.calls.consultation import SOFT_SIGNS, Reason, State
from hub.errors import ValidationError
from hub.outcomes import representations
from hub.outcomes.codes import FollowUp, Intention, OutcomeCode
from hub.people import admin, resident_records
from hub.people.access import Role
from media.turn import ice_servers, turn_credentials
from web.http.forms import int_param
from web.http.json_body import json_object
from web.http.keys import CTX
from web.http.local_time import local
from web.http.metrics import METRICS
from web.http.render import render
from web.http.security import actor_of, require, require_actor, require_device
from web.rota.routing import console_context

routes = web.RouteTableDef()


async def _json(request: web.Request) -> dict[str, Any]:
    return await json_object(request)


@routes.get("/tablet/call")
@require_device
async def pick_resident(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    assert actor.home_id is not None
    open_calls = await live.open_calls_of(ctx, actor)
    if open_calls:
        raise web.HTTPSeeOther(f"/tablet/calls/{open_calls[0].id}")
    # Residents called about lately come first: that is who carers look for.
    residents = await resident_records.residents_of_home(
        ctx, actor, actor.home_id, recent_first=True
    )
    return render("tablet_pick.html", request, {"residents": residents})


@routes.get("/tablet/call/{resident_id}")
@require_device
async def call_form(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    record = await resident_records.view_resident(
        ctx, actor_of(request), int_param(request, "resident_id")
    )
    return render(
        "tablet_call_form.html",
        request,
        {
            "resident": record.resident,
            "reasons": list(Reason),
            "soft_signs": SOFT_SIGNS,
            "intentions": list(Intention),
        },
    )


@routes.get("/tablet/calls/{call_id}")
@require_device
async def call_page(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    view = await live.view(ctx, actor, int_param(request, "call_id"))
    resident = await resident_records.view_resident_details(ctx, actor, view.call.resident_id)
    queued = view.call.state in (State.REQUESTED, State.WAITING)
    return render(
        "tablet_call.html", request, {"call": view.call, "resident": resident, "queued": queued}
    )


@routes.post("/api/calls")
@require_device
async def api_request_call(request: web.Request) -> web.StreamResponse:
    actor = actor_of(request)
    call = await live.request_call(
        request.app[CTX], actor, live.CallRequest.parse(await _json(request))
    )
    return web.json_response(
        {"call_id": call.id, "state": call.state.value, "url": f"/tablet/calls/{call.id}"},
        status=201,
    )


@routes.get("/api/calls/{call_id}")
@require_actor
async def api_call(request: web.Request) -> web.StreamResponse:
    view = await live.view(request.app[CTX], actor_of(request), int_param(request, "call_id"))
    c = view.call
    return web.json_response(
        {
            "call_id": c.id,
            "state": c.state.value,
            "resident_id": c.resident_id,
            "home_id": c.home_id,
            "reason": c.reason.value,
            "soft_signs": list(c.soft_signs),
            "observations": dict(c.observations),
            "news2_score": c.news2_score,
            "news2_band": c.news2_band.value if c.news2_band else None,
            # An incomplete set's band is a lower bound, never "normal": say what is missing.
            "news2_missing": list(news2.missing_from(c.observations)),
            "intention": c.intention.value if c.intention else None,
            "requested_at": c.requested_at.isoformat(),
            "position": view.position,
            "clinician_name": view.clinician_name,
        }
    )


@routes.get("/api/outcomes/pending")
@require(Role.CLINICIAN)
async def api_pending_outcomes(request: web.Request) -> web.StreamResponse:
    """Calls this clinician took that still need their outcome (deferred ones too: they
    stay outstanding until recorded), oldest first; times also as UK wall-clock text."""
    pending = await closure.outstanding_outcomes(request.app[CTX], actor_of(request))
    return web.json_response(
        {
            "calls": [
                {
                    "call_id": o.call.id,
                    "resident_id": o.call.resident_id,
                    "resident_name": o.resident_name,
                    "reason": o.call.reason.value,
                    "ended_at": o.call.ended_at.isoformat() if o.call.ended_at else None,
                    "ended_at_uk": local(o.call.ended_at),
                    "deferred": o.deferred,
                    "deferred_reason": o.call.outcome_deferred_reason,
                }
                for o in pending
            ]
        }
    )


@routes.post("/api/calls/{call_id}/outcome/defer")
@require(Role.CLINICIAN)
async def api_defer_outcome(request: web.Request) -> web.StreamResponse:
    """Put an ended call's outcome off, with a reason (``{"reason": "..."}``)."""
    data = await _json(request)
    reason = data.get("reason")
    call = await closure.defer_outcome(
        request.app[CTX],
        actor_of(request),
        int_param(request, "call_id"),
        reason if isinstance(reason, str) else "",
    )
    deferred_at = call.outcome_deferred_at
    return web.json_response(
        {"call_id": call.id, "deferred_at": deferred_at.isoformat() if deferred_at else None}
    )


@routes.post("/api/calls/{call_id}/outcome")
@require(Role.CLINICIAN, refusal="only clinicians record outcomes")
async def api_record_outcome(request: web.Request) -> web.StreamResponse:
    data = await _json(request)
    call = await closure.record_outcome(
        request.app[CTX],
        actor_of(request),
        int_param(request, "call_id"),
        data,
        str(data.get("why") or ""),
    )
    outcome = call.outcome.value if call.outcome else None
    return web.json_response({"call_id": call.id, "outcome": outcome})


@routes.post("/api/calls/{call_id}/representations")
@require_actor
async def api_record_representation(request: web.Request) -> web.StreamResponse:
    """Record a re-presentation. Without ``"confirm": true`` nothing is stored: 422
    ``confirmation_required`` whose message says what would change (docs/outcomes.md)."""
    data = await _json(request)
    done = await representations.record(
        request.app[CTX],
        actor_of(request),
        int_param(request, "call_id"),
        data,
        confirmed=data.get("confirm") is True,
    )
    return web.json_response(
        {
            "call_id": done.representation.call_id,
            "representation_id": done.representation.id,
            "no_longer_avoided": list(done.change.no_longer_avoided),
            "message": done.change.sentence,
            "undo_until": done.undo_until.isoformat(),
        },
        status=201,
    )


@routes.post("/api/calls/{call_id}/representations/{rep_id}/undo")
@require_actor
async def api_undo_representation(request: web.Request) -> web.StreamResponse:
    """Undo a re-presentation this actor recorded within the undo window."""
    change = await representations.undo(
        request.app[CTX],
        actor_of(request),
        int_param(request, "call_id"),
        int_param(request, "rep_id"),
    )
    return web.json_response(
        {
            "call_id": change.call.id,
            "representation_id": int_param(request, "rep_id"),
            "avoided_again": list(change.avoided_again),
            "message": change.sentence,
        }
    )


@routes.post("/api/news2")
@require_actor
async def api_news2(request: web.Request) -> web.StreamResponse:
    """Score observations as the carer types them (the one NEWS2 implementation)."""
    actor_of(request)
    data = await _json(request)
    unknown = sorted(set(data) - set(live.OBSERVATION_FIELDS))
    if unknown:
        raise ValidationError(f"unknown observation(s): {', '.join(unknown)}")
    obs = news2.Observations(**{k: v for k, v in data.items() if v is not None and v != ""})
    result = news2.score(obs)
    return web.json_response(
        {
            "aggregate": result.aggregate,
            "band": result.band.value,
            "complete": result.complete,
            "missing": list(result.missing),
            "single_parameter_3": result.single_parameter_3,
            "parameters": dict(result.parameters),
        }
    )


@routes.get("/api/ice-servers")
@require_actor
async def api_ice_servers(request: web.Request) -> web.StreamResponse:
    """STUN/TURN for this browser; TURN credentials only for the authenticated."""
    actor = actor_of(request)
    ctx = request.app[CTX]
    media = ctx.settings.media
    creds = None
    if media.turn_secret and media.turn_urls:
        from datetime import timedelta

        creds = turn_credentials(
            media.turn_secret,
            actor.ref.replace(":", "-"),
            ctx.clock.now(),
            timedelta(seconds=media.turn_ttl_s),
        )
        request.app[METRICS].turn_issued.inc()
    return web.json_response(
        {
            "ice_servers": ice_servers(media.turn_urls, media.stun_urls, creds),
            "ice_transport_policy": media.ice_transport_policy,
            "ttl_s": media.turn_ttl_s,
        }
    )


@routes.get("/console")
@require(Role.CLINICIAN, Role.MANAGER, Role.ADMIN, hub_wide=True)
async def console(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    colleagues = await admin.other_active_clinicians(ctx, actor)
    return render(
        "console.html",
        request,
        {
            "can_answer": actor.role is Role.CLINICIAN,
            "colleagues": colleagues,
            "homes": await admin.list_homes(ctx, actor),
            "outcomes": list(OutcomeCode),
            "follow_ups": list(FollowUp),
            "reasons": list(Reason),
            "soft_signs": SOFT_SIGNS,
            **await console_context(request, actor),  # who may answer (routing by shift)
        },
    )
