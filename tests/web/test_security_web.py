"""Cross-cutting web security: CSRF, headers, escaping, body limits, error shape."""

from __future__ import annotations

import pytest

from hub.people import admin
from hub.people.access import SYSTEM
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from tests.conftest import PASSWORD
from tests.web.helpers import csrf, login


async def test_form_post_without_csrf_token_is_403(client, admin_user) -> None:
    await client.get("/login")
    resp = await client.post(
        "/login", data={"username": "ada", "password": PASSWORD}, allow_redirects=False
    )
    assert resp.status == 403 and "did not come from telehub" in await resp.text()


async def test_csrf_token_of_another_browser_is_refused(client, aiohttp_client, admin_user) -> None:
    token = await csrf(client, "/login")
    client.session.cookie_jar.clear()
    await client.get("/login")  # a new anonymous identity
    resp = await client.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    )
    assert resp.status == 403


async def test_json_api_without_header_is_403_with_error_shape(
    client, ctx, clock, admin_user
) -> None:
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    resp = await client.post("/api/anything", json={})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "csrf"


async def test_security_headers(client) -> None:
    resp = await client.get("/login")
    h = resp.headers
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "script-src 'self'" in h["Content-Security-Policy"]
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    assert h["Cache-Control"] == "no-store"


async def test_no_inline_script_in_any_page(client, ctx, clock, admin_user, home) -> None:
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    for path in ("/admin", f"/admin/homes/{home.id}", "/admin/staff", "/admin/audit", "/hub"):
        body = await (await client.get(path)).text()
        assert "<script>" not in body and "onclick=" not in body, path


async def test_html_in_names_is_escaped(client, ctx, clock, admin_user) -> None:
    evil = '<script>alert("x")</script>'
    home = await admin.create_home(ctx, SYSTEM, NewHome.parse("EVL1", evil, evil, 5))
    d = ResidentDetails.parse(
        given_name=evil,
        family_name="<b>bold</b>",
        date_of_birth="1931-04-02",
        nhs_number="9434765919",
        allergies=evil,
        today=clock.now().date(),
    )
    r = await admin.add_resident(ctx, SYSTEM, home.id, d)
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    for path in (
        "/admin",
        f"/admin/homes/{home.id}",
        f"/residents/{r.id}",
        f"/admin/residents/{r.id}",
    ):
        body = await (await client.get(path)).text()
        assert evil not in body and "<b>bold</b>" not in body, path
        assert "&lt;script&gt;" in body, path


async def test_oversized_body_is_413(client, settings) -> None:
    await client.get("/login")
    big = "x" * (settings.server.max_body_bytes + 1)
    resp = await client.post(
        "/login",
        data={"username": big, "password": "p"},
        headers={"X-CSRF-Token": await csrf(client, "/login")},
    )
    assert resp.status == 413
    assert "too large" in await resp.text()


@pytest.mark.parametrize("path", ["/residents/abc", "/admin/homes/99999999999999"])
async def test_malformed_ids_are_404(client, ctx, clock, admin_user, path: str) -> None:
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    assert (await client.get(path)).status == 404


async def test_unknown_api_route_is_json_404(client) -> None:
    resp = await client.get("/api/nothing-here")
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"


async def test_health(client) -> None:
    assert await (await client.get("/healthz")).json() == {"status": "ok"}
