"""Who gets the queue, and sockets that must close the moment their access ends.

- A care-home manager's account (scoped to one home) gets no queue: the queue lists
  every home's waiting residents. A hub-wide manager gets it read-only.
- Logout, expiry, two-factor reset, deactivation and revocation close the sockets of
  that session, person or tablet at once (through the bus: every process closes its
  own), not at their next message.
"""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from hub.people import enrolment
from hub.people.access import SYSTEM, Role
from hub.people.admin import create_staff, reset_totp, update_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.signalling.conftest import Peer, place_call, staff_token
from web.http.keys import CTX, SWITCHBOARD


async def staff_peer(client, ctx, clock, peers, username, role, home_id=None):  # type: ignore[no-untyped-def]
    new = NewStaff.parse(
        username,
        username.capitalize(),
        role.value,
        ["clinician"] if role is Role.CLINICIAN else [],
        home_id=home_id,
    )
    user = await create_staff(ctx, SYSTEM, new, PASSWORD)
    peer = Peer(client, {"th_session": await staff_token(ctx, clock, user)})
    clock.advance(timedelta(seconds=31))  # a later login needs a fresh TOTP step
    peers.append(peer)
    return await peer.connect(), user


async def expect_closed(peer: Peer) -> tuple[int, str]:
    """The next thing on the socket is the server closing it: (code, reason)."""
    assert peer.ws is not None
    while True:
        msg = await peer.ws.receive(timeout=5)
        if msg.type is aiohttp.WSMsgType.TEXT:
            continue  # messages sent before the close (a snapshot, a call state)
        assert msg.type is aiohttp.WSMsgType.CLOSE, msg
        return int(msg.data), str(msg.extra or "")


async def test_a_care_home_manager_gets_no_queue(
    client, ctx, clock, home, other_home, resident, tablet, peers
) -> None:  # type: ignore[no-untyped-def]
    manager, _ = await staff_peer(client, ctx, clock, peers, "homemgr", Role.MANAGER, home.id)
    hub_nurse, _ = await staff_peer(client, ctx, clock, peers, "nurse", Role.CLINICIAN)
    await manager.send("queue.subscribe")
    error = await manager.expect("error")
    assert (error["code"], error["message"]) == ("forbidden", "the queue is for hub staff")
    await hub_nurse.send("queue.subscribe")
    await hub_nurse.expect("queue.snapshot")
    tab = await tablet(home)
    call_id = await place_call(tab, resident.id)
    # Every subscriber's snapshot goes out in one pass: once the nurse has it, the
    # manager would have had it before this pong.
    snapshot = await hub_nurse.expect("queue.snapshot")
    assert [i["call_id"] for i in snapshot["items"]] == [call_id]
    await manager.send("ping")
    assert (await manager.recv())["type"] == "pong"
    # Nor by HTTP: the call of their own home is there, another's is not.
    resp = await manager.session.get(client.make_url(f"/api/calls/{call_id}"))
    assert resp.status == 200
    resp = await manager.session.get(client.make_url("/console"))
    assert resp.status == 403


async def test_a_care_home_manager_cannot_read_another_homes_call(
    client, ctx, clock, home, other_home, other_resident, tablet, peers
) -> None:  # type: ignore[no-untyped-def]
    theirs = other_resident
    other = await tablet(other_home)
    call_id = await place_call(other, theirs.id)
    manager, _ = await staff_peer(client, ctx, clock, peers, "homemgr", Role.MANAGER, home.id)
    for path in (f"/api/calls/{call_id}", f"/api/calls/{call_id + 1000}"):
        resp = await manager.session.get(client.make_url(path))
        body = await resp.json()
        wanted = path.rsplit("/", 1)[1]
        assert (resp.status, body) == (
            404,
            {"error": {"code": "not_found", "message": f"no call {wanted}"}},
        )
    await manager.send("call.join", call_id=call_id)
    error = await manager.expect("error")
    assert (error["code"], error["message"]) == ("not_found", f"no call {call_id}")


async def test_a_hub_manager_watches_the_queue_but_cannot_answer(
    client, ctx, clock, home, resident, tablet, peers
) -> None:  # type: ignore[no-untyped-def]
    manager, _ = await staff_peer(client, ctx, clock, peers, "hubmgr", Role.MANAGER)
    await manager.send("queue.subscribe")
    await manager.expect("queue.snapshot")
    tab = await tablet(home)
    call_id = await place_call(tab, resident.id)
    snapshot = await manager.expect("queue.snapshot")
    assert snapshot["items"][0]["resident_name"] == "Edna Smith"
    await manager.send("call.claim", call_id=call_id, ref="c1")
    error = await manager.expect("error")
    assert (error["code"], error["message"], error["ref"]) == (
        "forbidden",
        "only clinicians answer and handle calls",
        "c1",
    )
    page = await manager.session.get(client.make_url("/console"))
    html = await page.text()
    assert page.status == 200 and 'data-can-answer="no"' in html
    assert "Read-only: only clinicians answer calls." in html


async def test_logout_closes_that_sessions_sockets_at_once(
    client, ctx, clock, home, resident, tablet, peers
) -> None:  # type: ignore[no-untyped-def]
    nurse, user = await staff_peer(client, ctx, clock, peers, "nurse", Role.CLINICIAN)
    await nurse.send("queue.subscribe")
    await nurse.expect("queue.snapshot")
    # The same person's other login (another browser) stays open.
    other_login = Peer(client, {"th_session": await staff_token(ctx, clock, user)})
    peers.append(other_login)
    await other_login.connect()
    resp = await nurse.http("POST", "/logout", allow_redirects=False)
    assert resp.status == 303
    assert await expect_closed(nurse) == (4401, "session ended")
    # Nothing more reaches it; the other login still works.
    tab = await tablet(home)
    await place_call(tab, resident.id)
    await other_login.send("ping")
    assert (await other_login.expect("pong"))["type"] == "pong"


async def test_revoking_a_tablet_closes_its_sockets_at_once(client, home, tablet) -> None:  # type: ignore[no-untyped-def]
    tab = await tablet(home)
    ctx = client.server.app[CTX]
    async with ctx.uow() as uow:
        (device,) = await uow.devices.list(home.id)
    await enrolment.revoke(ctx, SYSTEM, device.id)
    assert await expect_closed(tab) == (4401, "session ended")


@pytest.mark.parametrize("how", ["totp_reset", "deactivated"])
async def test_resetting_or_deactivating_a_user_closes_all_their_sockets(
    client, ctx, clock, peers, how
) -> None:  # type: ignore[no-untyped-def]
    nurse, user = await staff_peer(client, ctx, clock, peers, "nurse", Role.CLINICIAN)
    second = Peer(client, {"th_session": await staff_token(ctx, clock, user)})
    peers.append(second)
    await second.connect()
    app_ctx = client.server.app[CTX]
    if how == "totp_reset":
        await reset_totp(app_ctx, SYSTEM, user.id)
    else:
        await update_staff(
            app_ctx, SYSTEM, user.id, user.display_name, user.role, user.skills, False
        )
    assert await expect_closed(nurse) == (4401, "session ended")
    assert await expect_closed(second) == (4401, "session ended")


async def test_an_expired_session_is_closed_by_the_periodic_check(
    client, ctx, clock, peers
) -> None:  # type: ignore[no-untyped-def]
    nurse, _ = await staff_peer(client, ctx, clock, peers, "nurse", Role.CLINICIAN)
    board = client.server.app[SWITCHBOARD]
    assert await board.revalidate_all() == 0
    clock.advance(timedelta(minutes=ctx.settings.security.session_idle_minutes + 1))
    assert await board.revalidate_all() == 1
    assert await expect_closed(nurse) == (4401, "session ended")


async def test_logout_on_one_node_closes_the_socket_on_another(
    aiohttp_client, settings, engine, ctx, clock
) -> None:  # type: ignore[no-untyped-def]
    """Two telehub processes sharing the database and a Redis bus."""
    from web.app import create_app

    shared = settings.replace("signalling", bus_url="redis://127.0.0.1:6379/0")
    node1 = await aiohttp_client(create_app(shared, clock=clock))
    node2 = await aiohttp_client(create_app(shared, clock=clock))
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("nurse", "Nurse", "clinician", ["clinician"]), PASSWORD
    )
    cookies = {"th_session": await staff_token(ctx, clock, user)}
    on_node2 = Peer(node2, cookies)
    on_node1 = Peer(node1, cookies)
    try:
        await on_node2.connect()
        resp = await on_node1.http("POST", "/logout", allow_redirects=False)
        assert resp.status == 303
        assert await expect_closed(on_node2) == (4401, "session ended")
    finally:
        await on_node1.close()
        await on_node2.close()
