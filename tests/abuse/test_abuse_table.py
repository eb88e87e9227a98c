"""The abuse table: one hostile request or WebSocket message per row, and the exact
refusal it must get — status (or close code), error code and message — with proof that
nothing was written (every table as it was; only the audit events a refusal is meant to
leave, such as a denied read of another home's resident).

Rows run against the real app on a real database (aiohttp's test client, real
WebSockets), in the world of tests/abuse/world.py: two care homes, their tablets, hub
staff of every kind, a live call at Rose Court (tablet A with Cleo) with a guest in it,
a call of Oak House (tablet B) waiting in the queue.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pyotp
import pytest
from markupsafe import escape

from tests.abuse.world import CSRF_MESSAGE, World, assert_nothing_written, snapshot
from tests.conftest import PASSWORD
from tests.signalling.conftest import Peer
from tests.web.helpers import totp_secret
from web.http.keys import SWITCHBOARD

Setup = Callable[[World], Awaitable[None]]
LOG_IN_FIRST = "log in or enrol this tablet first"
# Wrong two-factor codes count towards locking the account (only someone who has the
# password can send one): staff_users.failed_attempts.
TOTP_FAILURES = ("staff_users",)
BAD_ORIGIN = "WebSocket connections must come from telehub's own pages"
ORIGINS = {  # {own}: the app's own origin, http://127.0.0.1:PORT
    "another site": "https://evil.example",
    "no Origin header": None,
    "a sandboxed page": "null",
    "a look-alike host": "{own}.evil.example",
    "the same host over https": "{own_https}",
    "the same host on another port": "http://127.0.0.1:1",
}


@dataclass(frozen=True)
class Http:
    """A request by ``who``; ``path`` may name world ids (``{call_live}``, ...)."""

    who: str
    method: str
    path: str
    status: int
    code: str | None  # the JSON error code (None: a page, checked by its message)
    message: str
    json: Any = None
    data: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    csrf: bool = True  # send ``who``'s own CSRF token (the refusal is then not CSRF)
    audited: tuple[str, ...] = ()
    counted: tuple[str, ...] = ()  # tables where the refusal is counted
    retry_after: str | None = None
    before: Setup | None = None


@dataclass(frozen=True)
class Upgrade:
    """A WebSocket upgrade by ``who`` from ``origin`` (None: no Origin header)."""

    who: str
    path: str
    origin: str | None
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class Message:
    """``who`` (connected, said hello) sends ``send``; the socket answers ``error`` with
    ``code`` and ``message`` and stays open — or closes with ``close``. When ``victim``
    is named, that party of the call is connected too and must receive nothing."""

    who: str
    send: dict[str, Any] | str  # a dict is sent as JSON, a string as it is
    code: str = ""
    message: str = ""
    close: int | None = None
    repeat: int = 1
    victim: str | None = None
    path: str = "/ws"


Case = Http | Upgrade | Message


async def _fail_logins(world: World, n: int = 5, username: str = "cleo") -> None:
    for _ in range(n):
        resp = await world.people["visitor"].session.post(
            world.client.make_url("/login"),
            data={"username": username, "password": "wrong", "csrf_token": await _token(world)},
            allow_redirects=False,
        )
        assert resp.status == 401


async def _token(world: World) -> str:
    return await world.csrf("visitor")


async def _password_step(world: World) -> None:
    """The visitor types Cleo's password: the login waits for her two-factor code."""
    visitor = world.people["visitor"]
    resp = await visitor.session.post(
        world.client.make_url("/login"),
        data={"username": "cleo", "password": PASSWORD, "csrf_token": await _token(world)},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"].startswith("/login/totp")
    session = resp.cookies["th_session"].value
    visitor.session.cookie_jar.update_cookies({"th_session": session})
    visitor.cookies["th_session"] = session
    world.tokens.pop("visitor")  # a new identity: a new CSRF token


async def _code_just_used(world: World) -> str:
    """The code Cleo logged in with (the world's logins are all at this time step)."""
    secret = await totp_secret(world.ctx, world.ids["cleo"])
    return pyotp.TOTP(secret).at(world.ctx.clock.now())


def ws_json(**fields: Any) -> dict[str, Any]:
    return fields


CASES: dict[str, Case] = {
    # -- CSRF ---------------------------------------------------------------------------
    "csrf: a login form posted from another site": Http(
        "visitor", "POST", "/login", 403, None, CSRF_MESSAGE,
        data={"username": "cleo", "password": PASSWORD}, csrf=False,
    ),
    "csrf: a call started by a cross-site fetch without the token": Http(
        "tablet A", "POST", "/api/calls", 403, "csrf", CSRF_MESSAGE,
        json={"resident_id": "{edna}", "reason": "fall"}, csrf=False,
    ),
    "csrf: an outcome posted with the attacker's own token": Http(
        "cleo", "POST", "/api/calls/{call_ended}/outcome", 403, "csrf", CSRF_MESSAGE,
        json={"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "yes"},
        headers={"X-CSRF-Token": "{token:anonymous}"}, csrf=False,
    ),
    "csrf: a staff member created with the token in the query string": Http(
        "admin", "POST", "/admin/staff?csrf_token={token:admin}", 403, None, CSRF_MESSAGE,
        data={"username": "mallory", "display_name": "M", "role": "admin"}, csrf=False,
    ),
    "csrf: a tablet revoked with another person's token": Http(
        "admin", "POST", "/admin/devices/{device_a2}/revoke", 403, None, CSRF_MESSAGE,
        data={"csrf_token": "{token:cleo}"}, csrf=False,
    ),
    # -- logins, two-factor, enrolment --------------------------------------------------
    "login: a wrong password": Http(
        "visitor", "POST", "/login", 401, None, "wrong username or password",
        data={"username": "cleo", "password": "wrong"}, audited=("login.failed",),
    ),
    "login: the right password after five wrong ones from this address": Http(
        "visitor", "POST", "/login", 429, None,
        "too many failed attempts: try again in 31 seconds",
        data={"username": "cleo", "password": PASSWORD}, retry_after="31",
        before=_fail_logins,
    ),
    "login: an unknown username is slowed exactly like a known one": Http(
        "visitor", "POST", "/login", 429, None,
        "too many failed attempts: try again in 31 seconds",
        data={"username": "nobody", "password": PASSWORD}, retry_after="31",
        before=lambda w: _fail_logins(w, username="nobody"),
    ),
    "two-factor: a wrong code": Http(
        "visitor", "POST", "/login/totp", 401, None,
        "that code is not right: check the time on your phone",
        data={"code": "000000"}, before=_password_step, audited=("login.failed",),
        counted=TOTP_FAILURES,
    ),
    "two-factor: a replayed code": Http(
        "visitor", "POST", "/login/totp", 401, None,
        "that code was already used: wait for the next one",
        data={"code": "{replayed_code}"}, before=_password_step, audited=("login.failed",),
        counted=TOTP_FAILURES,
    ),
    "enrolment: a guessed code": Http(
        "visitor", "POST", "/enrol", 401, None, "that enrolment code is not known",
        data={"code": "ABCD-EFGH"},
    ),
    # -- who may ask: TURN credentials and other people's objects -----------------------
    "turn: ice servers for a stranger": Http(
        "anonymous", "GET", "/api/ice-servers", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "turn: ice servers for a password without two-factor": Http(
        "half-logged-in", "GET", "/api/ice-servers", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "turn: ice servers for a revoked tablet": Http(
        "revoked tablet", "GET", "/api/ice-servers", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "turn: ice servers for a forged tablet cookie": Http(
        "forged tablet", "GET", "/api/ice-servers", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "turn: ice servers for a guest cookie": Http(
        "guest", "GET", "/api/ice-servers", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "scope: another home's call read by a tablet": Http(
        "tablet B", "GET", "/api/calls/{call_live}", 404, "not_found", "no call {call_live}",
    ),
    "scope: another home's resident read by a tablet": Http(
        "tablet B", "GET", "/api/residents/{edna}", 404, "not_found", "no resident {edna}",
        audited=("resident.denied",),
    ),
    "scope: another home's residents listed by a tablet": Http(
        "tablet B", "GET", "/api/homes/{home_a}/residents", 404, "not_found",
        "no care home {home_a}", audited=("home.residents.denied",),
    ),
    "scope: a call started for another home's resident": Http(
        "tablet B", "POST", "/api/calls", 404, "not_found", "no resident {edna}",
        json={"resident_id": "{edna}", "reason": "fall", "intention": "ae"},
        audited=("resident.denied",),
    ),
    "scope: a care home's manager opens the hub console": Http(
        "homemgr", "GET", "/console", 403, None,
        "this is for hub staff, not a care home's account",
    ),
    "scope: a care home's manager asks for another home's report": Http(
        "homemgr", "GET", "/reports?home={home_b}", 403, None,
        "you can see your own care home's report only",
    ),
    "role: a clinician opens the admin pages": Http(
        "cleo", "GET", "/admin", 403, None, "your role cannot open this",
    ),
    "role: a hub manager records an outcome": Http(
        "hubmgr", "POST", "/api/calls/{call_ended}/outcome", 403, "forbidden",
        "only clinicians record outcomes", json={"outcome": "managed_advice"},
    ),
    "role: a tablet records an outcome": Http(
        "tablet A", "POST", "/api/calls/{call_ended}/outcome", 403, "forbidden",
        "this is for hub staff", json={"outcome": "managed_advice"},
    ),
    "role: a clinician starts a call as if a tablet": Http(
        "cleo", "POST", "/api/calls", 403, "forbidden",
        "calls are started from a care-home tablet", json={"resident_id": "{edna}"},
    ),
    "role: another clinician invites a guest into Cleo's call": Http(
        "bob", "POST", "/api/calls/{call_live}/invitations", 403, "forbidden",
        "call {call_live} is not yours: only the clinician who has it invites, lets in and "
        "removes its guests", json={"kind": "gp"},
    ),
    # -- bodies -------------------------------------------------------------------------
    "body: a form larger than the server accepts": Http(
        "visitor", "POST", "/login", 413, None, "the request is too large",
        data={"username": "x" * 2_100_000, "password": "p"},
    ),
    "body: a JSON body over 64 KiB": Http(
        "tablet A", "POST", "/api/calls", 413, "too_large", "the request is too large",
        raw=b'{"pad": "' + b"x" * 70_000 + b'"}',
    ),
    "body: JSON nested 40 deep": Http(
        "tablet A", "POST", "/api/calls", 400, "bad_request",
        "the request body is nested too deeply (at most 32 levels)",
        raw=b'{"a":' * 40 + b"1" + b"}" * 40,
    ),
    "body: malformed JSON": Http(
        "tablet A", "POST", "/api/news2", 400, "bad_request",
        "the request body is not valid JSON (line 1 column 17)", raw=b'{"resident_id": ',
    ),
    "body: not UTF-8": Http(
        "tablet A", "POST", "/api/news2", 400, "bad_request",
        "the request body is not UTF-8 text", raw=b'{"pulse": "\xff\xfe"}',
    ),
    "body: a JSON array instead of an object": Http(
        "tablet A", "POST", "/api/news2", 400, "bad_request",
        "the request body must be a JSON object", raw=b"[1, 2]",
    ),
    "body: a 5000-digit number": Http(
        "tablet A", "POST", "/api/news2", 400, "bad_request",
        "the request body is not valid JSON (a number is too long)",
        raw=b'{"pulse": ' + b"9" * 5000 + b"}",
    ),
    "body: an observation nobody asked for": Http(
        "tablet A", "POST", "/api/news2", 422, "invalid", "unknown observation(s): __proto__",
        json={"__proto__": {"admin": True}},
    ),
    "path: an API route that does not exist": Http(
        "tablet A", "GET", "/api/admin/grant", 404, "not_found", "Not Found",
    ),
    "path: a file outside the static folder": Http(
        "anonymous", "GET", "/static/%2e%2e/%2e%2e/config/default.toml", 404, None, "Not Found",
    ),
    "path: the wrong method": Http(
        "tablet A", "GET", "/api/calls", 405, "method_not_allowed", "Method Not Allowed",
    ),
    # -- WebSocket upgrades -------------------------------------------------------------
    **{
        f"origin: /ws from {label}": Upgrade("tablet A", "/ws", origin, 403, "bad_origin",
                                             BAD_ORIGIN)
        for label, origin in ORIGINS.items()
    },
    "origin: /ws/guest from another site": Upgrade(
        "guest", "/ws/guest", "https://evil.example", 403, "bad_origin", BAD_ORIGIN,
    ),
    "upgrade: /ws without a cookie": Upgrade(
        "anonymous", "/ws", "{own}", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "upgrade: /ws with a revoked tablet's cookie": Upgrade(
        "revoked tablet", "/ws", "{own}", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "upgrade: /ws with a guest's cookie": Upgrade(
        "guest", "/ws", "{own}", 401, "unauthenticated", LOG_IN_FIRST,
    ),
    "upgrade: /ws/guest with a tablet's cookie": Upgrade(
        "tablet A", "/ws/guest", "{own}", 401, "unauthenticated",
        "you are not in a call as a guest now: the call may have ended, or you left or were "
        "removed. To join a call, open the link you were sent",
    ),
    # -- WebSocket messages -------------------------------------------------------------
    "message: malformed JSON": Message("tablet A", "{not json", "bad_json",
                                       "malformed JSON at line 1 column 2"),
    "message: a JSON list": Message("tablet A", '["call.claim", 1]', "bad_json",
                                    "message must be a JSON object"),
    "message: an unknown type": Message("tablet A", ws_json(type="admin.grant"),
                                        "unknown_type", "unknown message type 'admin.grant'"),
    "message: a missing field": Message("cleo", ws_json(type="call.claim"), "missing_field",
                                        "missing field 'call_id' in 'call.claim'"),
    "message: an id that is a string": Message(
        "cleo", ws_json(type="call.claim", call_id="1 OR 1=1"), "bad_field",
        "field 'call_id' of 'call.claim' must be an integer, got string",
    ),
    "message: a protocol version from the future": Message(
        "tablet A", ws_json(type="hello", v=99), "unsupported_version",
        "protocol version 99 is not supported; use 1",
    ),
    "message: a frame over 64 KiB": Message("tablet A", ws_json(type="ping", pad="x" * 70_000),
                                            close=1009),
    "message: a tablet subscribes to every home's queue": Message(
        "tablet A", ws_json(type="queue.subscribe"), "forbidden", "the queue is for hub staff",
    ),
    "message: a care home's manager subscribes to the queue": Message(
        "homemgr", ws_json(type="queue.subscribe"), "forbidden", "the queue is for hub staff",
    ),
    "message: a clinician cancels a tablet's call": Message(
        "bob", ws_json(type="call.cancel", call_id="{call_waiting_b}"), "forbidden",
        "only the calling tablet cancels a call; clinicians end it",
    ),
    "message: a guest answers a waiting call": Message(
        "guest", ws_json(type="call.claim", call_id="{call_waiting_b}"), "forbidden",
        "a guest takes part in the call's sound and video only", path="/ws/guest",
    ),
    "flood: past the burst": Message("tablet A", ws_json(type="ping"), "rate_limited",
                                     "too many messages: slow down", repeat=80),
    "flood: sustained": Message("tablet A", ws_json(type="ping"), close=1008, repeat=400),
    # -- signalling injected into a call that is not yours ------------------------------
    "inject: another home's tablet sends an offer into the call": Message(
        "tablet B", ws_json(type="rtc.offer", call_id="{call_live}", sdp="v=0", restart=False),
        "not_found", "no call {call_live}", victim="cleo",
    ),
    "inject: the same home's other tablet sends an offer into the call": Message(
        "tablet A2", ws_json(type="rtc.offer", call_id="{call_live}", sdp="v=0", restart=False),
        "not_found", "no call {call_live}", victim="cleo",
    ),
    "inject: another clinician sends an offer into the call": Message(
        "bob", ws_json(type="rtc.offer", call_id="{call_live}", sdp="v=0", restart=False),
        "forbidden", "call {call_live} is not yours", victim="tablet A",
    ),
    "inject: another clinician sends ICE candidates into the call": Message(
        "bob", ws_json(type="rtc.ice", call_id="{call_live}", candidate="candidate:1 1 udp 1 "
                       "10.0.0.1 9 typ host", sdp_mid="0", sdp_mline_index=0),
        "forbidden", "call {call_live} is not yours", victim="tablet A",
    ),
    "inject: another clinician ends the call": Message(
        "bob", ws_json(type="call.end", call_id="{call_live}"), "forbidden",
        "call {call_live} is being handled by Cleo", victim="tablet A",
    ),
    "inject: another clinician opens the call's notes": Message(
        "bob", ws_json(type="notes.open", call_id="{call_live}"), "forbidden",
        "call {call_live} is being handled by Cleo: only they add notes until it ends",
        victim="cleo",
    ),
    "inject: a guest sends an offer into the call": Message(
        "guest", ws_json(type="rtc.offer", call_id="{call_live}", sdp="v=0", restart=False),
        "forbidden", "a guest takes part in the call's sound and video only",
        victim="tablet A", path="/ws/guest",
    ),
    "inject: another home's tablet reports the call's security level": Message(
        "tablet B", ws_json(type="call.security", call_id="{call_live}", level="direct"),
        "not_found", "no call {call_live}", victim="cleo",
    ),
    "inject: the clinician of an ended call sends an offer into it": Message(
        "cleo", ws_json(type="rtc.offer", call_id="{call_ended}", sdp="v=0", restart=False),
        "forbidden", "call {call_ended} is ended, not live", victim="tablet A",
    ),
}  # fmt: skip


def fill(text: str, world: World) -> str:
    own = world.origin
    values = {**{k: str(v) for k, v in world.ids.items()}, "own": own}
    values["own_https"] = own.replace("http://", "https://")
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


async def fill_tokens(value: Any, world: World, *, ids: bool = False) -> Any:
    """World ids and CSRF tokens (``{token:who}``) in a request's data; with ``ids``
    (JSON), a value that is just an id's name (``"{edna}"``) becomes the number."""
    if isinstance(value, str):
        if value.startswith("{token:"):
            return await world.csrf(value[len("{token:") : -1])
        if value == "{replayed_code}":
            return await _code_just_used(world)
        if ids and value.startswith("{") and value[1:-1] in world.ids:
            return world.ids[value[1:-1]]
        return fill(value, world)
    if isinstance(value, dict):
        return {k: await fill_tokens(v, world, ids=ids) for k, v in value.items()}
    return value


async def run_http(case: Http, world: World) -> None:
    peer = world.people[case.who]
    headers = {k: await fill_tokens(v, world) for k, v in case.headers.items()}
    if case.csrf:
        headers["X-CSRF-Token"] = await world.csrf(case.who)
    kwargs: dict[str, Any] = {}
    if case.json is not None:
        kwargs["json"] = await fill_tokens(case.json, world, ids=True)
    if case.data is not None:
        kwargs["data"] = await fill_tokens(case.data, world)
    if case.raw is not None:
        kwargs["data"] = case.raw
        headers.setdefault("Content-Type", "application/json")
    path = fill(case.path, world)
    if "{token:" in path:
        who = path.split("{token:")[1].split("}")[0]
        path = path.replace(f"{{token:{who}}}", await world.csrf(who))
    before = await snapshot(world.engine)
    url = world.client.make_url(path) if "%" not in path else _raw_url(world, path)
    resp = await peer.session.request(
        case.method, url, headers=headers, allow_redirects=False, **kwargs
    )
    message = fill(case.message, world)
    if case.code is not None:
        assert resp.content_type == "application/json", await resp.text()
        assert (resp.status, await resp.json()) == (
            case.status,
            {"error": {"code": case.code, "message": message}},
        )
    else:
        page = await resp.text()
        assert resp.status == case.status, page
        assert str(escape(message)) in page, page
    if case.retry_after is not None:
        assert resp.headers["Retry-After"] == case.retry_after
    await assert_nothing_written(world.engine, before, case.audited, case.counted)


def _raw_url(world: World, path: str) -> Any:
    from yarl import URL

    return URL(world.origin + path, encoded=True)  # keep %2e%2e as sent: no normalising


async def run_upgrade(case: Upgrade, world: World) -> None:
    board = world.app[SWITCHBOARD]
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        "Accept": "application/json",  # the refusal as JSON (browsers get a page)
    }
    if case.origin is not None:
        headers["Origin"] = fill(case.origin, world)
    before = await snapshot(world.engine)
    sockets = sum(board.connections().values())
    resp = await world.people[case.who].session.get(
        world.client.make_url(case.path), headers=headers, allow_redirects=False
    )
    assert (resp.status, await resp.json()) == (
        case.status,
        {"error": {"code": case.code, "message": case.message}},
    )
    assert sum(board.connections().values()) == sockets  # refused before the upgrade
    await assert_nothing_written(world.engine, before)


async def _connected(world: World, who: str, path: str = "/ws") -> Peer:
    peer = Peer(world.client, world.people[who].cookies)
    await peer.connect(path=path)
    await peer.send("ping", ref="settled")  # what the server had to say on hello is said
    await peer.expect("pong")
    return peer


async def run_message(case: Message, world: World, peers: list[Peer]) -> None:
    victim = await _connected(world, case.victim) if case.victim else None
    attacker = await _connected(world, case.who, case.path)
    peers.extend(p for p in (victim, attacker) if p is not None)
    assert attacker.ws is not None
    before = await snapshot(world.engine)
    raw = case.send
    if isinstance(raw, dict):
        raw = json.dumps(await fill_tokens(raw, world, ids=True))
    for _ in range(case.repeat):
        await attacker.ws.send_str(raw)
    if case.close is not None:
        while (msg := await attacker.ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
            pass  # what it was sent before the close (pongs, a rate_limited error)
        assert (msg.type, msg.data) == (aiohttp.WSMsgType.CLOSE, case.close)
    else:
        error = await attacker.expect("error")
        assert error == {"type": "error", "code": case.code, "message": fill(case.message, world)}
        await attacker.send("ping")
        await attacker.expect("pong")  # the connection is kept
    if victim is not None:
        assert await heard(victim) == [], "the other party of the call was reached"
    await assert_nothing_written(world.engine, before)


async def heard(victim: Peer) -> list[dict[str, Any]]:
    """What reached ``victim`` from the call, up to the answer to a ping of its own (a
    socket's messages arrive in order, so whatever was relayed came before): anything
    but the background a connected party may be sent at any time."""
    await victim.send("ping")
    reached = []
    while (msg := await victim.recv())["type"] != "pong":
        live = msg["type"] == "call.state" and msg.get("state") in ("answered", "in_call")
        if msg["type"] not in BACKGROUND and not live:
            reached.append(msg)
    return reached


# Said to a connected party whoever acts: who is in the call, the queue, its own state.
BACKGROUND = ("call.guests", "queue.snapshot", "welcome")


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
async def test_abuse(case: Case, world: World, peers: list[Peer], clock) -> None:  # type: ignore[no-untyped-def]
    if isinstance(case, Http):
        if case.before is not None:
            await case.before(world)
        await run_http(case, world)
    elif isinstance(case, Upgrade):
        await run_upgrade(case, world)
    else:
        if case.code == "rate_limited":
            # The bucket refills as the clock moves: the pong after the error needs a token.
            await _flood_then_refill(case, world, peers, clock)
            return
        await run_message(case, world, peers)


async def _flood_then_refill(case: Message, world: World, peers: list[Peer], clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    attacker = await _connected(world, case.who, case.path)
    peers.append(attacker)
    assert attacker.ws is not None
    before = await snapshot(world.engine)
    assert isinstance(case.send, dict)
    for _ in range(case.repeat):
        await attacker.ws.send_str(json.dumps(case.send))
    assert await attacker.expect("error") == {
        "type": "error",
        "code": case.code,
        "message": case.message,
    }
    clock.advance(timedelta(seconds=1))
    await attacker.send("ping")
    assert await attacker.recv() == {"type": "pong"}  # served again once the bucket refills
    await assert_nothing_written(world.engine, before)


def test_the_table_is_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
