"""Who is behind a request, as the identity middleware (``web.http.security``) found it,
and the CSRF token bound to them.

Kept apart from ``web.http.security`` so that rendering and error pages can ask without
importing the middlewares (which need the error pages): no import circle.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from hub.errors import AuthenticationFailed
from hub.people.access import Actor
from hub.people.sessions import StaffSession
from web.http.keys import CTX

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

ACTOR: web.RequestKey[Actor | None] = web.RequestKey("actor")
# A guest of a live call (guest cookie), kept apart from ACTOR: a guest is nobody to
# every route but the guest's own (``require_guest``), so no staff or tablet rule and
# no service reached through ``actor_of`` can ever see one.
GUEST: web.RequestKey[Actor | None] = web.RequestKey("guest")
SESSION = web.RequestKey("staff_session", StaffSession)
CSRF_BASIS = web.RequestKey("csrf_basis", str)


def csrf_token(request: web.Request) -> str:
    basis = request.get(CSRF_BASIS, "")
    secret = request.app[CTX].settings.security.secret_key.encode()
    return hmac.new(secret, f"csrf:{basis}".encode(), hashlib.sha256).hexdigest()


def optional_actor(request: web.Request) -> Actor | None:
    """Who is behind this request, if anyone (pages that also serve strangers)."""
    actor: Actor | None = request.get(ACTOR)
    return actor


def actor_of(request: web.Request) -> Actor:
    """Who is behind this request: the one way every handler behind an access rule asks.

    The route's rule (``require`` …) has already refused strangers; a handler reached
    without one is refused here the same way rather than trusted."""
    actor = optional_actor(request)
    if actor is None:
        raise AuthenticationFailed("log in or enrol this tablet first")
    return actor


def guest_of(request: web.Request) -> Actor:
    """The guest behind this request (routes behind ``require_guest`` only)."""
    guest: Actor | None = request.get(GUEST)
    if guest is None:
        raise AuthenticationFailed("open the link you were sent to join the call")
    return guest


def optional_guest(request: web.Request) -> Actor | None:
    guest: Actor | None = request.get(GUEST)
    return guest


def session_of(request: web.Request) -> StaffSession | None:
    session: StaffSession | None = request.get(SESSION)
    return session
