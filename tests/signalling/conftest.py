"""Real WebSockets against the real app: a tablet and clinicians, each with its cookie;
a waiting call and answering it; another connection of the same browser; two telehub
processes on one Redis bus."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pyotp
import pytest
from aiohttp.test_utils import TestClient

from hub.clock import FixedClock
from hub.context import HubContext
from hub.people import auth, enrolment
from hub.people.access import SYSTEM, Role, Skill
from hub.people.admin import add_resident, create_staff
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff, StaffUser
from tests.conftest import PASSWORD
from tests.web.helpers import totp_secret

REDIS = "redis://127.0.0.1:6379/0"


class Peer:
    """One WebSocket client with its own cookies (a browser, as far as the server knows)."""

    def __init__(self, client: TestClient, cookies: dict[str, str]) -> None:
        self.client = client
        self.cookies = cookies
        self.session = aiohttp.ClientSession(cookies=cookies)
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    @property
    def origin(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    async def connect(self, *, hello: bool = True, path: str = "/ws") -> Peer:
        self.ws = await self.session.ws_connect(self.client.make_url(path), origin=self.origin)
        if hello:
            await self.send("hello", v=1)
            assert (await self.expect("welcome"))["v"] == 1
        return self

    async def send(self, type_: str, **fields: Any) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps({"type": type_, **fields}))

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        assert self.ws is not None
        msg = await self.ws.receive(timeout=timeout)
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a message, got {msg}"
        data: dict[str, Any] = json.loads(msg.data)
        return data

    async def expect(self, type_: str, timeout: float = 5, **match: Any) -> dict[str, Any]:
        """Skip other messages until one of ``type_`` (matching ``match``) arrives."""
        while True:
            data = await self.recv(timeout)
            if data["type"] == type_ and all(data.get(k) == v for k, v in match.items()):
                return data

    async def http(self, method: str, path: str, **kw: Any) -> aiohttp.ClientResponse:
        page = await self.session.get(self.client.make_url("/tablet"))
        token = re.search(r'name="csrf-token" content="([0-9a-f]+)"', await page.text())
        headers = {"X-CSRF-Token": token.group(1) if token else ""}
        return await self.session.request(method, self.client.make_url(path), headers=headers, **kw)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        await self.session.close()


@pytest.fixture
async def peers(client: TestClient) -> AsyncIterator[list[Peer]]:
    """Every Peer a test makes through the fixtures below, closed after it."""
    made: list[Peer] = []
    yield made
    for peer in made:
        await peer.close()


@pytest.fixture
def reconnect(peers):  # type: ignore[no-untyped-def]
    """Factory: another connection of ``peer``'s browser (its cookies) to ``node``
    (by default the same server): a second tab, a reload, a Wi-Fi drop, or the same
    browser on another telehub process."""

    async def make(peer: Peer, node: TestClient | None = None, *, hello: bool = True) -> Peer:
        again = Peer(node or peer.client, peer.cookies)
        peers.append(again)
        return await again.connect(hello=hello)

    return make


async def redis_up() -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 6379), 1)
    except OSError:
        return False
    writer.close()
    return True


@pytest.fixture
async def two_nodes(aiohttp_client, settings, engine, clock):  # type: ignore[no-untyped-def]
    """Two telehub processes sharing the database and a Redis bus (skipped without
    Redis); connect to them with ``reconnect(peer, node)``."""
    if not await redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    from web.app import create_app

    clustered = settings.replace("signalling", bus_url=REDIS)
    node_a = await aiohttp_client(create_app(clustered, clock=clock))
    node_b = await aiohttp_client(create_app(clustered, clock=clock))
    return node_a, node_b


async def staff_token(ctx: HubContext, clock: FixedClock, user: StaffUser) -> str:
    step = await auth.login_password(ctx, user.username, PASSWORD)
    code = pyotp.TOTP(await totp_secret(ctx, user.id)).at(clock.now())
    return (await auth.login_totp(ctx, step.token, code)).token


@pytest.fixture
def clinician(client, ctx, clock, peers):  # type: ignore[no-untyped-def]
    """Factory: a connected clinician Peer named ``name``."""

    async def make(username: str = "cleo") -> tuple[Peer, StaffUser]:
        user = await create_staff(
            ctx,
            SYSTEM,
            NewStaff.parse(
                username, username.capitalize(), Role.CLINICIAN.value, [Skill.CLINICIAN.value]
            ),
            PASSWORD,
        )
        peer = Peer(client, {"th_session": await staff_token(ctx, clock, user)})
        peers.append(peer)
        return await peer.connect(), user

    return make


@pytest.fixture
async def resident(ctx, clock, home):  # type: ignore[no-untyped-def]
    d = ResidentDetails.parse(
        given_name="Edna",
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number="9434765919",
        today=clock.now().date(),
    )
    return await add_resident(ctx, SYSTEM, home.id, d)


@pytest.fixture
def tablet(client, ctx, peers):  # type: ignore[no-untyped-def]
    async def make(home) -> Peer:  # type: ignore[no-untyped-def]
        issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley")
        enrolled = await enrolment.enrol(ctx, issued.code)
        peer = Peer(client, {"th_device": enrolled.token})
        peers.append(peer)
        return await peer.connect()

    return make


@pytest.fixture
def waiting_call(home, resident, tablet):  # type: ignore[no-untyped-def]
    """Factory: a Rose Court tablet calls about Edna; (the tablet, the call id)."""

    async def make(**extra: Any) -> tuple[Peer, int]:
        tab = await tablet(home)
        return tab, await place_call(tab, resident.id, **extra)

    return make


async def claim(nurse: Peer, call_id: int) -> dict[str, Any]:
    """``nurse`` answers ``call_id`` and is told it is theirs."""
    await nurse.send("call.claim", call_id=call_id)
    claimed = await nurse.expect("call.claimed", call_id=call_id)
    assert claimed["ok"] is True, claimed
    return claimed


async def place_call(tab: Peer, resident_id: int, **extra: Any) -> int:
    body = {
        "resident_id": resident_id,
        "reason": "fall",
        "soft_signs": ["not_themselves"],
        "observations": {
            "respiration_rate": 22,
            "spo2": 95,
            "on_oxygen": False,
            "systolic_bp": 105,
            "pulse": 95,
            "consciousness": "A",
            "temperature": 37.0,
        },
        "intention": "ae",
        **extra,
    }
    resp = await tab.http("POST", "/api/calls", json=body)
    assert resp.status == 201, await resp.text()
    call_id: int = (await resp.json())["call_id"]
    return call_id
