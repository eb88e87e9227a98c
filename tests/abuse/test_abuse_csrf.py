"""CSRF on every state-changing route, generated from the router.

Every route whose method changes state (POST, PUT, PATCH, DELETE) is sent, by a person
the route admits (so that only the CSRF check stands in the way), every way a forged
cross-site request could carry — or fail to carry — the token: none at all, an empty
one, the attacker's own token (a real one, of the attacker's own browser) in the header,
a form or a multipart form, and the victim's own token in the query string (a URL leaks
through referrers and logs, so telehub never reads a token from there).
Each must be refused with the exact 403 ``csrf`` answer, and the database must hold
exactly what it held before. A route added tomorrow is swept without a line here.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from hub.people.access import Role
from tests.abuse.world import CSRF_MESSAGE, World, assert_nothing_written, snapshot
from web.http.identity import UNSAFE_METHODS
from web.http.route_access import Rule, rule_of


def state_changing_routes(app: web.Application) -> list[web.AbstractRoute]:
    """The guest's own routes first and logging out last: in the control below, other
    routes (a guest removed, a session ended) would take away the sender's identity."""
    routes = [r for r in app.router.routes() if r.method in UNSAFE_METHODS]

    def order(route: web.AbstractRoute) -> int:
        rule = rule_of(route.handler)
        canonical = route.resource.canonical if route.resource else ""
        return 0 if rule is not None and rule.who == "guest" else 2 if canonical == "/logout" else 1

    return sorted(routes, key=order)


def admitted(rule: Rule) -> str:
    """Someone the route's rule lets through: the CSRF check alone refuses them."""
    if rule.who == "public":
        return "visitor"  # another anonymous browser: the login form is protected too
    if rule.who in ("device", "actor"):
        return "tablet A"
    if rule.who == "guest":
        return "guest"
    return "cleo" if not rule.roles or Role.CLINICIAN in rule.roles else "admin"


def forgeries(own: str, attackers: str) -> list[tuple[str, dict[str, object]]]:
    """How a forged request may carry a token, each as keyword arguments of a request.
    The attacker cannot read the victim's token; they can get one of their own."""
    multipart = aiohttp.FormData()
    multipart.add_field("csrf_token", attackers)
    multipart.add_field("file", b"home_code\n", filename="calls.csv", content_type="text/csv")
    return [
        ("no token", {"data": {"name": "x"}}),
        ("an empty token header", {"data": {"name": "x"}, "headers": {"X-CSRF-Token": ""}}),
        ("the attacker's own token in the header", {"headers": {"X-CSRF-Token": attackers}}),
        ("the attacker's own token in the form", {"data": {"csrf_token": attackers}}),
        ("the attacker's own token in a multipart form", {"data": multipart}),
        # A token in a URL leaks (referrers, logs, history): it is never read from there.
        ("the victim's own token in the query string", {"params": {"csrf_token": own}}),
    ]


async def test_every_state_changing_route_refuses_a_forged_request(world: World) -> None:
    app = world.app
    routes = state_changing_routes(app)
    assert len(routes) >= 40, [r.resource.canonical for r in routes if r.resource]
    attackers = await world.csrf("anonymous")
    before = await snapshot(world.engine)
    failures: list[str] = []
    for route in routes:
        assert route.resource is not None
        rule = rule_of(route.handler)
        assert rule is not None, route.resource.canonical  # test_route_access says why
        who = admitted(rule)
        path = world.path(route.resource.canonical)
        peer = world.people[who]
        for how, kwargs in forgeries(await world.csrf(who), attackers):
            resp = await peer.session.request(
                route.method,
                world.client.make_url(path),
                allow_redirects=False,
                **kwargs,  # type: ignore[arg-type]
            )
            where = f"{route.method} {path} as {who}, {how}"
            if path.startswith("/api/"):
                body = await resp.json() if resp.content_type == "application/json" else None
                got: object = (resp.status, body)
                want: object = (403, {"error": {"code": "csrf", "message": CSRF_MESSAGE}})
            else:
                got = (resp.status, CSRF_MESSAGE in await resp.text())
                want = (403, True)
            if got != want:
                failures.append(f"{where}: got {got}")
    assert failures == [], "\n".join(failures)
    await assert_nothing_written(world.engine, before)


async def test_the_same_requests_with_the_right_token_get_past_the_check(world: World) -> None:
    """The control: the sweep above is refused by the CSRF check and nothing else (the
    right person, path and token do get through it)."""
    routes = state_changing_routes(world.app)
    refused = []
    for route in routes:
        assert route.resource is not None
        rule = rule_of(route.handler)
        assert rule is not None
        who = admitted(rule)
        path = world.path(route.resource.canonical)
        token = await world.csrf(who)
        resp = await world.people[who].session.request(
            route.method,
            world.client.make_url(path),
            headers={"X-CSRF-Token": token},
            allow_redirects=False,
        )
        if resp.status == 403 and CSRF_MESSAGE in await resp.text():
            refused.append(f"{route.method} {path} as {who}")
    assert refused == []
