"""``kill -9`` of a real ``telehub serve`` process with calls waiting, a call live, notes
being saved and an outcome being recorded; then a restart on the same database.

After the restart: nothing acknowledged before the kill is lost and nothing is
duplicated, the waiting calls are back in the queue in their original order, the live
call is still the clinician's, the audit chain verifies (``telehub audit verify``), and
every client reconnects by itself (these are the same WebSocket clients, reconnecting as
the browsers' signalling client does).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pyotp
import pytest
from yarl import URL

from hub.clock import SystemClock
from hub.context import HubContext
from hub.people import auth, enrolment
from hub.people.access import SYSTEM
from tests.browser.server import (
    PASSWORD,
    LiveServer,
    _context,
    kill_and_restart,
    start_server,
    stop_server,
)
from tests.signalling.conftest import Peer, place_call
from tests.web.helpers import totp_secret

ROOT = Path(__file__).resolve().parents[2]
NOTES = 12


class At:
    """What ``Peer`` needs of a test client: URLs on the live server."""

    def __init__(self, url: str) -> None:
        self.base = URL(url)

    def make_url(self, path: str) -> URL:
        return self.base.join(URL(path))


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, HubContext]]:
    server = await asyncio.to_thread(start_server, tmp_path)
    ctx, engine = await _context(server.config)
    try:
        yield server, ctx
    finally:
        await engine.dispose()
        await asyncio.to_thread(stop_server, server)


async def staff(server: LiveServer, ctx: HubContext, username: str) -> dict[str, str]:
    step = await auth.login_password(ctx, username, PASSWORD)
    user_id = server.data["users"][username]
    code = pyotp.TOTP(await totp_secret(ctx, user_id)).at(SystemClock().now())
    return {"th_session": (await auth.login_totp(ctx, step.token, code)).token}


async def tablet(ctx: HubContext, home_id: int) -> dict[str, str]:
    code = (await enrolment.issue_code(ctx, SYSTEM, home_id, "Trolley")).code
    return {"th_device": (await enrolment.enrol(ctx, code)).token}


async def connect(server: LiveServer, cookies: dict[str, str]) -> Peer:
    return await Peer(At(server.url), cookies).connect()  # type: ignore[arg-type]


async def queue_order(nurse: Peer) -> list[tuple[int, str]]:
    await nurse.send("queue.subscribe")
    snap = await nurse.expect("queue.snapshot", timeout=10)
    return [(i["call_id"], i["state"]) for i in snap["items"]]


async def notes_of(ctx: HubContext, call_id: int) -> list[str]:
    async with ctx.uow() as uow:
        return [n.text for n in await uow.notes.for_call(call_id)]


async def audit_actions(ctx: HubContext, action: str, call_id: int) -> int:
    async with ctx.uow() as uow:
        return len(await uow.audit.for_subject("consultation", str(call_id), [action]))


async def test_kill_9_loses_and_duplicates_nothing(live: tuple[LiveServer, HubContext]) -> None:
    server, ctx = live
    home = server.data["homes"]["Rose Court"]
    async with ctx.uow() as uow:
        residents = {r.details.given_name: r.id for r in await uow.residents.for_home(home)}

    peers: list[Peer] = []
    try:
        # Three tablets call, each about a different resident, sicker ones later.
        tablets = [await tablet(ctx, home) for _ in range(3)]
        tabs = [await connect(server, t) for t in tablets]
        peers += tabs
        calls = [
            await place_call(tabs[0], residents["Edna"], soft_signs=[]),
            await place_call(tabs[1], residents["Arthur"]),
            await place_call(tabs[2], residents["Mabel"], intention="call_999"),
        ]
        cleo, bob = await staff(server, ctx, "cleo"), await staff(server, ctx, "bob")
        nurse = await connect(server, cleo)
        peers.append(nurse)
        before = await queue_order(nurse)
        assert sorted(c for c, _ in before) == sorted(calls)

        # Bob answers one call and ends it (its outcome is sent as the process dies);
        # Cleo answers another (live) and writes notes.
        doctor = await connect(server, bob)
        peers.append(doctor)
        live_call, ended_call = before[0][0], before[1][0]
        await doctor.send("call.claim", call_id=ended_call)
        await doctor.expect("call.claimed", call_id=ended_call, ok=True)
        await doctor.send("call.end", call_id=ended_call)
        await doctor.expect("call.state", call_id=ended_call, state="ended", timeout=10)
        await nurse.send("call.claim", call_id=live_call)
        await nurse.expect("call.claimed", call_id=live_call, ok=True)
        await nurse.send("notes.open", call_id=live_call, ref="open")
        await nurse.expect("notes.snapshot", ref="open")
        for n in range(NOTES):
            await nurse.send("notes.add", call_id=live_call, text=f"note {n}", ref=f"n{n}")
        acked: list[str] = []
        await nurse.expect("notes.added", ref="n0", timeout=10)
        acked.append("note 0")
        outcome = asyncio.ensure_future(
            doctor.http(
                "POST",
                f"/api/calls/{ended_call}/outcome",
                json={
                    "outcome": "managed_advice",
                    "follow_up": "home_to_call_if_worse",
                    "admission_judgement": "no",
                },
            )
        )
        await asyncio.sleep(0.01)  # the outcome request is on its way
        # Collect what else was acknowledged before the kill.
        await asyncio.to_thread(kill_and_restart, server)
        while True:
            try:
                data = await nurse.recv(timeout=1)
            except (AssertionError, TimeoutError):
                break
            if data["type"] == "notes.added":
                acked.append(f"note {int(data['ref'][1:])}")
        outcome_done = False
        try:
            outcome_done = (await outcome).status == 200
        except Exception:  # the connection died with the process
            outcome_done = False

        # -- after the restart ---------------------------------------------------------
        for p in peers:
            await p.close()
        peers.clear()
        nurse = await connect(server, cleo)
        peers.append(nurse)
        after = await queue_order(nurse)
        waiting_before = [c for c, state in before if c not in (live_call, ended_call)]
        assert [c for c, s in after if s == "waiting"] == waiting_before
        assert (live_call, "answered") in after or (live_call, "in_call") in after
        # The waiting tablet reconnects and hears its place again.
        waiting_tab = tablets[calls.index(waiting_before[0])]
        tab = await connect(server, waiting_tab)
        peers.append(tab)
        state = await tab.expect("call.state", call_id=waiting_before[0], timeout=10)
        assert state["state"] == "waiting" and state["position"] == 1

        # Every acknowledged note is there exactly once; nothing is there twice.
        stored = await notes_of(ctx, live_call)
        assert len(stored) == len(set(stored)), stored
        assert set(acked) <= set(stored) <= {f"note {n}" for n in range(NOTES)}
        # The outcome: recorded once if the server said so; if not, it can be now.
        recorded = await audit_actions(ctx, "call.outcome", ended_call)
        assert recorded <= 1
        if outcome_done:
            assert recorded == 1
        doctor = await connect(server, bob)
        peers.append(doctor)
        if recorded == 0:
            again = await doctor.http(
                "POST",
                f"/api/calls/{ended_call}/outcome",
                json={
                    "outcome": "managed_advice",
                    "follow_up": "home_to_call_if_worse",
                    "admission_judgement": "no",
                },
            )
            assert again.status == 200, await again.text()
        assert await audit_actions(ctx, "call.outcome", ended_call) == 1
    finally:
        for p in peers:
            await p.close()

    verify = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "web.cli", "--config", str(server.config), "audit", "verify"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
