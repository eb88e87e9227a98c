"""Guests of a live call over HTTP: the clinician's invitation API, the link a guest
opens (``/join/<token>``), and the guest's lobby (``/guest``).

A guest has no account: claiming a link sets the guest cookie (HttpOnly,
SameSite=Strict, Secure on HTTPS), which the identity middleware resolves into
``GUEST``, never into ``ACTOR`` — so the guest routes here (``require_guest``) are
the only ones a guest can open. Pages for links that no longer work say only that
(used, expired, withdrawn, unknown), nothing about the call or the resident. Media
and the guest's WebSocket come later; the clinician's call page does not use these
endpoints yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import segno
from aiohttp import web

from hub.calls import guest_services
from hub.calls.guests import Guest, Invitation, InvitationGone, InvitationStatus, parse_kind
from hub.errors import Forbidden, NotFound, ValidationError
from hub.people.access import Role
from web.http.forms import form, int_param, text
from web.http.identity import guest_of, optional_guest
from web.http.json_body import json_object
from web.http.keys import CTX
from web.http.local_time import hub_zone, local
from web.http.render import render
from web.http.route_access import public
from web.http.security import (
    GUEST_COOKIE,
    actor_of,
    clear_cookie,
    optional_actor,
    require,
    require_actor,
    require_guest,
    set_cookie,
)

routes = web.RouteTableDef()

_REFUSED = (InvitationGone, NotFound, Forbidden)


# -- the clinician ------------------------------------------------------------------


@routes.post("/api/calls/{call_id}/invitations")
@require(Role.CLINICIAN)
async def api_invite(request: web.Request) -> web.StreamResponse:
    """A single-use link for one guest: ``{"kind": "gp" | "family" | ...}``. The link (and
    its QR code, inline SVG) is in this answer only: telehub keeps just its digest."""
    call_id = int_param(request, "call_id")
    kind = parse_kind((await json_object(request)).get("kind"))
    invitation, token = await guest_services.invite(
        request.app[CTX], actor_of(request), call_id, kind
    )
    link = str(request.url.origin().with_path(f"/join/{token}"))
    minutes = request.app[CTX].settings.guests.invitation_minutes
    until = invitation.expires_at.astimezone(hub_zone()).strftime("%H:%M")
    return web.json_response(
        {
            "invitation": _invitation(invitation, invitation.created_at),
            "link": link,
            "expires_at": invitation.expires_at.isoformat(),
            "expires_at_uk": local(invitation.expires_at),
            "expires_words": f"Works once, for {minutes} minutes: until {until} UK time",
            "qr_svg": segno.make(link, error="m").svg_inline(scale=4, dark="#111", light="#fff"),
        },
        status=201,
    )


@routes.get("/api/calls/{call_id}/guests")
@require_actor
async def api_guests(request: web.Request) -> web.StreamResponse:
    """Who came as a guest (and, for the clinician who has the live call, its links)."""
    now = request.app[CTX].clock.now()
    found = await guest_services.participants(
        request.app[CTX], actor_of(request), int_param(request, "call_id")
    )
    return web.json_response(
        {
            "call_id": found.call_id,
            "guests": [_guest(g) for g in found.guests],
            "invitations": [_invitation(i, now) for i in found.invitations],
        }
    )


@routes.post("/api/calls/{call_id}/guests/end")
@require(Role.CLINICIAN)
async def api_end_guests(request: web.Request) -> web.StreamResponse:
    """End the guest part of the call (every guest removed, open links withdrawn)."""
    now = request.app[CTX].clock.now()
    ended = await guest_services.end_guests(
        request.app[CTX], actor_of(request), int_param(request, "call_id")
    )
    return web.json_response(
        {
            "removed": [_guest(g) for g in ended.removed],
            "withdrawn": [_invitation(i, now) for i in ended.withdrawn],
        }
    )


@routes.post("/api/guests/{guest_id}/admit")
@require(Role.CLINICIAN)
async def api_admit(request: web.Request) -> web.StreamResponse:
    guest = await guest_services.admit(
        request.app[CTX], actor_of(request), int_param(request, "guest_id")
    )
    return web.json_response({"guest": _guest(guest)})


@routes.post("/api/guests/{guest_id}/remove")
@require(Role.CLINICIAN)
async def api_remove(request: web.Request) -> web.StreamResponse:
    guest = await guest_services.remove(
        request.app[CTX], actor_of(request), int_param(request, "guest_id")
    )
    return web.json_response({"guest": _guest(guest)})


@routes.post("/api/invitations/{invitation_id}/withdraw")
@require(Role.CLINICIAN)
async def api_withdraw(request: web.Request) -> web.StreamResponse:
    now = request.app[CTX].clock.now()
    invitation = await guest_services.withdraw(
        request.app[CTX], actor_of(request), int_param(request, "invitation_id")
    )
    return web.json_response({"invitation": _invitation(invitation, now)})


# -- whoever opens a link -------------------------------------------------------------


@routes.get("/join/{token}")
@public
async def join_page(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    token = request.match_info["token"]
    try:
        invitation = await guest_services.look_up(ctx, token, opened_by=optional_actor(request))
    except _REFUSED as err:
        if await _already_theirs(request, err):
            raise web.HTTPSeeOther("/guest") from None  # the guest reloaded their link
        return _refused(request, err)
    return render("join_form.html", request, {"kind": invitation.kind, "token": token})


@routes.post("/join/{token}")
@public
async def join_submit(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    token = request.match_info["token"]
    name = text(await form(request), "name")
    opened_by = optional_actor(request)
    try:
        _guest_came, session = await guest_services.claim(ctx, token, name, opened_by)
    except _REFUSED as err:
        return _refused(request, err)
    except ValidationError as err:
        try:
            invitation = await guest_services.look_up(ctx, token, opened_by=opened_by)
        except _REFUSED as gone:
            return _refused(request, gone)
        context = {"kind": invitation.kind, "token": token, "name": name[:200], "error": err}
        return render("join_form.html", request, context, status=422)
    response = web.HTTPSeeOther("/guest")
    set_cookie(response, request, GUEST_COOKIE, session)  # a browser session's cookie
    raise response


# -- the guest -------------------------------------------------------------------------


@routes.get("/guest")
@require_guest
async def lobby(request: web.Request) -> web.StreamResponse:
    guest = await guest_services.current(request.app[CTX], guest_of(request))
    return render("guest_lobby.html", request, {"guest": guest})


@routes.get("/api/guest")
@require_guest
async def api_me(request: web.Request) -> web.StreamResponse:
    guest = await guest_services.current(request.app[CTX], guest_of(request))
    return web.json_response(
        {  # the guest's own state only: nothing about the call or the resident
            "name": guest.name,
            "kind": guest.kind.value,
            "kind_label": guest.kind.label,
            "state": guest.state.value,
            "state_label": guest.state.label,
        }
    )


@routes.post("/guest/leave")
@require_guest
async def leave(request: web.Request) -> web.StreamResponse:
    await guest_services.leave(request.app[CTX], guest_of(request))
    response = render("guest_left.html", request, {})
    clear_cookie(response, GUEST_COOKIE)
    return response


async def _already_theirs(request: web.Request, err: Exception) -> bool:
    """The used link is the one this browser's guest came in by."""
    guest = optional_guest(request)
    if guest is None or not isinstance(err, InvitationGone):
        return False
    if err.status is not InvitationStatus.USED:
        return False
    me = await guest_services.current(request.app[CTX], guest)
    return me.invitation_id == err.invitation_id


def _refused(request: web.Request, err: InvitationGone | NotFound | Forbidden) -> web.Response:
    status = 410 if isinstance(err, InvitationGone) else 403 if isinstance(err, Forbidden) else 404
    return render("join_refused.html", request, {"message": err.message}, status=status)


def _guest(g: Guest) -> dict[str, Any]:
    return {
        "id": g.id,
        "call_id": g.call_id,
        "invitation_id": g.invitation_id,
        "kind": g.kind.value,
        "kind_label": g.kind.label,
        "name": g.name,
        "state": g.state.value,
        "state_label": g.state.label,
        "joined_at": g.joined_at.isoformat(),
        "admitted_at": g.admitted_at.isoformat() if g.admitted_at else None,
        "left_at": g.left_at.isoformat() if g.left_at else None,
        "removed": g.removed_by is not None,
    }


def _invitation(i: Invitation, now: datetime) -> dict[str, Any]:
    return {
        "id": i.id,
        "call_id": i.call_id,
        "kind": i.kind.value,
        "kind_label": i.kind.label,
        "status": i.status(now).value,
        "created_at": i.created_at.isoformat(),
        "expires_at": i.expires_at.isoformat(),
        "expires_at_uk": local(i.expires_at),
        "used_at": i.used_at.isoformat() if i.used_at else None,
        "revoked_at": i.revoked_at.isoformat() if i.revoked_at else None,
    }
