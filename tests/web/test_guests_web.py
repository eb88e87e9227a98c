"""Guests over HTTP: the clinician's invitation API, the link a guest opens, the lobby,
and a guest cookie that opens nothing else (web/calls/guests.py)."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import aiohttp
import pytest

from hub.calls import guest_services, live
from hub.calls.guests import GuestKind, GuestState
from hub.people import enrolment
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.hub.test_calls import edna, request, tablet
from tests.web.helpers import csrf, login, post_form

SECRETS_OF_THE_CALL = ("Edna", "Smith", "Rose Court", "9434765919", "breathing")


@dataclasses.dataclass
class LiveCall:
    call_id: int
    nurse: Actor
    nurse_username: str
    nurse_user_id: int
    other_nurse: Actor


@pytest.fixture
async def live_call(ctx, clock, home) -> LiveCall:  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    resident = await edna(ctx, clock, home)
    users = [
        await create_staff(
            ctx, SYSTEM, NewStaff.parse(name, name.title(), "clinician", ["clinician"]), PASSWORD
        )
        for name in ("nurse", "other")
    ]
    nurse, other = (Actor("staff", u.id, u.display_name, Role.CLINICIAN) for u in users)
    call = await live.request_call(ctx, tab, request(resident.id))
    await live.claim(ctx, nurse, call.id)
    return LiveCall(call.id, nurse, "nurse", users[0].id, other)


async def _link(ctx, lc: LiveCall, kind: GuestKind = GuestKind.GP) -> str:  # type: ignore[no-untyped-def]
    _, token = await guest_services.invite(ctx, lc.nurse, lc.call_id, kind)
    return f"/join/{token}"


async def _join(client, link: str, name: str = "Dr Amira Patel"):  # type: ignore[no-untyped-def]
    return await post_form(client, link, {"name": name})


def _guest_cookie(resp: aiohttp.ClientResponse) -> str:
    found = [v for v in resp.headers.getall("Set-Cookie", []) if v.startswith("th_guest=")]
    assert found, resp.headers
    return found[0]


def _tells_nothing(body: str) -> None:
    for secret in SECRETS_OF_THE_CALL:
        assert secret not in body, secret


async def test_the_clinician_invites_by_api(client, ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    await login(client, ctx, clock, lc.nurse_username, PASSWORD, lc.nurse_user_id)
    token = await csrf(client, "/console")
    path = f"/api/calls/{lc.call_id}/invitations"
    resp = await client.post(path, json={"kind": "interpreter"}, headers={"X-CSRF-Token": token})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    link = body["link"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/join/[A-Za-z0-9_-]{43}", link), link
    assert body["invitation"]["kind_label"] == "Interpreter"
    assert body["invitation"]["status"] == "open"
    expires = clock.now() + timedelta(minutes=30)
    assert body["expires_at"] == expires.isoformat()
    assert body["expires_at_uk"] == "02 Mar 2026 10:30"  # 10:00 UTC is 10:00 GMT in March
    assert body["expires_words"] == "Works once, for 30 minutes: until 10:30 UK time"
    assert body["qr_svg"].startswith("<svg") and "<script" not in body["qr_svg"]

    listed = await (await client.get(f"/api/calls/{lc.call_id}/guests")).json()
    assert [i["kind"] for i in listed["invitations"]] == ["interpreter"]
    assert listed["guests"] == []

    bad = await client.post(path, json={"kind": "vet"}, headers={"X-CSRF-Token": token})
    assert bad.status == 422
    assert (await bad.json())["error"]["message"].startswith("kind 'vet' is not one of gp")
    withdrawn = await client.post(
        f"/api/invitations/{body['invitation']['id']}/withdraw", headers={"X-CSRF-Token": token}
    )
    assert withdrawn.status == 200
    assert (await withdrawn.json())["invitation"]["status"] == "revoked"


async def test_another_clinician_cannot_invite(client, ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    await login(client, ctx, clock, "other", PASSWORD, live_call.other_nurse.id)
    token = await csrf(client, "/console")
    resp = await client.post(
        f"/api/calls/{live_call.call_id}/invitations",
        json={"kind": "gp"},
        headers={"X-CSRF-Token": token},
    )
    assert resp.status == 403
    assert "is not yours" in (await resp.json())["error"]["message"]


async def test_a_guest_joins_waits_is_let_in_and_leaves(client, ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    link = await _link(ctx, live_call)
    page = await client.get(link)
    body = await page.text()
    assert page.status == 200
    assert "You have been invited as: <strong" in body and ">GP</strong>" in body
    assert 'name="name"' in body and ">Join</button>" in body
    _tells_nothing(body)

    resp = await _join(client, link)
    assert resp.status == 303 and resp.headers["Location"] == "/guest"
    cookie = _guest_cookie(resp)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; Secure when served over HTTPS
    assert "expires" not in cookie.lower() and "max-age" not in cookie.lower()

    lobby = await client.get("/guest")
    body = await lobby.text()
    assert lobby.status == 200 and "Waiting for the clinician to let you in" in body
    assert "Dr Amira Patel" in body
    _tells_nothing(body)
    me = await (await client.get("/api/guest")).json()
    assert me == {
        "name": "Dr Amira Patel",
        "kind": "gp",
        "kind_label": "GP",
        "state": "waiting",
        "state_label": "Waiting to be let in",
    }
    # Opening the link again in the same browser goes back to the lobby.
    again = await client.get(link, allow_redirects=False)
    assert (again.status, again.headers["Location"]) == (303, "/guest")

    (guest,) = (await guest_services.participants(ctx, live_call.nurse, live_call.call_id)).guests
    await guest_services.admit(ctx, live_call.nurse, guest.id)
    assert "You are in the call" in await (await client.get("/guest")).text()

    left = await post_form(client, "/guest/leave", {}, token_from="/guest")
    assert left.status == 200 and "You have left the call" in await left.text()
    assert 'th_guest=""' in left.headers["Set-Cookie"]
    gone = await client.get("/guest")
    assert gone.status == 401 and "you are not in a call as a guest now" in await gone.text()
    (stored,) = (await guest_services.participants(ctx, live_call.nurse, live_call.call_id)).guests
    assert stored.state is GuestState.LEFT


async def test_a_guest_cookie_opens_nothing_else(client, ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    await _join(client, await _link(ctx, live_call))
    call_id = live_call.call_id
    for path in ("/console", "/hub", "/reports", "/admin", f"/calls/{call_id}"):
        resp = await client.get(path, allow_redirects=False)
        assert (resp.status, resp.headers.get("Location", "")[:6]) == (303, "/login"), path
    for path in ("/tablet", "/tablet/call"):
        resp = await client.get(path, allow_redirects=False)
        assert (resp.status, resp.headers["Location"]) == (303, "/enrol"), path
    for path in (f"/api/calls/{call_id}", f"/api/calls/{call_id}/guests", "/ws"):
        assert (await client.get(path)).status == 401, path
    token = await csrf(client, "/guest")  # a valid token of the guest's own
    for path in (
        "/api/calls",
        f"/api/calls/{call_id}/outcome",
        f"/api/calls/{call_id}/invitations",
    ):
        resp = await client.post(path, json={"kind": "gp"}, headers={"X-CSRF-Token": token})
        assert resp.status == 401, path


async def test_links_that_no_longer_work_say_so(client, ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    used = await _link(ctx, live_call)
    jar = aiohttp.CookieJar(unsafe=True)  # accepts cookies from 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as someone:  # another browser, first
        first = await someone.get(client.make_url(used))
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', await first.text())
        assert token is not None
        resp = await someone.post(
            client.make_url(used),
            data={"name": "First", "csrf_token": token.group(1)},
            allow_redirects=False,
        )
        assert resp.status == 303
    withdrawn = await _link(ctx, live_call)
    (invitation,) = [
        i
        for i in (
            await guest_services.participants(ctx, live_call.nurse, live_call.call_id)
        ).invitations
        if i.used_at is None
    ]
    await guest_services.withdraw(ctx, live_call.nurse, invitation.id)
    expired = await _link(ctx, live_call)
    clock.advance(timedelta(minutes=31))
    cases = [
        (used, 410, "This link has already been used"),
        (expired, 410, "This link has expired"),
        (withdrawn, 410, "This link was withdrawn"),
        ("/join/" + "A" * 43, 404, "This link is not valid"),
        ("/join/not-a-token", 404, "This link is not valid"),
    ]
    for link, status, message in cases:
        for resp in (await client.get(link), await _join(client, link)):
            body = await resp.text()
            assert resp.status == status, (link, body)
            assert f"<h1>{message}</h1>" in body
            assert "ask the clinician who invited you for a new link" in body
            _tells_nothing(body)
            assert "th_guest=" not in resp.headers.get("Set-Cookie", "")


async def test_names_are_checked_and_shown_as_text(client, ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    link = await _link(ctx, live_call)
    for name, message in (
        ("", "type your name"),
        ("x" * 61, "your name must be at most 60 characters"),
        ("Ann\x07", "found U+0007, a control character"),
        ("<script>alert(1)</script>\u202e", "found U+202E, right-to-left override"),
    ):
        resp = await _join(client, link, name)
        body = await resp.text()
        assert resp.status == 422 and message in body, body
        assert "<script>alert" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # the name typed, kept, escaped
    resp = await _join(client, link, "<b>Dr</b> Who")
    assert resp.status == 303
    lobby = await (await client.get("/guest")).text()
    assert "&lt;b&gt;Dr&lt;/b&gt; Who" in lobby and "<b>Dr</b>" not in lobby


async def test_a_tablet_of_another_home_cannot_open_a_link(
    client, ctx, other_home, live_call
) -> None:  # type: ignore[no-untyped-def]
    link = await _link(ctx, live_call)
    issued = await enrolment.issue_code(ctx, SYSTEM, other_home.id, "Oak trolley")
    device_token = (await enrolment.enrol(ctx, issued.code)).token
    client.session.cookie_jar.update_cookies({"th_device": device_token})
    page = await client.get(link)
    body = await page.text()
    assert page.status == 403 and "signed in for another care home" in body
    _tells_nothing(body)
    resp = await _join(client, link)
    assert resp.status == 403 and "th_guest=" not in resp.headers.get("Set-Cookie", "")
    assert (await guest_services.participants(ctx, SYSTEM, live_call.call_id)).guests == []


@pytest.mark.parametrize("how", ["removed", "call ended", "guest part ended"])
async def test_a_guest_session_ends_with_the_guest(client, ctx, live_call, how: str) -> None:  # type: ignore[no-untyped-def]
    await _join(client, await _link(ctx, live_call))
    assert (await client.get("/guest")).status == 200
    (guest,) = (await guest_services.participants(ctx, live_call.nurse, live_call.call_id)).guests
    if how == "removed":
        await guest_services.remove(ctx, live_call.nurse, guest.id)
    elif how == "call ended":
        await live.end(ctx, live_call.nurse, live_call.call_id)
    else:
        await guest_services.end_guests(ctx, live_call.nurse, live_call.call_id)
    resp = await client.get("/guest")
    assert resp.status == 401
    assert 'th_guest=""' in resp.headers["Set-Cookie"]  # the dead cookie is dropped
    assert (await client.get("/api/guest")).status == 401


async def test_the_clinician_admits_and_removes_by_api(client, ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    lc = live_call
    _, token = await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.FAMILY)
    guest, _ = await guest_services.claim(ctx, token, "Ann Smith")
    await login(client, ctx, clock, lc.nurse_username, PASSWORD, lc.nurse_user_id)
    csrf_token = await csrf(client, "/console")
    headers = {"X-CSRF-Token": csrf_token}
    admitted = await client.post(f"/api/guests/{guest.id}/admit", headers=headers)
    assert admitted.status == 200
    assert (await admitted.json())["guest"]["state"] == "in_call"
    again = await client.post(f"/api/guests/{guest.id}/admit", headers=headers)
    assert again.status == 409
    listed = await (await client.get(f"/api/calls/{lc.call_id}/guests")).json()
    assert [(g["name"], g["kind_label"], g["state"]) for g in listed["guests"]] == [
        ("Ann Smith", "Family member", "in_call")
    ]
    removed = await client.post(f"/api/guests/{guest.id}/remove", headers=headers)
    assert (await removed.json())["guest"]["state"] == "removed"
    await guest_services.invite(ctx, lc.nurse, lc.call_id, GuestKind.GP)
    ended = await client.post(f"/api/calls/{lc.call_id}/guests/end", headers=headers)
    assert ended.status == 200
    body = await ended.json()
    assert body["removed"] == [] and [i["kind"] for i in body["withdrawn"]] == ["gp"]
    missing = await client.post("/api/guests/999/admit", headers=headers)
    assert missing.status == 404


async def test_leaving_needs_the_guests_own_csrf_token(client, ctx, live_call) -> None:  # type: ignore[no-untyped-def]
    await _join(client, await _link(ctx, live_call))
    resp = await client.post("/guest/leave", data={}, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/guest")).status == 200


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/join/" + "A" * 43, "/join/<token>"),
        ("/join/" + "A" * 43 + "?x=1", "/join/<token>?"),
        ("/guest", "/guest"),
    ],
)
def test_a_links_token_is_never_in_the_access_log(path: str, logged: str) -> None:
    from aiohttp.test_utils import make_mocked_request

    from web.http.access_log import loggable_path

    assert loggable_path(make_mocked_request("GET", path)) == logged


async def test_the_call_page_lists_who_came_as_a_guest(client, ctx, clock, live_call) -> None:  # type: ignore[no-untyped-def]
    link = await _link(ctx, live_call, GuestKind.INTERPRETER)
    await _join(client, link, "Ana Lima")
    client.session.cookie_jar.clear()  # the guest's browser is done; now the clinician's
    (guest,) = (await guest_services.participants(ctx, live_call.nurse, live_call.call_id)).guests
    await guest_services.admit(ctx, live_call.nurse, guest.id)
    await guest_services.remove(ctx, live_call.nurse, guest.id)
    await login(client, ctx, clock, live_call.nurse_username, PASSWORD, live_call.nurse_user_id)
    page = await client.get(f"/calls/{live_call.call_id}")
    body = await page.text()
    assert page.status == 200
    listed = re.search(r'data-testid="guests">(.*?)</dd>', body, re.S)
    assert listed is not None
    assert listed.group(1).startswith("Ana Lima (Interpreter): removed, let in ")
