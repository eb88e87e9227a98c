"""The signalling server over real WebSockets, through the aiohttp test client."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import aiohttp
import pytest

from tests.signalling.conftest import Peer, claim, place_call


async def test_upgrade_needs_a_cookie(client) -> None:
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await s.ws_connect(client.make_url("/ws"), origin=str(client.make_url("/")).rstrip("/"))
    assert err.value.status == 401


async def test_upgrade_from_a_foreign_origin_is_refused(client, ctx, home, tablet) -> None:
    tab = await tablet(home)
    async with aiohttp.ClientSession(cookies=tab.cookies) as s:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await s.ws_connect(client.make_url("/ws"), origin="https://evil.example")
    assert err.value.status == 403


async def test_welcome_names_the_tablet(home, tablet) -> None:
    tab = await tablet(home)
    await tab.send("hello", v=1)
    welcome = await tab.expect("welcome")
    assert welcome["role"] == "device" and welcome["name"] == "Trolley"


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("{not json", "bad_json", "malformed JSON"),
        ('["a list"]', "bad_json", "message must be a JSON object"),
        ('{"type": "teleport"}', "unknown_type", "unknown message type 'teleport'"),
        ('{"type": "call.claim"}', "missing_field", "missing field 'call_id' in 'call.claim'"),
        (
            '{"type": "call.claim", "call_id": "7"}',
            "bad_field",
            "field 'call_id' of 'call.claim' must be",
        ),
    ],
)
async def test_bad_messages_get_precise_errors_and_keep_the_connection(
    home, tablet, raw: str, code: str, message: str
) -> None:
    tab = await tablet(home)
    assert tab.ws is not None
    await tab.ws.send_str(raw)
    error = await tab.expect("error")
    assert error["code"] == code and message in error["message"]
    await tab.send("ping")
    await tab.expect("pong")


async def test_an_error_about_a_bad_message_carries_its_ref(home, tablet) -> None:
    tab = await tablet(home)
    assert tab.ws is not None
    await tab.ws.send_str('{"type": "call.claim", "call_id": "7", "ref": "r-42"}')
    error = await tab.expect("error")
    assert error["code"] == "bad_field" and error["ref"] == "r-42"


async def test_oversized_frame_closes_with_1009(home, tablet, settings) -> None:
    tab = await tablet(home)
    assert tab.ws is not None
    await tab.ws.send_str(json.dumps({"type": "ping", "pad": "x" * 70_000}))
    msg = await tab.ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1009


async def test_flood_is_rate_limited(home, tablet, clock) -> None:
    tab = await tablet(home)
    assert tab.ws is not None
    for _ in range(150):
        await tab.ws.send_str('{"type": "ping"}')
    pongs = 0
    while (msg := await tab.recv())["type"] == "pong":
        pongs += 1
    assert msg == {
        "type": "error",
        "code": "rate_limited",
        "message": "too many messages: slow down",
    }
    assert 55 <= pongs < 150  # the burst got through (hello took one token), the flood did not
    clock.advance(timedelta(seconds=1))
    await tab.send("ping")  # the bucket refills: a well-behaved client carries on
    await tab.expect("pong")


async def test_sustained_flood_closes_with_1008(
    aiohttp_client, settings, engine, clock, ctx, home
) -> None:
    from hub.people import enrolment
    from hub.people.access import SYSTEM
    from web.app import create_app

    strict = settings.replace("signalling", rate_per_s=1, burst=5, abuse_close_after=20)
    client = await aiohttp_client(create_app(strict, clock=clock))
    enrolled = await enrolment.enrol(
        ctx, (await enrolment.issue_code(ctx, SYSTEM, home.id, "")).code
    )
    peer = await Peer(client, {"th_device": enrolled.token}).connect(hello=False)
    try:
        assert peer.ws is not None
        for _ in range(40):
            await peer.ws.send_str('{"type": "ping"}')
        while (msg := await peer.ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
            pass
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1008
    finally:
        await peer.close()
    # Connecting again at once to flood again is refused before the upgrade, for a while;
    # another tablet is not; once the cool-down is over the flooder's tablet may.
    again = Peer(client, {"th_device": enrolled.token})
    other = await enrolment.enrol(ctx, (await enrolment.issue_code(ctx, SYSTEM, home.id, "")).code)
    bystander = Peer(client, {"th_device": other.token})
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await again.connect()
        assert refused.value.status == 429
        page = await again.session.get(client.make_url("/ws"), headers={"Origin": again.origin})
        assert page.status == 429
        assert "closed for sending too many messages: try again in 10 s" in await page.text()
        await bystander.connect()
        clock.advance(timedelta(seconds=strict.signalling.flood_cool_down_s))
        await again.connect()
    finally:
        await again.close()
        await bystander.close()


async def test_call_rings_is_claimed_and_relays_sdp(waiting_call, clinician) -> None:
    nurse, _ = await clinician("cleo")
    await nurse.send("queue.subscribe")
    assert (await nurse.expect("queue.snapshot"))["items"] == []
    tab, call_id = await waiting_call()
    snap = await nurse.expect("queue.snapshot")
    (item,) = snap["items"]
    assert item["call_id"] == call_id and item["resident_name"] == "Edna Smith"
    assert item["home_name"] == "Rose Court" and item["state"] == "waiting"
    assert item["news2_band"] == "medium" and item["news2_score"] == 5
    state = await tab.expect("call.state", call_id=call_id)
    assert state["state"] == "waiting" and state["position"] == 1
    assert state["estimated_wait_s"] > 0

    await nurse.send("call.claim", call_id=call_id, ref="c1")
    claimed = await nurse.expect("call.claimed")
    assert claimed == {
        "type": "call.claimed",
        "call_id": call_id,
        "ok": True,
        "by_name": "Cleo",
        "ref": "c1",
    }
    answered = await tab.expect("call.state", state="answered")
    assert answered["clinician_name"] == "Cleo"

    await nurse.send("rtc.offer", call_id=call_id, sdp="v=0 offer", restart=False)
    offer = await tab.expect("rtc.offer")
    assert offer["sdp"] == "v=0 offer" and offer["from_role"] == "clinician"
    await tab.send("rtc.answer", call_id=call_id, sdp="v=0 answer")
    answer = await nurse.expect("rtc.answer")
    assert answer["sdp"] == "v=0 answer" and answer["from_role"] == "device"
    await nurse.expect("call.state", state="in_call")
    await tab.send(
        "rtc.ice",
        call_id=call_id,
        candidate="candidate:1 1 udp 1 1.2.3.4 5 typ host",
        sdp_mid="0",
        sdp_mline_index=0,
    )
    ice = await nurse.expect("rtc.ice")
    assert ice["candidate"].startswith("candidate:1") and ice["sdp_mline_index"] == 0


async def test_second_clinician_is_told_someone_else_answered(waiting_call, clinician) -> None:
    cleo, _ = await clinician("cleo")
    bob, _ = await clinician("bob")
    _, call_id = await waiting_call()
    await claim(cleo, call_id)
    await bob.send("call.claim", call_id=call_id, ref="late")
    late = await bob.expect("call.claimed")
    assert late["ok"] is False
    error = await bob.expect("error")
    assert error == {
        "type": "error",
        "code": "conflict",
        "message": f"call {call_id} is already answered by Cleo",
        "ref": "late",
    }


async def test_tablet_cannot_send_sdp_for_another_call(
    ctx, clock, home, other_home, other_resident, resident, tablet, clinician
) -> None:
    theirs = other_resident
    nurse, _ = await clinician()
    mine, other = await tablet(home), await tablet(other_home)
    their_call = await place_call(other, theirs.id)
    await claim(nurse, their_call)
    # Another home's call reads exactly like one that does not exist (docs/signalling.md):
    # a tablet cannot tell which call ids are in use.
    missing = their_call + 1000
    for call_id in (their_call, missing):
        for kind, fields in (
            ("rtc.offer", {"sdp": "v=0 evil", "restart": False}),
            ("rtc.ice", {"candidate": "", "sdp_mid": None, "sdp_mline_index": 0}),
            ("call.join", {}),
            ("call.media", {"mode": "audio"}),
            ("call.cancel", {}),
            ("call.end", {}),
        ):
            await mine.send(kind, call_id=call_id, **fields)
            error = await mine.expect("error")
            assert (error["code"], error["message"]) == ("not_found", f"no call {call_id}"), kind


async def test_claim_on_a_cancelled_call(waiting_call, clinician) -> None:
    nurse, _ = await clinician()
    tab, call_id = await waiting_call()
    await tab.send("call.cancel", call_id=call_id)
    assert (await tab.expect("call.state", state="cancelled"))["call_id"] == call_id
    await nurse.send("call.claim", call_id=call_id)
    error = await nurse.expect("error")
    assert error["message"] == f"call {call_id} was cancelled by the care home"


async def test_release_puts_the_call_back_and_transfer_moves_it(waiting_call, clinician) -> None:
    cleo, _ = await clinician("cleo")
    bob, bob_user = await clinician("bob")
    tab, call_id = await waiting_call()
    await claim(cleo, call_id)
    answered = await tab.expect("call.state", state="answered")
    await cleo.send("call.release", call_id=call_id)
    handed_back = await tab.expect("call.state", state="waiting")
    assert handed_back["position"] == 1
    # Every change of state moves the seq on, so a tablet can tell this hand-back from
    # a "waiting" that was read before the claim and overtaken.
    assert 0 < answered["seq"] < handed_back["seq"]
    await claim(cleo, call_id)
    await cleo.send("call.transfer", call_id=call_id, to_user_id=bob_user.id)
    to_bob = await bob.expect("call.state", call_id=call_id, state="answered")
    assert to_bob["clinician_name"] == "Bob"
    assert to_bob["seq"] > handed_back["seq"] + 1  # claimed again, then transferred
    await cleo.expect("call.state", call_id=call_id, clinician_name="Bob")
    await bob.send("rtc.offer", call_id=call_id, sdp="v=0 from bob", restart=True)
    assert (await tab.expect("rtc.offer"))["restart"] is True


async def test_waiting_tablet_reconnects_and_resumes(waiting_call, reconnect) -> None:
    tab, call_id = await waiting_call()
    await tab.expect("call.state", call_id=call_id)
    assert tab.ws is not None
    await tab.ws.close()
    again = await reconnect(tab, hello=False)
    await again.send("hello", v=1, resume_call_id=call_id)
    await again.expect("welcome")
    state = await again.expect("call.state", call_id=call_id)
    assert state["state"] == "waiting" and state["position"] == 1


async def test_live_call_resume_tells_the_other_side(waiting_call, clinician, reconnect) -> None:
    nurse, _ = await clinician()
    tab, call_id = await waiting_call()
    await claim(nurse, call_id)
    assert tab.ws is not None
    await tab.ws.close()  # Wi-Fi drop
    again = await reconnect(tab, hello=False)
    await again.send("hello", v=1, resume_call_id=call_id)
    # A queue update read just before the claim may still be on its way ("waiting");
    # it carries an older seq, which the tablet drops.
    answered = await again.expect("call.state", call_id=call_id, state="answered")
    assert answered["seq"] > 0
    assert (await nurse.expect("call.peer"))["event"] == "joined"


async def test_turn_credentials_need_a_session(client) -> None:
    resp = await client.get("/api/ice-servers")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthenticated"


async def test_queue_survives_a_restart(
    aiohttp_client, settings, engine, clock, waiting_call, clinician, reconnect
) -> None:
    _, call_id = await waiting_call()
    from web.app import create_app

    restarted = await aiohttp_client(create_app(settings, clock=clock))
    again = await reconnect((await clinician("cleo"))[0], restarted)
    await again.send("queue.subscribe")
    (item,) = (await again.expect("queue.snapshot"))["items"]
    assert item["call_id"] == call_id and item["state"] == "waiting"


async def test_abandoned_when_the_tablet_goes_away(ctx, clock, waiting_call) -> None:
    from datetime import timedelta

    from hub.calls import live

    tab, call_id = await waiting_call()
    assert tab.ws is not None
    await tab.ws.close()
    clock.advance(timedelta(seconds=119))
    assert await live.abandon_stale(ctx, timedelta(seconds=120)) == []
    clock.advance(timedelta(seconds=2))
    assert await live.abandon_stale(ctx, timedelta(seconds=120)) == [call_id]
    await asyncio.sleep(0)


async def test_call_detail_says_what_news2_is_missing(waiting_call) -> None:
    tab, call_id = await waiting_call(observations={"pulse": 95})
    resp = await tab.http("GET", f"/api/calls/{call_id}")
    data = await resp.json()
    assert data["news2_score"] == 1 and "respiration_rate" in data["news2_missing"]


async def test_a_console_behind_on_queue_snapshots_gets_the_newest_and_stays_connected(
    client, clinician
) -> None:
    """A busy queue sends every console a snapshot per call event. One that reads slower
    than they come is not closed for a full outbox (as a pile of 1,000 messages would):
    a snapshot not yet written is replaced by the newer one."""
    from signalling.session import OUTBOX_LIMIT
    from web.http.keys import SWITCHBOARD

    nurse, user = await clinician("cleo")
    await nurse.send("queue.subscribe")
    await nurse.expect("queue.snapshot")
    (conn,) = client.app[SWITCHBOARD]._local[f"staff:{user.id}"]
    # More snapshots than the outbox holds, faster than any socket is written (no await
    # in between: the writer cannot run).
    for n in range(OUTBOX_LIMIT * 2):
        conn.send_snapshot(json.dumps({"type": "queue.snapshot", "items": [], "n": n}))
    latest = await nurse.expect("queue.snapshot")
    assert latest["n"] == OUTBOX_LIMIT * 2 - 1  # only the newest was written
    await nurse.send("ping")
    await nurse.expect("pong")  # and the socket is still open
