"""Helpers for driving the app like a browser: read CSRF tokens, log in, enrol."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from aiohttp.test_utils import TestClient

from hub.clock import FixedClock
from hub.context import HubContext
from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.auth import totp_context
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
META_CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


async def csrf(client: TestClient, path: str = "/login") -> str:
    resp = await client.get(path)
    body = await resp.text()
    found = META_CSRF.search(body)
    assert found, f"no CSRF token on {path} ({resp.status})"
    return found.group(1)


async def post_form(
    client: TestClient, path: str, data: dict[str, Any], *, token_from: str | None = None
) -> Any:
    token = await csrf(client, token_from or path)
    return await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)


async def totp_secret(ctx: HubContext, user_id: int) -> str:
    async with ctx.uow() as uow:
        creds = await uow.staff.credentials(user_id)
    assert creds.totp_secret_sealed is not None
    return ctx.keyring.open(creds.totp_secret_sealed, totp_context(user_id))


async def login(
    client: TestClient,
    ctx: HubContext,
    clock: FixedClock,
    username: str,
    password: str,
    user_id: int,
) -> None:
    """Full two-step login (setting up TOTP on first login)."""
    resp = await post_form(client, "/login", {"username": username, "password": password})
    assert resp.status == 303, await resp.text()
    secret = await totp_secret(ctx, user_id)
    code = pyotp.TOTP(secret).at(clock.now())
    resp = await post_form(
        client, "/login/totp", {"code": code, "next": "/"}, token_from="/login/totp"
    )
    assert resp.status == 303, await resp.text()
    clock.advance(__import__("datetime").timedelta(seconds=31))


async def login_home_manager(
    client: TestClient, ctx: HubContext, clock: FixedClock, home_id: int
) -> None:
    """Create a care-home manager of ``home_id`` ("homemgr") and log them in."""
    new = NewStaff.parse("homemgr", "Home Manager", "manager", [], home_id=home_id)
    user = await create_staff(ctx, SYSTEM, new, PASSWORD)
    await login(client, ctx, clock, "homemgr", PASSWORD, user.id)
