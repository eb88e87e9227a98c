"""Operators' endpoints on the real app: ``/metrics`` (Prometheus text, from this app's
own registry), ``/healthz`` and ``/readyz``, with who may read the metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import create_async_engine

from hub.settings import Settings
from signalling.bus import MemoryBus, RedisBus
from tests.signalling.conftest import claim
from web.http.health import Readiness


async def scrape(client: Any, **headers: str) -> dict[str, float]:
    """Every sample of a scrape, as ``name{label="v"}`` → value."""
    response = await client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    text = await response.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return samples


async def test_the_metrics_follow_the_queue_and_the_answers(
    client, waiting_call, clinician, clock
) -> None:
    before = await scrape(client)
    assert before["telehub_queue_waiting"] == 0
    assert before["telehub_database_up"] == 1 and before["telehub_bus_up"] == 1
    assert before["telehub_relay_calls"] == 0
    assert before["telehub_answer_wait_seconds_count"] == 0

    nurse, _ = await clinician("cleo")
    _tab, call_id = await waiting_call()
    clock.advance(timedelta(seconds=75))
    waiting = await scrape(client)
    assert waiting["telehub_queue_waiting"] == 1
    assert waiting['telehub_calls_open{state="waiting"}'] == 1
    assert waiting["telehub_queue_oldest_wait_seconds"] == 75
    assert waiting['telehub_websockets{kind="staff"}'] == 1
    assert waiting['telehub_websockets{kind="device"}'] == 1

    await claim(nurse, call_id)
    answered = await scrape(client)
    assert answered["telehub_queue_waiting"] == 0
    assert answered['telehub_calls_open{state="answered"}'] == 1
    assert answered["telehub_queue_oldest_wait_seconds"] == 0
    # One answer after 75 s: in the 120 s bucket, not the 60 s one.
    assert answered["telehub_answer_wait_seconds_count"] == 1
    assert answered["telehub_answer_wait_seconds_sum"] == 75
    assert answered['telehub_answer_wait_seconds_bucket{le="60.0"}'] == 0
    assert answered['telehub_answer_wait_seconds_bucket{le="120.0"}'] == 1


async def test_nothing_about_residents_or_people_is_in_the_metrics(
    client, waiting_call, clinician
) -> None:
    await clinician("cleo")
    await waiting_call()
    text = await (await client.get("/metrics")).text()
    for secret in ("Edna", "Smith", "9434765919", "Rose Court", "cleo", "Cleo"):
        assert secret not in text


async def test_a_flood_is_counted(aiohttp_client, settings, clock, ctx, home) -> None:
    from hub.people import enrolment
    from hub.people.access import SYSTEM
    from tests.signalling.conftest import Peer
    from web.app import create_app

    strict = settings.replace("signalling", rate_per_s=1, burst=5, abuse_close_after=20)
    client = await aiohttp_client(create_app(strict, clock=clock))
    code = (await enrolment.issue_code(ctx, SYSTEM, home.id, "")).code
    peer = await Peer(client, {"th_device": (await enrolment.enrol(ctx, code)).token}).connect(
        hello=False
    )
    try:
        assert peer.ws is not None
        for _ in range(40):
            await peer.ws.send_str('{"type": "ping"}')
        while (await peer.ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
            pass
    finally:
        await peer.close()
    samples = await scrape(client)
    assert samples['telehub_signalling_refused_messages_total{why="rate_limited"}'] == 19
    assert samples['telehub_signalling_refused_messages_total{why="flood"}'] == 1


@pytest.mark.parametrize(
    ("operations", "headers", "status"),
    [
        ({"metrics_networks": ("10.0.0.0/8",)}, {}, 403),
        ({"metrics_networks": (), "metrics_token": "s3cret-token"}, {}, 403),
        (
            {"metrics_networks": (), "metrics_token": "s3cret-token"},
            {"Authorization": "Bearer wrong"},
            403,
        ),
        (
            {"metrics_networks": (), "metrics_token": "s3cret-token"},
            {"Authorization": "Bearer s3cret-token"},
            200,
        ),
        # No token configured: an empty bearer opens nothing.
        ({"metrics_networks": ()}, {"Authorization": "Bearer "}, 403),
        ({"metrics_networks": ("127.0.0.0/8",)}, {}, 200),
    ],
)
async def test_only_the_operators_read_the_metrics(
    aiohttp_client, settings: Settings, clock, operations, headers, status
) -> None:
    from web.app import create_app

    client = await aiohttp_client(
        create_app(settings.replace("operations", **operations), clock=clock)
    )
    response = await client.get("/metrics", headers=headers)
    assert response.status == status
    if status == 403:
        assert "telehub_" not in await response.text()


async def test_health_and_readiness(client) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready", "database": "ok", "bus": "ok"}


async def test_readiness_names_what_is_down(engine) -> None:
    """Real failures: a bus and a database on ports where nothing listens."""
    dead_bus = RedisBus("redis://127.0.0.1:9/0")
    dead_db = create_async_engine("postgresql+asyncpg://telehub@127.0.0.1:9/none")
    try:
        assert await Readiness(engine, MemoryBus()).check() == {"database": "ok", "bus": "ok"}
        assert not Readiness().started
        checks = await Readiness(dead_db, dead_bus).check()
        assert checks["database"].startswith("unreachable (")
        assert checks["bus"].startswith("unreachable (")
    finally:
        await dead_bus.close()
        await dead_db.dispose()
