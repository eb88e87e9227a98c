"""One call event, fanned out by the switchboard: one read of what every listener needs
(whatever the number of listeners), and the queue as stored (NEWS2 never re-scored).

Real database (conftest), the real unit-of-work factory behind a counting wrapper, the
in-memory bus, and in-memory connections (the switchboard's ``Outbox`` port).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.calls import closure, live
from hub.calls.consultation import State
from hub.context import HubContext
from hub.events import CallChanged
from hub.people import enrolment
from hub.people.access import SYSTEM, Actor
from hub.people.admin import add_resident
from hub.people.residents import ResidentDetails
from hub.ports import UnitOfWork, UnitOfWorkFactory
from hub.store import tables as t
from signalling import batching
from signalling.bus import MemoryBus
from signalling.switchboard import Switchboard
from tests.hub.test_calls import clinicians  # n clinicians, nurse00, nurse01, …
from tests.hub.test_closure import OUTCOME

NHS = ("9434765919", "4010232137", "9434765870")


class CountingUow:
    """The real unit-of-work factory, counting how many units of work were opened."""

    def __init__(self, factory: UnitOfWorkFactory) -> None:
        self._factory = factory
        self.opened = 0

    def __call__(self, *, brief: bool = False) -> UnitOfWork:
        self.opened += 1
        return self._factory(brief=brief)


@dataclass(eq=False)
class Conn:
    """An in-memory connection (the switchboard's Outbox port): what it was sent."""

    actor: Actor
    queue_subscribed: bool = False
    session: str | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def send_snapshot(self, text: str) -> None:
        self.send_text(text)

    async def close(self, code: int, message: bytes) -> None:
        pass

    async def still_allowed(self) -> bool:
        return True


@pytest.fixture
def counting(ctx: HubContext) -> tuple[CountingUow, HubContext]:
    uow = CountingUow(ctx.uow)
    return uow, dataclasses.replace(ctx, uow=uow)


async def tablet(ctx: HubContext, home_id: int, label: str) -> Actor:
    issued = await enrolment.issue_code(ctx, SYSTEM, home_id, label)
    actor = await enrolment.device_actor(ctx, (await enrolment.enrol(ctx, issued.code)).token)
    assert actor is not None
    return actor


async def resident(ctx: HubContext, home_id: int, i: int) -> int:
    details = ResidentDetails.parse(
        given_name=f"Resident{i}",
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number=NHS[i],
        today=ctx.clock.now().date(),
    )
    return (await add_resident(ctx, SYSTEM, home_id, details)).id


def ask(resident_id: int, observations: dict[str, Any] | None = None) -> live.CallRequest:
    return live.CallRequest.parse(
        {"resident_id": resident_id, "reason": "fall", "observations": observations or {}}
    )


def of_type(conn: Conn, kind: str) -> list[dict[str, Any]]:
    return [m for m in conn.sent if m["type"] == kind]


@pytest.mark.parametrize("listeners", [1, 20])
async def test_one_call_event_is_one_read_whatever_the_listeners(  # type: ignore[no-untyped-def]
    counting, home, listeners: int
) -> None:
    uows, ctx = counting
    board = Switchboard(ctx, MemoryBus(), ctx.settings.signalling)
    nurses = await clinicians(ctx, listeners)
    consoles = [Conn(n, queue_subscribed=True) for n in nurses]
    first, second = await tablet(ctx, home.id, "A"), await tablet(ctx, home.id, "B")
    tablets = {first.id: Conn(first), second.id: Conn(second)}
    for conn in [*consoles, *tablets.values()]:
        board.register(conn)
    waiting = await live.request_call(ctx, first, ask(await resident(ctx, home.id, 0)))
    call = await live.request_call(ctx, second, ask(await resident(ctx, home.id, 1)))

    # The second call arrives: every console gets the queue, each waiting tablet its place.
    uows.opened = 0
    await board.on_call_changed(CallChanged(call.id, "waiting", home.id, second.id, None, None))
    await board.bursts.idle()
    assert uows.opened == 1
    for console in consoles:
        [snapshot] = console.sent
        assert snapshot["type"] == "queue.snapshot"
        assert [i["call_id"] for i in snapshot["items"]] == [waiting.id, call.id]
    [place] = of_type(tablets[second.id], "call.state")
    assert (place["call_id"], place["position"], place["state"]) == (call.id, 2, "waiting")
    assert of_type(tablets[first.id], "call.state")[0]["position"] == 1

    # A clinician answers: the tablet and the clinician hear it, with the clinician's name.
    claimed = await live.claim(ctx, nurses[0], call.id)
    uows.opened = 0
    await board.on_call_changed(
        CallChanged(call.id, "answered", home.id, second.id, nurses[0].id, None)
    )
    await board.bursts.idle()
    assert uows.opened == 1
    told = of_type(tablets[second.id], "call.state")[-1]
    assert (told["state"], told["clinician_name"], told["seq"]) == (
        "answered",
        "Nurse 0",
        claimed.state_seq,
    )
    assert of_type(consoles[0], "call.state")[-1] == told

    # It ends (no longer in the queue): still one read, the name read within it.
    await live.end(ctx, nurses[0], call.id)
    uows.opened = 0
    await board.on_call_changed(CallChanged(call.id, "ended", home.id, second.id, nurses[0].id))
    await board.bursts.idle()
    assert uows.opened == 1
    told = of_type(tablets[second.id], "call.state")[-1]
    assert (told["state"], told["clinician_name"]) == ("ended", "Nurse 0")
    for console in consoles:
        last = of_type(console, "queue.snapshot")[-1]
        assert [i["call_id"] for i in last["items"]] == [waiting.id]
    assert all(len(of_type(console, "queue.snapshot")) == 3 for console in consoles)


COMPLETE_HIGH = {  # scores 20 (high) on the RCP chart if anyone scored it again
    "respiration_rate": 26,
    "spo2": 91,
    "on_oxygen": True,
    "systolic_bp": 85,
    "pulse": 135,
    "consciousness": "V",
    "temperature": 34.5,
}


async def test_the_queue_shows_and_orders_by_the_stored_score(  # type: ignore[no-untyped-def]
    ctx: HubContext, home, engine: AsyncEngine
) -> None:
    board = Switchboard(ctx, MemoryBus(), ctx.settings.signalling)
    [nurse] = await clinicians(ctx, 1)
    console = Conn(nurse, queue_subscribed=True)
    board.register(console)
    first, second = await tablet(ctx, home.id, "A"), await tablet(ctx, home.id, "B")
    early = await live.request_call(ctx, first, ask(await resident(ctx, home.id, 0), COMPLETE_HIGH))
    medium = dict(COMPLETE_HIGH, respiration_rate=18, pulse=80, consciousness="A")
    late = await live.request_call(ctx, second, ask(await resident(ctx, home.id, 1), medium))
    assert (early.news2_score, early.news2_band, late.news2_band) == (20, "high", "high")
    # What was stored is what counts: the earlier call's score as stored says low, the
    # later one's medium (different from what scoring the observations again gives).
    async with engine.begin() as conn:
        c = t.consultations.c
        await conn.execute(
            update(t.consultations).where(c.id == early.id).values(news2_score=0, news2_band="low")
        )
        await conn.execute(
            update(t.consultations)
            .where(c.id == late.id)
            .values(news2_score=5, news2_band="medium")
        )

    await board.on_call_changed(CallChanged(late.id, "waiting", home.id, second.id, None, None))

    [snapshot] = console.sent
    items = {i["call_id"]: i for i in snapshot["items"]}
    assert [i["call_id"] for i in snapshot["items"]] == [late.id, early.id]  # medium first
    assert (items[early.id]["news2_score"], items[early.id]["news2_band"]) == (0, "low")
    assert (items[late.id]["news2_score"], items[late.id]["news2_band"]) == (5, "medium")
    assert items[early.id]["news2_missing"] == [] == items[late.id]["news2_missing"]


async def test_events_close_together_are_told_as_one_burst(  # type: ignore[no-untyped-def]
    counting, home
) -> None:
    """The first event is told at once; the ones that come while it is told are told
    together: one more read and one more snapshot, and a tablet whose place did not
    move is not told it again."""
    uows, ctx = counting
    board = Switchboard(ctx, MemoryBus(), ctx.settings.signalling)
    nurses = await clinicians(ctx, 5)
    consoles = [Conn(n, queue_subscribed=True) for n in nurses]
    devices = [await tablet(ctx, home.id, label) for label in "ABC"]
    tablets = [Conn(d) for d in devices]
    for conn in [*consoles, *tablets]:
        board.register(conn)
    calls = [
        await live.request_call(ctx, d, ask(await resident(ctx, home.id, i)))
        for i, d in enumerate(devices)
    ]
    uows.opened = 0
    for call, device in zip(calls, devices, strict=True):
        await board.on_call_changed(CallChanged(call.id, "waiting", home.id, device.id, None))
    # The first was told before on_call_changed returned; the other two are gathered.
    assert uows.opened == 1
    await board.bursts.idle()
    assert uows.opened == 2
    for console in consoles:
        assert len(console.sent) == 2
        assert [i["call_id"] for i in console.sent[-1]["items"]] == [c.id for c in calls]
    # The first tablet's place (1) was told once; the others once each, in the burst.
    assert [m["position"] for m in of_type(tablets[0], "call.state")] == [1]
    assert [m["position"] for m in of_type(tablets[1], "call.state")] == [2]
    assert [m["position"] for m in of_type(tablets[2], "call.state")] == [3]

    # The first call is answered: the others move up and are told; its tablet hears it.
    await live.claim(ctx, nurses[0], calls[0].id)
    await board.on_call_changed(
        CallChanged(calls[0].id, "answered", home.id, devices[0].id, nurses[0].id)
    )
    await board.bursts.idle()
    assert of_type(tablets[0], "call.state")[-1]["state"] == "answered"
    assert [m["position"] for m in of_type(tablets[1], "call.state")] == [2, 1]
    assert [m["position"] for m in of_type(tablets[2], "call.state")] == [3, 2]


async def test_a_burst_that_cannot_be_read_is_told_once_the_database_answers(  # type: ignore[no-untyped-def]
    ctx: HubContext, home, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue read fails (the database is away): nothing is lost, the burst is told
    when a later try succeeds."""
    monkeypatch.setattr(batching, "RETRY_S", 0.05)
    failures = 2

    def flaky(*, brief: bool = False) -> UnitOfWork:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("database unavailable")
        return ctx.uow(brief=brief)

    board = Switchboard(dataclasses.replace(ctx, uow=flaky), MemoryBus(), ctx.settings.signalling)
    [nurse] = await clinicians(ctx, 1)
    console = Conn(nurse, queue_subscribed=True)
    board.register(console)
    device = await tablet(ctx, home.id, "A")
    call = await live.request_call(ctx, device, ask(await resident(ctx, home.id, 0)))

    await board.on_call_changed(CallChanged(call.id, "waiting", home.id, device.id, None))
    assert console.sent == []
    await board.bursts.idle()
    assert failures == 0
    [snapshot] = console.sent
    assert [i["call_id"] for i in snapshot["items"]] == [call.id]


async def test_a_call_that_ends_is_forgotten(ctx: HubContext, home) -> None:  # type: ignore[no-untyped-def]
    """What the switchboard keeps per call (its parties, for relaying SDP and ICE
    without a read) is kept for open calls only: a hub that runs for months does not
    hold every call it ever had. An ended call is still answered for, from storage."""
    board = Switchboard(ctx, MemoryBus(), ctx.settings.signalling)
    [nurse] = await clinicians(ctx, 1)
    board.register(Conn(nurse, queue_subscribed=True))
    devices = [await tablet(ctx, home.id, label) for label in "ABC"]
    residents = [await resident(ctx, home.id, i) for i in range(3)]

    async def told(call_id: int, state: str, device_id: int, by: int | None) -> None:
        await board.on_call_changed(CallChanged(call_id, state, home.id, device_id, by))
        await board.bursts.idle()

    for round_ in range(3):  # the same residents call again and again
        for device, resident_id in zip(devices, residents, strict=True):
            call = await live.request_call(ctx, device, ask(resident_id))
            await told(call.id, "waiting", device.id, None)
            assert board.calls_remembered == 1
            await live.claim(ctx, nurse, call.id)
            await told(call.id, "answered", device.id, nurse.id)
            assert (await board.parties(call.id)).state is State.ANSWERED
            await live.end(ctx, nurse, call.id)
            await told(call.id, "ended", device.id, nurse.id)
            assert board.calls_remembered == 0, round_
            # Asked about again (a late ICE message): read, answered, not kept.
            assert (await board.parties(call.id)).state is State.ENDED
            assert board.calls_remembered == 0
            await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
