"""Untrusted input at the HTTP edge: redirects after login, JSON bodies, error pages."""

from __future__ import annotations

import pytest

from hub.people import enrolment
from hub.people.access import SYSTEM
from tests.conftest import PASSWORD
from tests.web.helpers import csrf, post_form

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@pytest.mark.parametrize(
    "next_value",
    [
        "//evil.example/",
        "/%09/evil.example",  # a tab: browsers drop it and read //evil.example
        "/\t/evil.example",
        "/%0a/evil.example",
        "/%2509/evil.example",  # encoded twice
        "/%5Cevil.example",  # a backslash: browsers read /\\ as //
        "/%2F/evil.example",
        "https://evil.example/",
        "/%E2%80%AE/evil.example",  # a right-to-left override
    ],
)
async def test_next_is_only_ever_a_same_site_path(client, admin_user, next_value) -> None:
    resp = await post_form(
        client, "/login", {"username": "ada", "password": PASSWORD, "next": next_value}
    )
    assert resp.status == 303
    assert resp.headers["Location"] == "/login/setup?next=/"
    page = await client.get(f"/login?next={next_value}")
    assert 'name="next" value="/"' in await page.text()


async def test_a_same_site_next_with_a_query_survives_encoded(client, admin_user) -> None:
    resp = await post_form(
        client,
        "/login",
        {"username": "ada", "password": PASSWORD, "next": "/reports?month=2026-03&home=1"},
    )
    location = resp.headers["Location"]
    assert location.startswith("/login/setup?next=/reports") and "&home" not in location
    page = await (await client.get(location)).text()
    assert 'name="next" value="/reports?month=2026-03&amp;home=1"' in page


async def _tablet_api(client, ctx, home) -> dict[str, str]:
    """Enrol this client as a tablet (which may post to every JSON API route here)."""
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley")
    resp = await post_form(client, "/enrol", {"code": issued.code})
    assert resp.status == 303
    return {"X-CSRF-Token": await csrf(client, "/tablet"), "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[" * 20_000 + "]" * 20_000,
            "the request body is nested too deeply (at most 32 levels)",
        ),
        (
            '{"a":' * 40 + "1" + "}" * 40,
            "the request body is nested too deeply (at most 32 levels)",
        ),
        ('{"resident_id": ', "the request body is not valid JSON (line 1 column 17)"),
        ('{"n": ' + "9" * 5000 + "}", "the request body is not valid JSON (a number is too long)"),
        ("[1, 2]", "the request body must be a JSON object"),
    ],
)
async def test_bad_json_bodies_are_400_with_a_clear_message(
    client, ctx, home, body, message
) -> None:
    headers = await _tablet_api(client, ctx, home)
    for path in ("/api/calls", "/api/news2"):
        resp = await client.post(path, data=body, headers=headers)
        assert resp.status == 400, (path, await resp.text())
        assert await resp.json() == {"error": {"code": "bad_request", "message": message}}


async def test_brackets_inside_strings_do_not_count_as_nesting(client) -> None:
    from web.http.json_body import nesting_depth, parse_json_object

    assert nesting_depth('{"a": "[[[[[[[[[[{{{{\\"]]]", "b": [1]}') == 2
    assert parse_json_object(b'{"note": "' + b"[" * 100 + b'"}') == {"note": "[" * 100}


async def test_a_json_body_over_64_kib_is_413(client, ctx, home) -> None:
    headers = await _tablet_api(client, ctx, home)
    resp = await client.post("/api/calls", data="{" + " " * 70_000 + "}", headers=headers)
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("GET", "/api/no/such/thing", 404),
        ("GET", "/api/calls", 405),
    ],
)
async def test_error_pages_carry_the_security_headers(client, method, path, status) -> None:
    resp = await client.request(method, path, allow_redirects=False)
    assert resp.status == status
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, name
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


async def test_a_refused_form_post_carries_the_security_headers(client) -> None:
    await client.get("/login")
    resp = await client.post("/login", data={"username": "x"}, allow_redirects=False)
    assert resp.status == 403
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


async def test_redirects_carry_the_security_headers(client) -> None:
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
