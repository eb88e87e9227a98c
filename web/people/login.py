"""Staff login (password, then TOTP; TOTP set-up at first login) and logout."""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from aiohttp import web

from hub.errors import AuthenticationFailed, LockedOut, ValidationError
from hub.people import auth
from hub.people.access import Role
from hub.people.sessions import Stage
from web.http.forms import form, safe_next, text
from web.http.keys import CTX
from web.http.render import render
from web.http.route_access import public
from web.http.security import SESSION_COOKIE, clear_cookie, optional_actor, session_of, set_cookie
from web.http.throttles import LoginGuard

routes = web.RouteTableDef()

LANDING = {Role.ADMIN: "/admin", Role.MANAGER: "/reports", Role.CLINICIAN: "/console"}


def landing_for(request: web.Request) -> str:
    actor = optional_actor(request)
    if actor is None:
        return "/login"
    if actor.is_device:
        return "/tablet"
    return LANDING.get(actor.role or Role.CLINICIAN, "/console")


@routes.get("/")
@public
async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther(landing_for(request))


@routes.get("/login")
@public
async def login_page(request: web.Request) -> web.StreamResponse:
    actor = optional_actor(request)
    if actor is not None and not actor.is_device:
        raise web.HTTPSeeOther(landing_for(request))
    return render("login.html", request, {"next": safe_next(request.query.get("next", "/"))})


@routes.post("/login")
@public
async def login_submit(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    next_url = safe_next(text(data, "next", "/"))
    username = text(data, "username")
    guard = LoginGuard(request, username)
    try:
        guard.check()  # before the password is tried: a waiting address learns nothing
        step = await auth.login_password(request.app[CTX], username, text(data, "password"))
    except AuthenticationFailed as err:
        if not isinstance(err, LockedOut):
            guard.failed()
        response = render(
            "login.html",
            request,
            {"error": err.message, "username": username[:80], "next": next_url},
            status=429 if isinstance(err, LockedOut) else 401,
        )
        if isinstance(err, LockedOut):
            response.headers["Retry-After"] = str(err.retry_after_s)
        return response
    guard.succeeded()
    target = "/login/setup" if step.stage is Stage.NEEDS_TOTP_SETUP else "/login/totp"
    response = web.HTTPSeeOther(f"{target}?{urlencode({'next': next_url}, safe='/')}")
    set_cookie(response, request, SESSION_COOKIE, step.token)
    raise response


def _pending(request: web.Request) -> bool:
    session = session_of(request)
    return session is not None and session.stage is not Stage.FULL


@routes.get("/login/totp")
@public
async def totp_page(request: web.Request) -> web.StreamResponse:
    if not _pending(request):
        raise web.HTTPSeeOther("/login")
    return render("totp.html", request, {"next": safe_next(request.query.get("next", "/"))})


@routes.get("/login/setup")
@public
async def setup_page(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    if session is None or session.stage is not Stage.NEEDS_TOTP_SETUP:
        raise web.HTTPSeeOther("/login")
    uri, secret = await auth.totp_setup_uri(request.app[CTX], session)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        "setup.html",
        request,
        {
            "uri": uri,
            "secret": grouped,
            "qr_svg": qr_svg,
            "failed": request.query.get("failed") == "1",
            "next": safe_next(request.query.get("next", "/")),
        },
    )


@routes.post("/login/totp")
@public
async def totp_submit(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    next_url = safe_next(text(data, "next", "/"))
    token = request.cookies.get(SESSION_COOKIE, "")
    session = session_of(request)
    setup = session is not None and session.stage is Stage.NEEDS_TOTP_SETUP
    try:
        step = await auth.login_totp(request.app[CTX], token, text(data, "code"))
    except (AuthenticationFailed, ValidationError) as err:
        if isinstance(err, auth.LoginExpired):
            raise web.HTTPSeeOther("/login") from None
        if setup and isinstance(err, auth.WrongCode):
            raise web.HTTPSeeOther(
                f"/login/setup?{urlencode({'next': next_url, 'failed': '1'}, safe='/')}"
            ) from None
        # Lockouts and replayed codes are said as they are, also during set-up.
        status = 429 if err.code == "locked_out" else 401
        return render("totp.html", request, {"error": err.message, "next": next_url}, status=status)
    response = web.HTTPSeeOther(next_url if next_url != "/" else LANDING[step.user.role])
    set_cookie(response, request, SESSION_COOKIE, step.token)
    raise response


@routes.post("/logout")
@public
async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await auth.logout(request.app[CTX], token)
    response = web.HTTPSeeOther("/login")
    clear_cookie(response, SESSION_COOKIE)
    raise response
