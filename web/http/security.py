"""Security middlewares: who is asking (session, device or guest cookie), CSRF, headers.

Cookies are HttpOnly and SameSite=Strict, and Secure when the site is served over
HTTPS. CSRF uses a synchroniser token derived from the identity cookie:
``HMAC(secret, cookie value)``; pages embed it in forms and in a ``<meta>`` tag for
``fetch`` calls (header ``X-CSRF-Token``). Anonymous visitors get a random
``th_anon`` cookie so that the login and enrolment forms are protected too. Routes
marked ``@streamed_upload`` read large multipart bodies as a stream: their forms send
the token first, and only that field is read here.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.typedefs import Handler

from hub.calls.guest_services import guest_actor
from hub.people.access import Role
from hub.people.auth import session_actor
from hub.people.enrolment import device_actor
from web.http.errors import error_response
from web.http.identity import (
    ACTOR,
    CSRF_BASIS,
    GUEST,
    SESSION,
    UNSAFE_METHODS,
    actor_of,
    csrf_token,
    optional_actor,
    optional_guest,
    session_of,
)
from web.http.keys import CTX
from web.http.route_access import Rule, declare

__all__ = [  # who is acting lives in web.http.identity; importers may keep naming this module
    "ACTOR",
    "CSRF_BASIS",
    "SESSION",
    "UNSAFE_METHODS",
    "actor_of",
    "csrf_token",
    "optional_actor",
    "session_of",
]

SESSION_COOKIE = "th_session"
DEVICE_COOKIE = "th_device"
GUEST_COOKIE = "th_guest"  # a guest of one live call (hub/calls/guest_services.py)
ANON_COOKIE = "th_anon"
DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookie lifetime at 400 days
# A streamed upload's multipart body, after the CSRF middleware has read its first
# field (the token): the handler reads the rest from here.
STREAMED_FORM = web.RequestKey("streamed_form", MultipartReader)
_STREAMED = "_telehub_streamed_upload"
MAX_TOKEN_BYTES = 256

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_https(request: web.Request) -> bool:
    return request.secure


def set_cookie(
    response: web.StreamResponse,
    request: web.Request,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def clear_cookie(response: web.StreamResponse, name: str) -> None:
    response.del_cookie(name, path="/")


@web.middleware
async def headers_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Security headers on every response: the outermost middleware, so error pages
    (made by ``error_middleware`` inside it) and raised redirects get them too."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc.headers)
        raise
    if response.prepared:  # a WebSocket, already upgraded: its headers are gone
        return response
    _secure(request, response.headers)
    return response


def _secure(request: web.Request, h: MutableMapping[str, str]) -> None:
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "no-referrer")
    h.setdefault("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        h.setdefault("Cache-Control", "no-store")
    if is_https(request):
        h.setdefault("Strict-Transport-Security", "max-age=31536000")


@web.middleware
async def identity_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Resolve the session or device cookie into an Actor, and pick the CSRF basis.
    A guest cookie is resolved apart, into ``GUEST``: it never makes an Actor."""
    ctx = request.app[CTX]
    request[ACTOR] = None
    request[GUEST] = None
    new_anon: str | None = None
    session_token = request.cookies.get(SESSION_COOKIE)
    device_token = request.cookies.get(DEVICE_COOKIE)
    drop_session = False
    if session_token:
        found = await session_actor(ctx, session_token)
        if found is None:
            drop_session = True
        else:
            actor, session = found
            request[SESSION] = session
            if session.stage == "full":
                request[ACTOR] = actor
            request[CSRF_BASIS] = session_token
    if request[ACTOR] is None and device_token:
        device = await device_actor(ctx, device_token)
        if device is not None:
            request[ACTOR] = device
            request.setdefault(CSRF_BASIS, device_token)
    guest_token = request.cookies.get(GUEST_COOKIE)
    drop_guest = False
    if guest_token:
        # None once the guest left, was removed or the call ended: the cookie goes.
        request[GUEST] = await guest_actor(ctx, guest_token)
        if request[GUEST] is None:
            drop_guest = True
        else:
            request.setdefault(CSRF_BASIS, guest_token)
    if CSRF_BASIS not in request:
        anon = request.cookies.get(ANON_COOKIE)
        if not anon:
            anon = new_anon = secrets.token_urlsafe(24)
        request[CSRF_BASIS] = anon
    response = await handler(request)
    if drop_session:
        clear_cookie(response, SESSION_COOKIE)
    if drop_guest and not response.prepared:
        clear_cookie(response, GUEST_COOKIE)
    if new_anon and not response.prepared:
        set_cookie(response, request, ANON_COOKIE, new_anon)
    return response


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in UNSAFE_METHODS and not request.path.startswith("/ws"):
        sent = request.headers.get("X-CSRF-Token", "")
        if (
            not sent
            and request.content_type == "multipart/form-data"
            and getattr(request.match_info.handler, _STREAMED, False)
        ):
            sent = await _token_first(request)
        elif not sent and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            value = form.get("csrf_token", "")
            sent = value if isinstance(value, str) else ""
        if not sent or not hmac.compare_digest(sent, csrf_token(request)):
            return error_response(
                request,
                403,
                "csrf",
                "this form has expired or did not come from telehub: reload the page and retry",
            )
    return await handler(request)


def streamed_upload(handler: Handler) -> Handler:
    """Mark a handler that reads its multipart body as a stream (large uploads).

    The CSRF middleware then never buffers the body (``request.post()`` would, up to
    ``client_max_size``). A form posted without the ``X-CSRF-Token`` header must send
    its ``csrf_token`` field first, before the file; the middleware checks it and leaves
    the rest of the stream to the handler in ``request[STREAMED_FORM]``."""
    setattr(handler, _STREAMED, True)
    return handler


async def _token_first(request: web.Request) -> str:
    try:
        reader = await request.multipart()
        request[STREAMED_FORM] = reader
        part = await reader.next()
    except ValueError:  # a malformed body: no token to be had
        return ""
    if not isinstance(part, BodyPartReader) or part.name != "csrf_token":
        return ""
    value = b""
    while chunk := await part.read_chunk(MAX_TOKEN_BYTES):
        value += chunk
        if len(value) > MAX_TOKEN_BYTES:
            return ""
    return value.decode("ascii", "replace")


def require(
    *roles: Role, hub_wide: bool = False, refusal: str = "your role cannot open this"
) -> Callable[[Handler], Handler]:
    """Decorator for staff-only handlers: login required, and one of these roles (any
    role when none is named; another role gets 403 ``refusal``). ``hub_wide``: not for
    home-scoped staff (care-home managers), who get 403. Declares the route's ``Rule``
    (``web.http.route_access``)."""
    rule = Rule("staff", frozenset(roles), hub_wide)

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            actor = optional_actor(request)
            if actor is None or actor.kind != "staff":
                if request.path.startswith("/api/"):
                    if actor is not None:
                        return error_response(request, 403, "forbidden", "this is for hub staff")
                    return error_response(request, 401, "unauthenticated", "log in first")
                raise web.HTTPSeeOther(f"/login?next={request.rel_url.path}")
            if roles and actor.role not in roles:
                return error_response(request, 403, "forbidden", refusal)
            if hub_wide and actor.home_id is not None:
                return error_response(
                    request, 403, "forbidden", "this is for hub staff, not a care home's account"
                )
            return await handler(request)

        return declare(guarded, rule)

    return wrap


def require_device(handler: Handler) -> Handler:
    """Decorator for tablet-only handlers (an enrolled, unrevoked tablet)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        actor = optional_actor(request)
        if actor is None or not actor.is_device:
            if request.path.startswith("/api/"):
                if actor is not None:
                    return error_response(
                        request, 403, "forbidden", "calls are started from a care-home tablet"
                    )
                return error_response(request, 401, "unauthenticated", "enrol this tablet first")
            raise web.HTTPSeeOther("/enrol")
        return await handler(request)

    return declare(guarded, Rule("device"))


def require_actor(handler: Handler) -> Handler:
    """Decorator for handlers open to a logged-in staff member or an enrolled tablet:
    the service then decides per object (a tablet sees only its own home). Checked
    before the body is read, so an anonymous request learns nothing about it."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if optional_actor(request) is None:
            return error_response(
                request, 401, "unauthenticated", "log in or enrol this tablet first"
            )
        return await handler(request)

    return declare(guarded, Rule("actor"))


def require_guest(handler: Handler) -> Handler:
    """Decorator for a guest's own pages: a guest of a live call (guest cookie), still
    there. Nobody else, staff and tablets included, gets past it (401)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if optional_guest(request) is None:
            return error_response(
                request,
                401,
                "unauthenticated",
                "you are not in a call as a guest now: the call may have ended, or you "
                "left or were removed. To join a call, open the link you were sent",
            )
        return await handler(request)

    return declare(guarded, Rule("guest"))


Wrapped = Callable[[web.Request], Awaitable[web.StreamResponse]]
