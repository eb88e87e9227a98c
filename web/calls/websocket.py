"""The WebSocket endpoint: authenticate and check Origin before upgrading, then hand
the socket to the signalling layer."""

from __future__ import annotations

from aiohttp import web

from hub.calls.guest_services import guest_actor
from hub.people.auth import session_actor
from hub.people.devices import digest
from hub.people.enrolment import device_actor
from signalling.session import serve
from web.http.errors import error_response
from web.http.identity import guest_of
from web.http.keys import CTX, SWITCHBOARD
from web.http.security import (
    DEVICE_COOKIE,
    GUEST_COOKIE,
    SESSION_COOKIE,
    optional_actor,
    require_actor,
    require_guest,
)

routes = web.RouteTableDef()


def origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin", "")
    own = f"{request.scheme}://{request.host}"
    return origin == own or origin in request.app[CTX].settings.server.allowed_origins


@routes.get("/ws")
@require_actor
async def websocket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        return error_response(
            request, 403, "bad_origin", "WebSocket connections must come from telehub's own pages"
        )
    actor = optional_actor(request)
    if actor is None:
        return error_response(request, 401, "unauthenticated", "log in or enrol first")
    ctx = request.app[CTX]
    session_token = request.cookies.get(SESSION_COOKIE, "")
    device_token = request.cookies.get(DEVICE_COOKIE, "")

    async def still_allowed() -> bool:
        # A session that expired or a tablet revoked mid-call loses its socket too.
        if actor.is_device:
            return await device_actor(ctx, device_token) is not None
        found = await session_actor(ctx, session_token)
        return found is not None and found[1].stage == "full"

    # The session's digest names this socket in AccessEnded events (logout, expiry).
    session = None if actor.is_device else digest(session_token)
    return await serve(request, actor, request.app[SWITCHBOARD], still_allowed, session)


@routes.get("/ws/guest")
@require_guest
async def guest_websocket(request: web.Request) -> web.StreamResponse:
    """A guest's socket: the same protocol, but a guest may only take part in the media
    of the call they were let into (signalling/session.py, ``GUEST_MESSAGES``)."""
    if not origin_allowed(request):
        return error_response(
            request, 403, "bad_origin", "WebSocket connections must come from telehub's own pages"
        )
    guest = guest_of(request)
    ctx = request.app[CTX]
    token = request.cookies.get(GUEST_COOKIE, "")

    async def still_allowed() -> bool:
        # Removed, left, or the call ended: the socket goes too.
        return await guest_actor(ctx, token) is not None

    return await serve(request, guest, request.app[SWITCHBOARD], still_allowed, None)
