"""The relay and end-to-end key messages of one connection (signalling/relay_messages.py).

Who may do what:
- ``relay.join``: a party of the live call (its tablet or its clinician);
- ``relay.answer``, ``relay.leave``, ``e2ee.identity``: only someone on that call's
  relay, about themselves;
- ``e2ee.key``: only someone on the relay, sealed by themselves (``from``) to someone
  else on the same call's relay (``to``), for this call, with a key id above the last
  one they sent that person: an envelope replayed or reordered by anyone is refused.
  The server never opens an envelope (it cannot: it has no private key).
- ``e2ee.unsupported``: someone on the relay, about themselves; passed to the others.
- ``e2ee.clear``: only the call's clinician, on its relay; passed to everyone on it,
  each with the proof sealed for them (proofs sealed by the sender, for this call, one
  per participant on it).
  The level it leads to is stored by the clinician's page (``call.security``), which is
  where the change is audited.

Test servers only (``server.test_hooks``): a participant whose name contains
``KEY_SWAP_MARK`` has every public key it announces replaced by a fresh one that nobody
holds, in the roster everyone gets (itself included) — the browser tests' stand-in for
a server that swaps a key in transit (tests/browser/test_relay_e2ee_browser.py). With
the setting off, as in every deployment, names mean nothing here.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from hub.errors import Forbidden
from hub.people.access import Actor
from signalling import protocol as p
from signalling import relay_messages as rm
from signalling.relay_calls import RelayCalls, Seat
from signalling.switchboard import address_of

ENVELOPE_VERSION = 1
P256_POINT = 65  # uncompressed: 0x04 || X || Y
KEY_SWAP_MARK = "[swap my key]"  # test servers only: see the module's docstring


class Connection(Protocol):
    actor: Actor
    relay_calls: set[int]  # the calls this connection joined the relay of
    serial: int  # this connection's number in its process: whose seat is whose
    test_hooks: bool  # server.test_hooks: a test server (KEY_SWAP_MARK)

    @property
    def relay(self) -> RelayCalls: ...

    async def require_party(self, call_id: int) -> rm.ParticipantRole:
        """Refuse unless a party of the live call or a guest let in; their role."""
        ...

    def send(self, message: p.ServerMessage) -> None: ...


def _refuse(code: str, message: str, ref: str | None) -> p.ProtocolError:
    return p.ProtocolError(code, message, ref)


async def handle(conn: Connection, m: rm.RelayClientMessage) -> None:
    relay, me = conn.relay, address_of(conn.actor)
    match m:
        case rm.RelayJoin():
            role = await conn.require_party(m.call_id)
            seat = Seat(me, conn.actor.name, role, owner=conn.serial)
            offer = await relay.join(m.call_id, seat)
            conn.relay_calls.add(m.call_id)
            conn.send(replace(offer, ref=m.ref))
        case rm.RelayAnswer():
            _require_on(relay, m.call_id, me)
            try:
                await relay.answer(m.call_id, me, m.sdp, m.seat)
            except LookupError as gone:
                raise _refuse("stale_seat", str(gone), m.ref) from None
        case rm.RelayLeave():
            # In the background: closing a peer connection can take a while, and this
            # socket's next message (call.end, say) must not wait for it.
            conn.relay_calls.discard(m.call_id)
            relay.gone(me, [m.call_id], owner=conn.serial)
        case rm.E2eeIdentity():
            _require_on(relay, m.call_id, me)
            if not _is_public_key(m.public_key):
                raise _refuse(
                    "bad_field", "public_key must be a raw P-256 public key, base64url", m.ref
                )
            await relay.announce(m.call_id, me, _announced(conn, m.public_key))
        case rm.E2eeKey():
            _require_on(relay, m.call_id, me)
            e = m.envelope
            if e.v != ENVELOPE_VERSION:
                raise _refuse("bad_field", f"envelope version {e.v} is not supported", m.ref)
            if e.call != str(m.call_id):
                raise _refuse("bad_field", "the envelope is for another call", m.ref)
            if e.from_ != me:
                raise Forbidden("an envelope can only be sent by the one who sealed it")
            if e.to == me or not relay.is_on(m.call_id, e.to):
                raise _refuse("not_in_call", f"{e.to[:32]} is not in this call", m.ref)
            if not relay.key_sent(m.call_id, me, e.to, e.kid):
                raise _refuse(
                    "stale_key", "a newer key was already sent to this participant", m.ref
                )
            await relay.deliver(e.to, rm.E2eeKeyDelivery(call_id=m.call_id, envelope=e))
        case rm.E2eeUnsupported():
            _require_on(relay, m.call_id, me)
            notice = rm.E2eeUnsupportedNotice(call_id=m.call_id, participant=me)
            for seat in relay.seats(m.call_id):
                if seat.participant != me:
                    await relay.deliver(seat.participant, notice)
        case rm.E2eeClear():
            _require_on(relay, m.call_id, me)
            if await conn.require_party(m.call_id) != "clinician":
                raise Forbidden(
                    "only the clinician decides whether the call goes on without "
                    "end-to-end encryption"
                )
            proofs = {e.to: e for e in m.proofs}
            if len(proofs) != len(m.proofs):
                raise _refuse("bad_field", "one proof per participant", m.ref)
            for e in m.proofs:
                if e.v != ENVELOPE_VERSION or e.call != str(m.call_id) or e.from_ != me:
                    raise _refuse("bad_field", "a proof is this call's, sealed by you", m.ref)
                if not relay.is_on(m.call_id, e.to) or e.to == me:
                    raise _refuse("not_in_call", f"{e.to[:32]} is not in this call", m.ref)
            for seat in relay.seats(m.call_id):
                state = rm.E2eeClearState(
                    call_id=m.call_id, clear=m.clear, proof=proofs.get(seat.participant)
                )
                await relay.deliver(seat.participant, state)


def disconnected(conn: Connection) -> None:
    """The connection went away: off every relay it was on (the others renegotiate and,
    seeing the roster change, rotate their keys)."""
    conn.relay.gone(address_of(conn.actor), list(conn.relay_calls), owner=conn.serial)
    conn.relay_calls.clear()


def _require_on(relay: RelayCalls, call_id: int, me: str) -> None:
    if not relay.is_on(call_id, me):
        raise Forbidden(f"join call {call_id}'s relay first")


def _announced(conn: Connection, public_key: str) -> str:
    """The key the roster will carry: the one announced, except on a test server for a
    participant marked to have it swapped."""
    if conn.test_hooks and KEY_SWAP_MARK in conn.actor.name:
        return _key_nobody_holds()
    return public_key


def _key_nobody_holds() -> str:
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _is_public_key(text: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) == P256_POINT and raw[0] == 0x04
