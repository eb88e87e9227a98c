"""A relayed call over real WebSockets with the relay in a separate ``telehub media``
process (``media.relay = "processes"``), reached over the real Redis bus."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.settings import Settings
from tests.media.media_processes import ANNOUNCE_S, REDIS, MediaProcesses, write_config
from tests.signalling.conftest import redis_up
from tests.signalling.test_relay_ws import (  # noqa: F401  (the on_relay fixture)
    board_of,
    live_call,
    on_relay,
    until,
)


@pytest.fixture
async def settings(settings: Settings) -> Settings:  # type: ignore[override]
    if not await redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    return settings.replace("signalling", bus_url=REDIS).replace(
        "media", relay="processes", announce_s=ANNOUNCE_S
    )


@pytest.fixture
def media_processes(settings: Settings, tmp_path: Path) -> Iterator[MediaProcesses]:
    config = write_config(tmp_path / "media.toml", tmp_path, settings.database.url)
    processes = MediaProcesses(config)
    yield processes
    processes.stop_all()


async def test_a_call_is_relayed_by_a_separate_media_process(  # type: ignore[no-untyped-def]
    client,
    ctx,
    home,
    resident,
    tablet,
    clinician,
    on_relay,  # noqa: F811
    media_processes,
) -> None:
    media = await asyncio.to_thread(media_processes.start)  # not stalling this loop
    board: Any = board_of(client)
    unit = board.relay.unit
    await until(lambda: media.id in unit.directory.alive(), unit.directory.alive)

    nurse, tab, call_id, nurse_ref, tab_ref = await live_call(
        ctx, home, resident, tablet, clinician
    )
    t, c = on_relay(tab, tab_ref), on_relay(nurse, nurse_ref)
    await t.join(call_id)
    await c.join(call_id)
    await until(
        lambda: (
            t.client.decoded[(nurse_ref, "video")] >= 5
            and c.client.decoded[(tab_ref, "video")] >= 5
        ),
        lambda: (dict(t.client.decoded), dict(c.client.decoded)),
    )
    assert unit.placed_on(call_id) == media.id
    assert unit.load().participants == 2
    # The media process hears the load and says so: the hub's directory agrees.
    await until(lambda: unit.directory.alive().get(media.id) == (1, 2), unit.directory.alive)

    # The tablet leaves the relay: the media process closes its connection.
    await tab.send("relay.leave", call_id=call_id)
    await until(lambda: unit.directory.alive().get(media.id) == (1, 1), unit.directory.alive)
    # The call's relay ends (the call ended): nothing is left on the media process.
    await board.relay.end(call_id)
    await until(lambda: unit.directory.alive().get(media.id) == (0, 0), unit.directory.alive)
    assert unit.load().calls == 0
