"""The database or Redis going away under a running app, and coming back.

Each service is reached through a ``TcpGate`` the test shuts and opens (the real
PostgreSQL and Redis other tests share are untouched): requests fail with a clear 503
and message, the WebSockets stay up, nothing is half-written, and when the service
returns everything works again without a restart. The database case needs a database
server and runs in the PostgreSQL pass of the suite (SQLite is a file: it cannot go
away like this).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from hub.settings import Settings
from hub.store.uow import DATABASE_AWAY
from tests.conftest import PG_URL
from tests.signalling.conftest import place_call, redis_up
from tests.tcp_gate import TcpGate


@pytest.fixture
async def gate() -> AsyncIterator[Callable[[int], Awaitable[TcpGate]]]:
    """Factory: a gate in front of 127.0.0.1:<port>, stopped after the test."""
    gates: list[TcpGate] = []

    async def make(port: int) -> TcpGate:
        gates.append(await TcpGate(port).start())
        return gates[-1]

    yield make
    for g in gates:
        await g.stop()


async def ready(client: Any) -> tuple[int, dict[str, str]]:
    response = await client.get("/readyz")
    return response.status, await response.json()


async def snapshot_with(nurse: Any, call_ids: set[int], timeout: float = 10) -> None:
    """Wait for a queue snapshot listing exactly ``call_ids``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        snap = await nurse.expect("queue.snapshot", timeout=max(0.1, deadline - loop.time()))
        if {i["call_id"] for i in snap["items"]} == call_ids:
            return


class TestRedisAway:
    @pytest.fixture
    async def settings(self, settings: Settings, gate: Any) -> Settings:  # type: ignore[override]
        if not await redis_up():
            pytest.skip("no Redis on 127.0.0.1:6379")
        self.redis = await gate(6379)
        return settings.replace("signalling", bus_url=f"redis://127.0.0.1:{self.redis.port}/0")

    async def test_calls_still_reach_this_process_and_all_resumes_when_redis_returns(
        self, client, ctx, home, resident, tablet, clinician
    ) -> None:
        nurse, _ = await clinician("cleo")
        await nurse.send("queue.subscribe")
        await snapshot_with(nurse, set())
        assert (await ready(client))[0] == 200

        self.redis.shut()
        status, checks = await ready(client)
        assert status == 503 and checks["bus"].startswith("unreachable (")
        # A tablet on this process calls: stored, and the console here hears of it.
        tab = await tablet(home)
        first = await place_call(tab, resident.id)
        await snapshot_with(nurse, {first})
        assert not nurse.ws.closed

        self.redis.open()
        # Back: the subscription returns by itself and resynchronises the console.
        await snapshot_with(nurse, {first}, timeout=15)
        for _ in range(100):
            if (await ready(client))[0] == 200:
                break
            await asyncio.sleep(0.1)
        assert await ready(client) == (200, {"status": "ready", "database": "ok", "bus": "ok"})
        await nurse.send("call.claim", call_id=first)
        await nurse.expect("call.claimed", call_id=first, ok=True)


@pytest.mark.skipif(not PG_URL, reason="needs a database server: runs in the PostgreSQL pass")
class TestDatabaseAway:
    @pytest.fixture
    async def settings(self, settings: Settings, gate: Any) -> Settings:  # type: ignore[override]
        url = make_url(settings.database.url)
        self.db = await gate(url.port or 5432)
        through = url.set(host="127.0.0.1", port=self.db.port)
        return settings.replace("database", url=through.render_as_string(hide_password=False))

    async def test_requests_get_a_clear_503_and_nothing_half_written(
        self, client, ctx, home, resident, tablet, clinician
    ) -> None:
        nurse, _ = await clinician("cleo")
        tab = await tablet(home)
        self.db.shut()

        status, checks = await ready(client)
        assert status == 503 and checks["database"].startswith("unreachable (")
        refused = await tab.http("POST", "/api/calls", json={"resident_id": resident.id})
        assert refused.status == 503
        assert (await refused.json())["error"] == {"code": "unavailable", "message": DATABASE_AWAY}
        assert refused.headers["Retry-After"]
        # The console's socket stays up and is told why its request failed.
        await nurse.send("queue.subscribe", ref="q")
        error = await nurse.expect("error", ref="q")
        assert error["code"] == "unavailable" and error["message"] == DATABASE_AWAY
        assert not nurse.ws.closed and not tab.ws.closed

        self.db.open()
        call_id = await place_call(tab, resident.id)  # works again, no restart
        await nurse.send("queue.subscribe")
        await snapshot_with(nurse, {call_id})  # one call: nothing half-written before
        assert (await ready(client))[0] == 200
