"""Every route declares who may open it, and every route keeps to it.

The matrix is generated from ``app.router``: each route is requested as each kind of
user (nobody, a tablet of home A, a tablet of home B, a hub clinician, a hub-wide
manager, home A's manager, an admin, a guest of a live call of home A) against objects
of home A and of home B, and
the status must be exactly what the route's declared ``Rule`` says: 303 to the login
(or enrolment) page, 401, 403, 404 for another home's object, else 200 for a page
or JSON read. A new route without a rule fails ``test_every_route_declares_who_may_open_it``;
a new route with one is checked here without anyone writing a line.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub.calls import guest_services, live
from hub.calls.guests import GuestKind
from hub.people import enrolment
from hub.people.access import SYSTEM, Role
from hub.people.admin import add_resident, create_staff
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.hub.test_calls import request
from tests.signalling.conftest import staff_token
from tests.web.closed_calls import nurse_of
from tests.web.helpers import csrf
from web.http.keys import CTX
from web.http.route_access import Rule, rule_of

ABSENT = 999_999  # ids of hub-wide objects that do not exist (rotas, jobs, leave...)
HOME_PARAMS = ("home_id", "resident_id", "call_id", "device_id")


class _Ids(dict[str, int]):
    """Path ids: any parameter not named here is an absent hub-wide object."""

    def __missing__(self, key: str) -> int:
        return ABSENT


def _absent_params(canonical: str) -> list[str]:
    params = re.findall(r"{(\w+)}", canonical)
    return [p for p in params if p not in (*HOME_PARAMS, "user_id")]


@dataclass(frozen=True)
class Who:
    name: str
    kind: str | None  # None: anonymous; "device"; "staff"; "guest"
    role: Role | None = None
    home: str | None = None  # "A" / "B" for tablets and home-scoped staff
    cookie: str = ""  # "th_session=…", "th_device=…" or "th_guest=…"
    basis: str = "anon-basis"  # what the CSRF token is derived from


def _routes(app: web.Application) -> list[web.AbstractRoute]:
    return [
        r
        for r in app.router.routes()
        if r.method != "HEAD" and not isinstance(r.resource, web.StaticResource)
    ]


def test_every_route_declares_who_may_open_it(settings) -> None:  # type: ignore[no-untyped-def]
    from web.app import create_app

    app = create_app(settings)
    missing = [
        f"{r.method} {r.resource.canonical if r.resource else '?'}"
        for r in _routes(app)
        if rule_of(r.handler) is None
    ]
    assert missing == [], "routes without an access rule (web/http/route_access.py)"
    static = [r for r in app.router.routes() if isinstance(r.resource, web.StaticResource)]
    assert static, "the static files route is public by nature and is the only exception"


def expected(rule: Rule, who: Who, method: str, path: str, obj_home: str | None) -> Any:
    """The exact refusal the rule gives, or "ok" when the gate lets ``who`` through."""
    api = path.startswith("/api/")
    if rule.who == "public":
        return "public"
    if rule.who == "guest":  # a guest's own pages: nobody else's cookie opens them
        return "ok" if who.kind == "guest" else 401
    if who.kind is None or who.kind == "guest":  # a guest is nobody anywhere else
        if rule.who == "actor" or api:
            return 401
        return (303, "/login") if rule.who == "staff" else (303, "/enrol")
    if rule.who == "staff":
        if who.kind != "staff":
            return 403 if api else (303, "/login")
        if rule.roles and who.role not in rule.roles:
            return 403
        if rule.hub_wide and who.home is not None:
            return 403
    if rule.who == "device" and who.kind != "device":
        return 403 if api else (303, "/enrol")
    if obj_home is not None and who.home is not None and obj_home != who.home:
        return 404  # another home's object looks exactly like no object at all
    return "ok"


# Routes whose success is not a 200 page: a plain GET of /ws is not an upgrade (400).
SUCCESS_GET = {"/ws": 400, "/ws/guest": 400}
# Reports name their home in the query (?home=ID), a filter rather than an object: a
# care-home manager asking for another home's figures is refused with 403 (reports.scope).
QUERY_HOME = (
    "/reports",
    "/reports.csv",
    "/reports.json",
    "/reports.fhir.json",
    "/reports.consultations.csv",
    "/reports.consultations.json",
    "/reports/monthly",
)


@pytest.fixture
async def world(client, ctx, clock, home, other_home):  # type: ignore[no-untyped-def]
    """Two homes, each with a resident, a tablet, an ended call of that tablet and a
    spare tablet; hub staff of every kind; and a spare staff member to act upon."""
    objects: dict[str, dict[str, int]] = {}
    tablets: dict[str, str] = {}
    for label, h, nhs in (("A", home, "9434765919"), ("B", other_home, "4010232137")):
        nurse_user = await create_staff(
            ctx, SYSTEM, NewStaff.parse(f"nurse{label}", "Nurse", "clinician", []), PASSWORD
        )
        details = ResidentDetails.parse(
            given_name="Edna",
            family_name=f"Smith {label}",
            date_of_birth="1931-04-02",
            nhs_number=nhs,
            today=clock.now().date(),
        )
        resident = await add_resident(ctx, SYSTEM, h.id, details)
        issued = await enrolment.issue_code(ctx, SYSTEM, h.id, f"Trolley {label}")
        enrolled = await enrolment.enrol(ctx, issued.code)
        tablets[label] = enrolled.token
        device = await enrolment.device_actor(ctx, enrolled.token)
        assert device is not None
        call = await live.request_call(ctx, device, request(resident.id))
        await live.claim(ctx, nurse_of(nurse_user), call.id)
        await live.end(ctx, nurse_of(nurse_user), call.id)
        spare = await enrolment.enrol(
            ctx, (await enrolment.issue_code(ctx, SYSTEM, h.id, "Spare")).code
        )
        assert spare.device is not None
        objects[label] = {
            "home_id": h.id,
            "resident_id": resident.id,
            "call_id": call.id,
            "device_id": spare.device.id,
        }
    spare_user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("spare", "Spare", "clinician", ["clinician"]), PASSWORD
    )
    people = [Who("anonymous", None), await _guest(ctx, home, objects["A"]["resident_id"])]
    for label in ("A", "B"):
        token = tablets[label]
        people.append(Who(f"tablet {label}", "device", None, label, f"th_device={token}", token))
    for username, role, home_label in (
        ("hubnurse", Role.CLINICIAN, None),
        ("hubmgr", Role.MANAGER, None),
        ("homemgr", Role.MANAGER, "A"),
        ("admin1", Role.ADMIN, None),
    ):
        new = NewStaff.parse(
            username,
            username,
            role.value,
            ["clinician"] if role is Role.CLINICIAN else [],
            home_id=home.id if home_label else None,
        )
        user = await create_staff(ctx, SYSTEM, new, PASSWORD)
        token = await staff_token(ctx, clock, user)
        clock.advance(timedelta(seconds=31))  # the next login needs a fresh TOTP step
        people.append(Who(username, "staff", role, home_label, f"th_session={token}", token))
    return objects, spare_user.id, people


async def _guest(ctx, home, resident_id: int) -> Who:  # type: ignore[no-untyped-def]
    """A guest waiting in a live call of home A (its own tablet, resident and clinician)."""
    host_user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("guesthost", "Host", "clinician", ["clinician"]), PASSWORD
    )
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley G")
    device = await enrolment.device_actor(ctx, (await enrolment.enrol(ctx, issued.code)).token)
    assert device is not None
    call = await live.request_call(ctx, device, request(resident_id))
    await live.claim(ctx, nurse_of(host_user), call.id)
    _, link = await guest_services.invite(ctx, nurse_of(host_user), call.id, GuestKind.GP)
    _, session = await guest_services.claim(ctx, link, "Dr Guest")
    return Who("guest", "guest", None, None, f"th_guest={session}", session)


async def test_every_route_as_every_user_against_both_homes(client, world) -> None:  # type: ignore[no-untyped-def]
    objects, spare_user_id, people = world
    app = client.server.app
    secret = app[CTX].settings.security.secret_key.encode()
    origin = str(client.make_url("/")).rstrip("/")
    # Last: the routes that end the asker's own session (a guest's, then a login).
    ending = ("/guest/leave", "/logout")
    routes = sorted(
        _routes(app),
        key=lambda r: (
            ending.index(r.resource.canonical) + 1 if r.resource.canonical in ending else 0
        ),
    )
    failures: list[str] = []
    checked = 0
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for route in routes:
            rule = rule_of(route.handler)
            assert rule is not None
            canonical = route.resource.canonical
            params = [p for p in HOME_PARAMS if "{" + p + "}" in canonical]
            params += ["home_id"] if canonical in QUERY_HOME else []
            homes: tuple[str | None, ...] = ("A", "B") if params else (None,)
            for obj_home in homes:
                values: dict[str, int] = {"user_id": spare_user_id}
                if obj_home is not None:
                    values |= objects[obj_home]
                path = canonical.format_map(_Ids(values))
                if canonical in QUERY_HOME:
                    path += f"?home={values['home_id']}"
                for who in people:
                    want = expected(rule, who, route.method, path, obj_home)
                    if want == 404 and canonical in QUERY_HOME:
                        want = 403
                    token = hmac.new(
                        secret, f"csrf:{who.basis}".encode(), hashlib.sha256
                    ).hexdigest()
                    headers = {
                        "Cookie": f"th_anon=anon-basis; {who.cookie}".rstrip("; "),
                        "X-CSRF-Token": token,
                        "Origin": origin,
                    }
                    resp = await http.request(
                        route.method, client.make_url(path), headers=headers, allow_redirects=False
                    )
                    await resp.read()
                    got = resp.status
                    checked += 1
                    where = f"{route.method} {path} as {who.name}: got {got}, want {want}"
                    if got >= 500:
                        failures.append(where)
                    elif want == "public":
                        pass  # anyone may ask; wrong credentials are the handler's 401
                    elif isinstance(want, tuple):
                        location = resp.headers.get("Location", "")
                        if got != want[0] or not location.startswith(want[1]):
                            failures.append(f"{where} ({location})")
                    elif want != "ok":
                        # An empty POST body may be refused (400/422) before the object is
                        # looked up: the same for every id, so it tells nothing either.
                        refused_body = route.method == "POST" and want == 404 and got in (400, 422)
                        if got != want and not refused_body:
                            failures.append(where)
                    elif route.method == "GET":
                        hub_wide_absent = bool(_absent_params(canonical))
                        success = 404 if hub_wide_absent else SUCCESS_GET.get(canonical, 200)
                        if got != success:
                            failures.append(where)
                    elif got in (401, 403) or (
                        got == 404 and obj_home is not None and not _absent_params(canonical)
                    ):
                        failures.append(where)  # a POST that did not get past the gate
    assert checked > 500
    assert failures == [], "\n".join(failures)


def test_the_rule_arithmetic() -> None:
    """The expectations above, spelled out for the cases the issue named."""
    console = Rule("staff", frozenset({Role.CLINICIAN, Role.MANAGER, Role.ADMIN}), True)
    home_manager = Who("homemgr", "staff", Role.MANAGER, "A")
    hub_manager = Who("hubmgr", "staff", Role.MANAGER)
    assert expected(console, home_manager, "GET", "/console", None) == 403
    assert expected(console, hub_manager, "GET", "/console", None) == "ok"
    assert expected(Rule("actor"), home_manager, "GET", "/api/calls/9", "B") == 404
    assert expected(Rule("actor"), replace(home_manager, home="B"), "GET", "/x", "B") == "ok"
    outcome = Rule("staff", frozenset({Role.CLINICIAN}))
    assert expected(outcome, Who("anonymous", None), "POST", "/api/calls/9/outcome", "A") == 401
    guest = Who("guest", "guest")
    assert expected(outcome, guest, "POST", "/api/calls/9/outcome", "A") == 401
    assert expected(console, guest, "GET", "/console", None) == (303, "/login")
    assert expected(Rule("actor"), guest, "GET", "/api/calls/9", "A") == 401
    assert expected(Rule("guest"), guest, "GET", "/guest", None) == "ok"
    assert expected(Rule("guest"), hub_manager, "GET", "/guest", None) == 401


async def test_the_outcome_endpoint_checks_the_login_before_the_body(client) -> None:  # type: ignore[no-untyped-def]
    token = await csrf(client)  # an anonymous visitor's own, valid CSRF token
    for body in (b"not json", b'{"outcome": "nonsense"}'):
        resp = await client.post(
            "/api/calls/1/outcome",
            data=body,
            headers={"Content-Type": "application/json", "X-CSRF-Token": token},
        )
        assert (resp.status, await resp.json()) == (
            401,
            {"error": {"code": "unauthenticated", "message": "log in first"}},
        )
