"""SQLite units of work of one process take turns, in the order they asked (the busy
timeout's polling let an unlucky one wait far longer than the work ahead of it), and
one that waits past its limit is refused as busy (a 503), never left hanging."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.cipher import Keyring
from hub.errors import Unavailable
from hub.store.bootstrap import make_uow_factory
from hub.store.uow import BUSY


@pytest.fixture
def sqlite_only(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("turns are SQLite's (PostgreSQL has row locks and many writers)")


@pytest.mark.usefixtures("sqlite_only")
async def test_units_of_work_take_turns_in_the_order_they_asked(
    engine: AsyncEngine, keyring: Keyring
) -> None:
    uow = make_uow_factory(engine, keyring)
    order: list[int] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def work(i: int) -> None:
        async with uow() as unit:
            await unit.homes.list()
            order.append(i)
            if i == 0:
                first_in.set()
                await release.wait()

    tasks = [asyncio.create_task(work(0))]
    await first_in.wait()
    for i in range(1, 8):  # each asks while the first holds the turn, one after another
        tasks.append(asyncio.create_task(work(i)))
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*tasks)
    assert order == list(range(8))


@pytest.mark.usefixtures("sqlite_only")
async def test_a_unit_of_work_that_waits_too_long_is_refused_as_busy(
    engine: AsyncEngine, keyring: Keyring
) -> None:
    uow = make_uow_factory(engine, keyring, wait_s=0.1)
    async with uow():
        with pytest.raises(Unavailable) as refused:
            async with uow():
                pass
    assert str(refused.value) == BUSY
    async with uow() as unit:  # the turn was given back: the next one goes ahead
        assert await unit.homes.list() == []
