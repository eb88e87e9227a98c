"""Staff login over HTTP: cookies, TOTP set-up page, lockout, logout."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from tests.conftest import PASSWORD
from tests.web.helpers import login, post_form, totp_secret


async def test_login_sets_strict_httponly_session_cookie(client, ctx, clock, admin_user) -> None:
    resp = await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    assert resp.status == 303 and resp.headers["Location"].startswith("/login/setup")
    cookie = resp.cookies["th_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain HTTP in tests; Secure is set when served over TLS
    page = await (await client.get("/login/setup")).text()
    secret = await totp_secret(ctx, admin_user.id)
    assert "<svg" in page and secret[:4] in page and "otpauth://totp/telehub:ada" in page
    code = pyotp.TOTP(secret).at(clock.now())
    resp = await post_form(client, "/login/totp", {"code": code}, token_from="/login/totp")
    assert resp.status == 303 and resp.headers["Location"] == "/admin"
    # The token changes at privilege change (no session fixation).
    assert resp.cookies["th_session"].value != cookie.value
    assert (await client.get("/admin")).status == 200


async def test_pages_need_login(client) -> None:
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login?next=/admin"


async def test_password_alone_opens_nothing(client, admin_user) -> None:
    await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_wrong_password_then_lockout(client, admin_user) -> None:
    for _ in range(5):
        resp = await post_form(client, "/login", {"username": "ada", "password": "nope"})
        assert resp.status == 401
        assert "wrong username or password" in await resp.text()
    resp = await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    assert resp.status == 429
    assert "too many failed attempts: try again in 31 seconds" in await resp.text()


async def test_wrong_and_replayed_totp(client, ctx, clock, admin_user) -> None:
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    await post_form(client, "/logout", {}, token_from="/admin")
    resp = await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    assert resp.headers["Location"].startswith("/login/totp")
    resp = await post_form(client, "/login/totp", {"code": "000000"}, token_from="/login/totp")
    assert resp.status == 401 and "that code is not right" in await resp.text()
    used = pyotp.TOTP(await totp_secret(ctx, admin_user.id)).at(clock.now() - timedelta(seconds=31))
    resp = await post_form(client, "/login/totp", {"code": used}, token_from="/login/totp")
    assert resp.status == 401 and "already used" in await resp.text()


async def test_logout_ends_the_session(client, ctx, clock, admin_user) -> None:
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    resp = await post_form(client, "/logout", {}, token_from="/admin")
    assert resp.status == 303
    assert (await client.get("/admin", allow_redirects=False)).status == 303


async def test_session_expires_after_inactivity(client, ctx, clock, admin_user) -> None:
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    clock.advance(timedelta(minutes=31))
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_next_cannot_redirect_off_site(client, ctx, clock, admin_user) -> None:
    resp = await post_form(
        client, "/login", {"username": "ada", "password": PASSWORD, "next": "//evil.example/"}
    )
    assert resp.headers["Location"] == "/login/setup?next=/"


async def test_lockout_during_totp_setup_is_said_plainly(client, admin_user) -> None:
    await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    for _ in range(5):
        resp = await post_form(client, "/login/totp", {"code": "000000"}, token_from="/login/setup")
        assert resp.status == 303 and "failed=1" in resp.headers["Location"]
    resp = await post_form(client, "/login/totp", {"code": "000000"}, token_from="/login/setup")
    assert resp.status == 429
    assert "too many failed attempts" in await resp.text()
