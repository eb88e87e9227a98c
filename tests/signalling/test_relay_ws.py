"""The media relay over real WebSockets: ``relay.join`` / ``relay.offer`` /
``relay.answer`` with real aiortc peers, and the end-to-end key messages, with what
the server refuses."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from typing import Any

import pytest

from hub.calls import guest_services, live
from hub.calls.guests import GuestKind
from hub.people import enrolment
from hub.people.access import SYSTEM, Actor, Role, Skill
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from media.relay.room import Offer, Slot
from signalling.relay_handling import KEY_SWAP_MARK
from tests.conftest import PASSWORD
from tests.media.relay_clients import Client
from tests.signalling.conftest import Peer, claim, place_call, staff_token
from web.http.keys import CTX, SWITCHBOARD


async def live_call(ctx, home, resident, tablet, clinician):  # type: ignore[no-untyped-def]
    """A live call; (clinician, tablet, call id, the clinician's and tablet's ids on the
    relay)."""
    nurse, _ = await clinician("cleo")
    tab = await tablet(home)
    call_id = await place_call(tab, resident.id)
    await claim(nurse, call_id)
    await tab.expect("call.state", state="answered")
    call = await live.participants(ctx, call_id)
    return nurse, tab, call_id, f"staff:{call.answered_by}", f"device:{call.device_id}"


def board_of(client: Any) -> Any:
    return client.app[SWITCHBOARD]


def public_key() -> str:
    return base64.urlsafe_b64encode(b"\x04" + os.urandom(64)).rstrip(b"=").decode()


def envelope(call_id: int, sender: str, to: str, kid: int = 1, **over: Any) -> dict[str, Any]:
    e = {"v": 1, "call": str(call_id), "from": sender, "to": to, "kid": kid}
    e |= {"iv": "A" * 16, "ct": "B" * 43}
    return e | over


class OnRelay:
    """A peer's browser on the relay: answers every ``relay.offer`` with its aiortc
    connection (publishing a synthetic camera and microphone) and keeps the rest."""

    def __init__(self, peer: Peer, me: str) -> None:
        self.peer, self.me = peer, me
        self.client = Client(me)
        self.heard: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def join(self, call_id: int) -> None:
        await self.peer.send("relay.join", call_id=call_id, ref="j")
        self._task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            data = await self.peer.recv(timeout=30)
            if data["type"] == "relay.offer":
                offer = Offer(
                    data["call_id"],
                    self.me,
                    data["sdp"],
                    tuple(Slot(s["mid"], s["participant"], s["kind"]) for s in data["slots"]),
                )
                sdp = await self.client.answer(offer)
                await self.peer.send(
                    "relay.answer", call_id=data["call_id"], sdp=sdp, seat=data["seat"]
                )
            else:
                self.heard.append(data)

    async def wait_for(self, type_: str, timeout: float = 10, **match: Any) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for data in self.heard:
                if data["type"] == type_ and all(data.get(k) == v for k, v in match.items()):
                    self.heard.remove(data)
                    return data
            assert loop.time() < deadline, f"no {type_} {match}; heard {self.heard}"
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()


async def until(check: Any, what: Any, timeout: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"timed out; {what()}"
        await asyncio.sleep(0.05)


def last_roster(r: OnRelay) -> list[str] | None:
    """Who was on the relay in the newest roster ``r`` heard (None: none heard yet)."""
    rosters = [h for h in r.heard if h["type"] == "e2ee.roster"]
    return [p["participant"] for p in rosters[-1]["participants"]] if rosters else None


@pytest.fixture
async def on_relay():  # type: ignore[no-untyped-def]
    made: list[OnRelay] = []

    def make(peer: Peer, me: str) -> OnRelay:
        made.append(OnRelay(peer, me))
        return made[-1]

    yield make
    for r in made:
        await r.close()


async def test_both_parties_move_onto_the_relay_and_see_each_other(
    client, ctx, home, resident, tablet, clinician, on_relay
) -> None:
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
    board = board_of(client)
    assert board.relay.unit.figures()["frames_forwarded"] > 0
    # Each announces its public key: both get the roster with both keys.
    keys = {tab_ref: public_key(), nurse_ref: public_key()}
    await tab.send("e2ee.identity", call_id=call_id, public_key=keys[tab_ref])
    await nurse.send("e2ee.identity", call_id=call_id, public_key=keys[nurse_ref])

    def roster_has_both(r: OnRelay) -> bool:
        rosters = [h for h in r.heard if h["type"] == "e2ee.roster"]
        last = rosters[-1]["participants"] if rosters else []
        return {p["participant"]: p["public_key"] for p in last} == keys

    await until(lambda: roster_has_both(t) and roster_has_both(c), lambda: (t.heard, c.heard))
    # A sealed media key goes to the one it is addressed to, unread.
    await tab.send("e2ee.key", call_id=call_id, envelope=envelope(call_id, tab_ref, nurse_ref))
    delivered = await c.wait_for("e2ee.key_delivery")
    assert delivered["envelope"] == envelope(call_id, tab_ref, nurse_ref)


async def test_the_relay_refuses_what_is_not_yours_to_send(
    client, ctx, home, other_home, resident, tablet, clinician, on_relay
) -> None:
    nurse, tab, call_id, nurse_ref, tab_ref = await live_call(
        ctx, home, resident, tablet, clinician
    )
    stranger, _ = await clinician("sam")
    other_tab = await tablet(other_home)
    # Not a party: another clinician is refused; another home's tablet cannot tell the
    # call exists.
    await stranger.send("relay.join", call_id=call_id, ref="x")
    assert (await stranger.expect("error", ref="x"))["code"] == "forbidden"
    await other_tab.send("relay.join", call_id=call_id, ref="y")
    assert (await other_tab.expect("error", ref="y"))["code"] == "not_found"
    # Nothing before joining the relay.
    await tab.send("relay.answer", call_id=call_id, sdp="v=0", ref="a")
    assert (await tab.expect("error", ref="a"))["code"] == "forbidden"
    await tab.send("e2ee.identity", call_id=call_id, public_key=public_key(), ref="i")
    assert (await tab.expect("error", ref="i"))["code"] == "forbidden"

    t, c = on_relay(tab, tab_ref), on_relay(nurse, nurse_ref)
    await t.join(call_id)
    await c.join(call_id)
    await t.wait_for("e2ee.roster")

    async def refused(env: dict[str, Any], ref: str, **extra: Any) -> dict[str, Any]:
        await tab.send("e2ee.key", call_id=call_id, envelope=env, ref=ref, **extra)
        return await t.wait_for("error", ref=ref)

    # Addressed to someone not in the call, or to oneself.
    assert (await refused(envelope(call_id, tab_ref, "guest:99"), "k1"))["code"] == "not_in_call"
    assert (await refused(envelope(call_id, tab_ref, tab_ref), "k2"))["code"] == "not_in_call"
    # Sealed by someone else (a forged sender).
    assert (await refused(envelope(call_id, nurse_ref, nurse_ref), "k3"))["code"] == "forbidden"
    # For another call, or of another version.
    env = envelope(call_id, tab_ref, nurse_ref, call=str(call_id + 1))
    assert (await refused(env, "k4"))["code"] == "bad_field"
    assert (await refused(envelope(call_id, tab_ref, nurse_ref, v=2), "k5"))["code"] == "bad_field"
    # Malformed or oversized.
    oversized = envelope(call_id, tab_ref, nurse_ref, ct="B" * 44)
    assert (await refused(oversized, "k6"))["message"] == (
        "field 'envelope.ct' of 'e2ee.key' is longer than 43 characters"
    )
    assert (await refused(envelope(call_id, tab_ref, nurse_ref, kid=-1), "k7"))["code"] == (
        "bad_field"
    )
    no_to = {k: v for k, v in envelope(call_id, tab_ref, nurse_ref).items() if k != "to"}
    assert (await refused(no_to, "k8"))["message"] == "missing field 'envelope.to' in 'e2ee.key'"
    # Replayed: the same key id again (or an older one) is refused; a newer one passes.
    await tab.send("e2ee.key", call_id=call_id, envelope=envelope(call_id, tab_ref, nurse_ref, 5))
    await c.wait_for("e2ee.key_delivery")
    assert (await refused(envelope(call_id, tab_ref, nurse_ref, 5), "k9"))["code"] == "stale_key"
    assert (await refused(envelope(call_id, tab_ref, nurse_ref, 4), "k10"))["code"] == "stale_key"
    # A public key that is not a P-256 point.
    await tab.send("e2ee.identity", call_id=call_id, public_key="A" * 87, ref="p")
    assert (await t.wait_for("error", ref="p"))["code"] == "bad_field"
    # The key envelopes and the refusals never reached the clinician.
    assert [h for h in c.heard if h["type"] == "e2ee.key_delivery"] == []


async def test_a_participant_that_vanishes_is_taken_off_the_relay(
    client, ctx, home, resident, tablet, clinician, on_relay
) -> None:
    nurse, tab, call_id, nurse_ref, tab_ref = await live_call(
        ctx, home, resident, tablet, clinician
    )
    t, c = on_relay(tab, tab_ref), on_relay(nurse, nurse_ref)
    await t.join(call_id)
    await c.join(call_id)
    await until(lambda: c.client.decoded[(tab_ref, "video")] >= 3, lambda: dict(c.client.decoded))
    await t.close()
    assert tab.ws is not None
    await tab.ws.close()  # the tablet's socket drops without a relay.leave
    board = board_of(client)
    await until(lambda: board.relay.unit.load().participants == 1, board.relay.unit.load)

    await until(lambda: last_roster(c) == [nurse_ref], lambda: c.heard)


async def test_the_relay_ends_with_the_call(
    client, ctx, home, resident, tablet, clinician, on_relay
) -> None:
    nurse, _tab, call_id, nurse_ref, _ = await live_call(ctx, home, resident, tablet, clinician)
    c = on_relay(nurse, nurse_ref)
    await c.join(call_id)
    await c.wait_for("e2ee.roster")
    board = board_of(client)
    assert board.relay.unit.load().calls == 1
    await nurse.send("call.end", call_id=call_id)
    await until(lambda: board.relay.unit.load().calls == 0, board.relay.unit.load)


async def test_a_guest_let_in_joins_the_relay_and_is_taken_off_when_removed(
    client, ctx, home, resident, tablet, clinician, peers, reconnect, on_relay
) -> None:
    nurse, tab, call_id, nurse_ref, tab_ref = await live_call(
        ctx, home, resident, tablet, clinician
    )
    app_ctx = client.app[CTX]  # the server's context: its events reach the switchboard
    call = await live.participants(ctx, call_id)
    holder = Actor("staff", call.answered_by or 0, "Cleo", role=Role.CLINICIAN)
    _, link = await guest_services.invite(app_ctx, holder, call_id, GuestKind.FAMILY)
    guest, session = await guest_services.claim(app_ctx, link, "Sam Smith", opened_by=None)
    sam = Peer(client, {"th_guest": session})
    peers.append(sam)
    await sam.connect(path="/ws/guest")
    # Waiting in the lobby: the tablet and the clinician hear of it; no media yet.
    lobby = await nurse.expect("call.guests")
    assert lobby["guests"] == [
        {"participant": guest.ref, "name": "Sam Smith", "role": "family", "state": "waiting"}
    ]
    assert (await tab.expect("call.guests"))["guests"][0]["state"] == "waiting"
    await sam.send("relay.join", call_id=call_id, ref="early")
    early = await sam.expect("error", ref="early")
    assert (early["code"], early["message"]) == (
        "forbidden",
        "wait until the clinician lets you in",
    )
    # A guest sends nothing but media and keys.
    for kind, fields in (
        ("call.end", {"call_id": call_id}),
        ("notes.open", {"call_id": call_id}),
        ("queue.subscribe", {}),
        ("rtc.offer", {"call_id": call_id, "sdp": "v=0"}),
        ("e2ee.clear", {"call_id": call_id, "clear": True}),  # the clinician's decision
    ):
        await sam.send(kind, ref=kind, **fields)
        refused = await sam.expect("error", ref=kind)
        assert refused["message"] == "a guest takes part in the call's sound and video only"

    # Let in: everyone is told the call moves onto the relay, and all three join it.
    await guest_services.admit(app_ctx, holder, guest.id)
    for who in (nurse, tab, sam):
        assert (await who.expect("call.media_route"))["route"] == "relay"
    t, c, g = on_relay(tab, tab_ref), on_relay(nurse, nurse_ref), on_relay(sam, guest.ref)
    for r in (t, c, g):
        await r.join(call_id)
    everyone = {tab_ref, nurse_ref, guest.ref}

    def sees_the_others(r: OnRelay) -> bool:
        return all(r.client.decoded[(o, "video")] >= 3 for o in everyone - {r.me})

    await until(
        lambda: all(sees_the_others(r) for r in (t, c, g)),
        lambda: {r.me: dict(r.client.decoded) for r in (t, c, g)},
    )
    roster = (await g.wait_for("e2ee.roster"))["participants"]
    assert {p["participant"]: p["role"] for p in roster}[guest.ref] == "family"
    # A tablet page that reloads now is told at once: the guest, and the relay.
    again = await reconnect(tab)
    assert (await again.expect("call.guests"))["guests"][0]["state"] == "in_call"
    assert (await again.expect("call.media_route"))["route"] == "relay"

    # Removed: the guest's socket is closed, it is off the relay, the others carry on
    # and hear that the call is back to peer to peer.
    await guest_services.remove(app_ctx, holder, guest.id)
    ws = sam.ws
    assert ws is not None
    await until(lambda: ws.closed, lambda: "the guest's socket is still open")
    assert ws.close_code == 4401
    board = board_of(client)
    await until(lambda: board.relay.unit.load().participants == 2, board.relay.unit.load)
    assert await c.wait_for("call.media_route", route="direct")


async def test_a_relay_connection_that_dies_takes_its_participant_off_and_they_join_again(
    client, ctx, home, resident, tablet, clinician, on_relay
) -> None:
    """The tablet's relay connection dies but its socket stays (the network was away
    long enough for ICE consent to run out, or the tab's media crashed): the relay takes
    it off — the clinician's roster shrinks, so every browser rotates its key — and tells
    the tablet (``relay.lost``), whose browser joins again and gets media back."""
    nurse, tab, call_id, nurse_ref, tab_ref = await live_call(
        ctx, home, resident, tablet, clinician
    )
    t, c = on_relay(tab, tab_ref), on_relay(nurse, nurse_ref)
    await t.join(call_id)
    await c.join(call_id)
    await until(lambda: c.client.decoded[(tab_ref, "video")] >= 3, lambda: dict(c.client.decoded))
    await t.client.pc.close()  # no relay.leave, socket still open
    board = board_of(client)
    await until(lambda: board.relay.unit.load().participants == 1, board.relay.unit.load)
    assert not board.relay.is_on(call_id, tab_ref)

    await until(lambda: last_roster(c) == [nurse_ref], lambda: c.heard)
    await t.wait_for("relay.lost", call_id=call_id)
    # The tablet's browser joins again on the same socket (web/static/js/relay_call.js).
    await t.client.close()
    t.client = Client(tab_ref)
    before = c.client.decoded[(tab_ref, "video")]
    await tab.send("relay.join", call_id=call_id, ref="again")
    await until(
        lambda: (
            t.client.decoded[(nurse_ref, "video")] >= 3
            and c.client.decoded[(tab_ref, "video")] >= before + 3
        ),
        lambda: (dict(t.client.decoded), dict(c.client.decoded)),
    )
    assert board.relay.unit.load().participants == 2


async def test_an_old_sockets_late_goodbye_leaves_the_seat_of_its_newer_socket(
    client, ctx, home, resident, tablet, clinician, on_relay, peers
) -> None:
    """The tablet's Wi-Fi drops; its browser reconnects on a new socket and joins the
    relay again before the server has noticed the old socket close. When the old one's
    goodbye comes, it takes nothing away: the seat is the new socket's."""
    nurse, tab, call_id, nurse_ref, tab_ref = await live_call(
        ctx, home, resident, tablet, clinician
    )
    t, c = on_relay(tab, tab_ref), on_relay(nurse, nurse_ref)
    await t.join(call_id)
    await c.join(call_id)
    await until(lambda: c.client.decoded[(tab_ref, "video")] >= 3, lambda: dict(c.client.decoded))
    again = Peer(tab.client, tab.cookies)
    peers.append(again)  # closed at the end, whatever happens
    await again.connect()
    t2 = on_relay(again, tab_ref)
    await t2.join(call_id)  # the new socket's seat replaces the old socket's
    await until(lambda: t2.client.decoded[(nurse_ref, "video")] >= 3, lambda: t2.client.decoded)
    board = board_of(client)
    await t.close()
    assert tab.ws is not None
    await tab.ws.close()  # now the old socket's goodbye
    await until(lambda: len(board._local[tab_ref]) == 1, lambda: board._local[tab_ref])
    await until(lambda: not board.relay._leaving, lambda: board.relay._leaving)
    assert board.relay.is_on(call_id, tab_ref)
    assert board.relay.unit.load().participants == 2
    before = c.client.decoded[(tab_ref, "video")]
    await until(
        lambda: c.client.decoded[(tab_ref, "video")] >= before + 3, lambda: c.client.decoded
    )


@pytest.mark.parametrize("test_hooks", [False, True])
async def test_only_a_test_server_swaps_the_key_of_a_participant_marked_for_it(
    test_hooks, aiohttp_client, settings, clock, ctx, home, resident
) -> None:
    """The browser tests' stand-in for a server that swaps a key in transit: on a test
    server (server.test_hooks) a participant named with KEY_SWAP_MARK is shown to everyone
    with a fresh P-256 key instead of the one it announced; anywhere else, never."""
    from web.app import create_app

    node = await aiohttp_client(
        create_app(settings.replace("server", test_hooks=test_hooks), clock=clock)
    )
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, f"Trolley {KEY_SWAP_MARK}")
    enrolled = await enrolment.enrol(ctx, issued.code)
    new = NewStaff.parse("cleo", "Cleo", Role.CLINICIAN.value, [Skill.CLINICIAN.value])
    user = await create_staff(ctx, SYSTEM, new, PASSWORD)
    tab = Peer(node, {"th_device": enrolled.token})
    nurse = Peer(node, {"th_session": await staff_token(ctx, clock, user)})
    try:
        await tab.connect()
        await nurse.connect()
        call_id = await place_call(tab, resident.id)
        await claim(nurse, call_id)
        call = await live.participants(ctx, call_id)
        tab_ref, nurse_ref = f"device:{call.device_id}", f"staff:{call.answered_by}"
        for peer in (tab, nurse):
            await peer.send("relay.join", call_id=call_id)
        keys = {tab_ref: public_key(), nurse_ref: public_key()}
        for peer, ref in ((tab, tab_ref), (nurse, nurse_ref)):
            await peer.send("e2ee.identity", call_id=call_id, public_key=keys[ref])

        async def roster_with_keys(peer: Peer) -> dict[str, str]:
            while True:
                roster = await peer.expect("e2ee.roster")
                shown = {p["participant"]: p["public_key"] for p in roster["participants"]}
                if len(shown) == 2 and all(shown.values()):
                    return shown

        seen = [await roster_with_keys(peer) for peer in (tab, nurse)]
    finally:
        await tab.close()
        await nurse.close()
    assert seen[0] == seen[1]  # everyone, the marked participant included, sees one roster
    assert seen[0][nurse_ref] == keys[nurse_ref]  # unmarked: as announced
    if test_hooks:
        swapped = seen[0][tab_ref]
        assert swapped != keys[tab_ref]
        raw = base64.urlsafe_b64decode(swapped + "=")
        assert len(raw) == 65 and raw[0] == 4  # a real uncompressed P-256 point
    else:
        assert seen[0][tab_ref] == keys[tab_ref]


async def test_a_browser_that_cannot_encrypt_says_so_and_only_the_clinician_decides(
    ctx, home, resident, tablet, clinician
) -> None:
    nurse, tab, call_id, nurse_ref, tab_ref = await live_call(
        ctx, home, resident, tablet, clinician
    )
    # Only on the relay.
    await tab.send("e2ee.unsupported", call_id=call_id, ref="u0")
    early = await tab.expect("error", ref="u0")
    assert (early["code"], early["message"]) == ("forbidden", f"join call {call_id}'s relay first")
    for peer in (tab, nurse):  # on the relay (its offers need no answer here)
        await peer.send("relay.join", call_id=call_id)
        await peer.expect("e2ee.roster")
    # The tablet says its browser cannot encrypt: the clinician hears who.
    await tab.send("e2ee.unsupported", call_id=call_id)
    notice = await nurse.expect("e2ee.unsupported")
    assert notice == {"type": "e2ee.unsupported", "call_id": call_id, "participant": tab_ref}
    await tab.send("ping")  # everything the tablet heard meanwhile comes before the pong
    while (heard := await tab.recv())["type"] != "pong":
        assert heard["type"] != "e2ee.unsupported", heard  # not told of itself
    # Only the clinician decides; everyone on the relay hears the decision.
    await tab.send("e2ee.clear", call_id=call_id, clear=True, ref="c1")
    refused = await tab.expect("error", ref="c1")
    assert (refused["code"], refused["message"]) == (
        "forbidden",
        "only the clinician decides whether the call goes on without end-to-end encryption",
    )
    # The decision carries the proof the clinician's browser sealed for each participant
    # with a key (keys.js sealDecision): each gets its own, and only its own.
    proof = envelope(call_id, nurse_ref, tab_ref, kid=1765000000000)
    await nurse.send("e2ee.clear", call_id=call_id, clear=True, proofs=[proof])
    for peer, own in ((tab, proof), (nurse, None)):
        assert await peer.expect("e2ee.clear") == {
            "type": "e2ee.clear",
            "call_id": call_id,
            "clear": True,
            "proof": own,
        }
    await nurse.send("e2ee.clear", call_id=call_id, clear="yes", ref="c2")
    assert (await nurse.expect("error", ref="c2"))["code"] == "bad_field"
    # A proof sealed by someone else, for another call, twice for one participant, or
    # for someone not on the relay is refused, and nobody hears the decision.
    bad = [
        ([envelope(call_id, tab_ref, tab_ref)], "bad_field"),
        ([envelope(call_id + 1, nurse_ref, tab_ref)], "bad_field"),
        ([proof, proof], "bad_field"),
        ([envelope(call_id, nurse_ref, "guest:999")], "not_in_call"),
        ([envelope(call_id, nurse_ref, nurse_ref)], "not_in_call"),
    ]
    for i, (proofs, code) in enumerate(bad):
        await nurse.send("e2ee.clear", call_id=call_id, clear=True, proofs=proofs, ref=f"p{i}")
        assert (await nurse.expect("error", ref=f"p{i}"))["code"] == code, proofs
    await tab.send("ping")
    while (heard := await tab.recv())["type"] != "pong":
        assert heard["type"] != "e2ee.clear", heard
    # Back to end-to-end encryption.
    await nurse.send("e2ee.clear", call_id=call_id, clear=False)
    assert (await tab.expect("e2ee.clear"))["clear"] is False
