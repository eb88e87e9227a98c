"""The relay and end-to-end key messages of one connection (signalling/relay_messages.py).

Who may do what:
- ``relay.join``: a party of the live call (its tablet or its clinician);
- ``relay.answer``, ``relay.leave``, ``e2ee.identity``: only someone on that call's
  relay, about themselves;
- ``e2ee.key``: only someone on the relay, sealed by themselves (``from``) to someone
  else on the same call's relay (``to``), for this call, with a key id above the last
  one they sent that person: an envelope replayed or reordered by anyone is refused.
  The server never opens an envelope (it cannot: it has no private key).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Protocol

from hub.errors import Forbidden
from hub.people.access import Actor
from signalling import protocol as p
from signalling import relay_messages as rm
from signalling.relay_calls import RelayCalls, Seat
from signalling.switchboard import address_of

ENVELOPE_VERSION = 1
P256_POINT = 65  # uncompressed: 0x04 || X || Y


class Connection(Protocol):
    actor: Actor
    relay_calls: set[int]  # the calls this connection joined the relay of

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
            seat = Seat(me, conn.actor.name, role)
            offer = await relay.join(m.call_id, seat)
            conn.relay_calls.add(m.call_id)
            conn.send(replace(offer, ref=m.ref))
        case rm.RelayAnswer():
            _require_on(relay, m.call_id, me)
            await relay.answer(m.call_id, me, m.sdp)
        case rm.RelayLeave():
            # In the background: closing a peer connection can take a while, and this
            # socket's next message (call.end, say) must not wait for it.
            conn.relay_calls.discard(m.call_id)
            relay.gone(me, [m.call_id])
        case rm.E2eeIdentity():
            _require_on(relay, m.call_id, me)
            if not _is_public_key(m.public_key):
                raise _refuse(
                    "bad_field", "public_key must be a raw P-256 public key, base64url", m.ref
                )
            await relay.announce(m.call_id, me, m.public_key)
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


def disconnected(conn: Connection) -> None:
    """The connection went away: off every relay it was on (the others renegotiate and,
    seeing the roster change, rotate their keys)."""
    conn.relay.gone(address_of(conn.actor), list(conn.relay_calls))
    conn.relay_calls.clear()


def _require_on(relay: RelayCalls, call_id: int, me: str) -> None:
    if not relay.is_on(call_id, me):
        raise Forbidden(f"join call {call_id}'s relay first")


def _is_public_key(text: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) == P256_POINT and raw[0] == 0x04
