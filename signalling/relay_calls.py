"""Relayed calls as signalling sees them: who is on the relay, their public keys, and
getting the relay's offers to them.

The forwarding unit (media/relay) knows peer connections, not people; this keeps, per
relayed call, each participant's name, role and announced public key (the roster
everyone's verification code is computed from), and sends what the relay says to the
participant's address on the switchboard. Participant ids are switchboard addresses
(``device:7``, ``staff:3``, ``guest:12``), so an offer goes where that person is
connected.

The relay itself runs in this process (``media.relay = "embedded"``, a
``ForwardingUnit``) or in separate ``telehub media`` processes reached over the bus
(``"processes"``, a ``RemoteUnit``: signalling/media_link.py). Either way the seats and
keys of a relayed call live in the hub process its parties' sockets reach (one process,
or the one node a deployment sends media signalling to).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, replace
from typing import Any

from hub.clock import Clock
from media.relay.remote import RemoteUnit
from media.relay.room import Offer
from media.relay.unit import ForwardingUnit, RelayUnit
from signalling import relay_messages as rm

__all__ = ["RelayCalls", "Seat"]

Deliver = Callable[[str, rm.RelayServerMessage], Awaitable[None]]


@dataclass(frozen=True)
class Seat:
    """One participant of a relayed call."""

    participant: str
    name: str
    role: rm.ParticipantRole
    public_key: str | None = None


#: Makes the relay unit, given where its offers go and whom to tell of a lost connection.
MakeUnit = Callable[[Callable[[Offer], Awaitable[None]], Callable[[int, str], None]], RelayUnit]


def embedded(clock: Clock) -> MakeUnit:
    """The relay in this process."""
    return lambda send_offer, on_lost: ForwardingUnit(clock, send_offer, on_lost=on_lost)


class RelayCalls:
    def __init__(self, deliver: Deliver, make_unit: MakeUnit) -> None:
        self._deliver = deliver
        self.unit = make_unit(self._send_offer, lambda call_id, who: self.gone(who, [call_id]))
        self._seats: dict[int, dict[str, Seat]] = {}
        # Leaves of connections that went away: the socket's handler may be cancelled
        # while it closes, so the relay finishes them in tasks of its own.
        self._leaving: set[asyncio.Task[None]] = set()
        # The newest key id each participant sent each other one, per call.
        self._kids: dict[tuple[int, str, str], int] = {}

    def seats(self, call_id: int) -> tuple[Seat, ...]:
        return tuple(self._seats.get(call_id, {}).values())

    def is_on(self, call_id: int, participant: str) -> bool:
        return participant in self._seats.get(call_id, {})

    async def join(self, call_id: int, seat: Seat) -> rm.RelayOffer:
        """Put a participant on the relay (joining again first leaves: a reload)."""
        if self.is_on(call_id, seat.participant):
            await self.leave(call_id, seat.participant)
        offer = await self.unit.join(call_id, seat.participant)
        self._seats.setdefault(call_id, {})[seat.participant] = seat
        await self._roster_changed(call_id)
        return _offer_message(offer)

    async def answer(self, call_id: int, participant: str, sdp: str) -> None:
        self._require(call_id, participant)
        await self.unit.answer(call_id, participant, sdp)

    async def announce(self, call_id: int, participant: str, public_key: str) -> None:
        seat = self._require(call_id, participant)
        self._seats[call_id][participant] = replace(seat, public_key=public_key)
        await self._roster_changed(call_id)

    def key_sent(self, call_id: int, sender: str, recipient: str, kid: int) -> bool:
        """Note a key envelope passing; False (refuse it) unless its key id is above
        the last one ``sender`` sent ``recipient`` in this call."""
        last = self._kids.get((call_id, sender, recipient))
        if last is not None and kid <= last:
            return False
        self._kids[(call_id, sender, recipient)] = kid
        return True

    def heard(self, kind: str, body: dict[str, Any]) -> None:
        """A ``media.*`` envelope from the bus: for the media processes' client, if any."""
        if isinstance(self.unit, RemoteUnit):
            self.unit.heard(kind, body)

    def check_media(self) -> None:
        """Calls whose media process stopped announcing lose their relay (the sweep)."""
        if isinstance(self.unit, RemoteUnit):
            self.unit.check_alive()

    async def deliver(self, to: str, message: rm.RelayServerMessage) -> None:
        await self._deliver(to, message)

    async def leave(self, call_id: int, participant: str) -> None:
        seats = self._seats.get(call_id, {})
        if seats.pop(participant, None) is None:
            return
        self._forget_kids(lambda k: k[0] == call_id and participant in k[1:])
        await self.unit.leave(call_id, participant)
        if seats:
            await self._roster_changed(call_id)
        else:
            del self._seats[call_id]

    def gone(self, participant: str, call_ids: Iterable[int]) -> None:
        """``participant``'s connection went away: take them off these calls' relays."""
        for call_id in call_ids:
            self._in_background(self.leave(call_id, participant))

    def end_soon(self, call_id: int) -> None:
        """End a call's relay in the background (closing connections takes a while)."""
        self._in_background(self.end(call_id))

    async def end(self, call_id: int) -> None:
        self._seats.pop(call_id, None)
        self._forget_kids(lambda k: k[0] == call_id)
        await self.unit.end(call_id)

    async def close(self) -> None:
        if self._leaving:
            await asyncio.gather(*self._leaving, return_exceptions=True)
        self._seats.clear()
        self._kids.clear()
        await self.unit.close()

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._leaving.add(task)
        task.add_done_callback(self._leaving.discard)

    def _forget_kids(self, which: Callable[[tuple[int, str, str]], bool]) -> None:
        for key in [k for k in self._kids if which(k)]:
            del self._kids[key]

    def _require(self, call_id: int, participant: str) -> Seat:
        seat = self._seats.get(call_id, {}).get(participant)
        if seat is None:
            raise LookupError(f"{participant} is not on the relay for call {call_id}")
        return seat

    async def _send_offer(self, offer: Offer) -> None:
        await self._deliver(offer.participant, _offer_message(offer))

    async def _roster_changed(self, call_id: int) -> None:
        """Everyone on the relay hears who is there and their keys: a browser rotates
        its media key when the roster changes, and shows the verification code."""
        seats = self.seats(call_id)
        roster = rm.E2eeRoster(
            call_id=call_id,
            participants=tuple(
                rm.Participant(
                    participant=s.participant, name=s.name, role=s.role, public_key=s.public_key
                )
                for s in seats
            ),
        )
        for seat in seats:
            await self._deliver(seat.participant, roster)


def _offer_message(offer: Offer) -> rm.RelayOffer:
    return rm.RelayOffer(
        call_id=offer.call_id,
        sdp=offer.sdp,
        slots=tuple(
            rm.RelaySlot(
                mid=s.mid, participant=s.publisher, kind="audio" if s.kind == "audio" else "video"
            )
            for s in offer.slots
        ),
    )
