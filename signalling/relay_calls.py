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
import itertools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, replace
from typing import Any

from hub.clock import Clock
from media.relay.remote import RemoteUnit
from media.relay.room import Offer
from media.relay.unit import ForwardingUnit, RelayUnit
from signalling import relay_messages as rm

__all__ = ["RelayCalls", "Seat"]

log = logging.getLogger(__name__)

Deliver = Callable[[str, rm.RelayServerMessage], Awaitable[None]]


@dataclass(frozen=True)
class Seat:
    """One participant of a relayed call."""

    participant: str
    name: str
    role: rm.ParticipantRole
    public_key: str | None = None
    # Which socket sat down (a number per connection): when a browser's socket drops
    # and it joins again on a new one, the old socket's late goodbye must not take the
    # new seat away.
    owner: int = 0
    # This seat's number, new at every join: offers and relay.lost name it, so that a
    # browser that joined again can tell what still comes for its earlier seat.
    number: int = 0


#: Makes the relay unit, given where its offers go and whom to tell of a lost connection.
MakeUnit = Callable[[Callable[[Offer], Awaitable[None]], Callable[[int, str], None]], RelayUnit]


def embedded(clock: Clock) -> MakeUnit:
    """The relay in this process."""
    return lambda send_offer, on_lost: ForwardingUnit(clock, send_offer, on_lost=on_lost)


class RelayCalls:
    def __init__(self, deliver: Deliver, make_unit: MakeUnit) -> None:
        self._deliver = deliver
        self.unit = make_unit(self._send_offer, self._lost)
        self._seats: dict[int, dict[str, Seat]] = {}
        # Leaves of connections that went away: the socket's handler may be cancelled
        # while it closes, so the relay finishes them in tasks of its own.
        self._leaving: set[asyncio.Task[None]] = set()
        # The newest key id each participant sent each other one, per call.
        self._kids: dict[tuple[int, str, str], int] = {}
        self._numbers = itertools.count(1)  # seat numbers

    def seats(self, call_id: int) -> tuple[Seat, ...]:
        return tuple(self._seats.get(call_id, {}).values())

    def is_on(self, call_id: int, participant: str) -> bool:
        return participant in self._seats.get(call_id, {})

    async def join(self, call_id: int, seat: Seat) -> rm.RelayOffer:
        """Put a participant on the relay (joining again first leaves: a reload)."""
        if self.is_on(call_id, seat.participant):
            await self.leave(call_id, seat.participant)
        seat = replace(seat, number=next(self._numbers))
        offer = await self.unit.join(call_id, seat.participant)
        self._seats.setdefault(call_id, {})[seat.participant] = seat
        await self._roster_changed(call_id)
        return _offer_message(offer, seat.number)

    async def answer(
        self, call_id: int, participant: str, sdp: str, seat: int | None = None
    ) -> None:
        """``participant``'s answer to the relay's latest offer; refused (LookupError) if
        it answers an offer of a seat they no longer hold."""
        current = self._require(call_id, participant)
        if seat is not None and seat != current.number:
            raise LookupError(f"seat {seat} of {participant} in call {call_id} is gone")
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

    async def leave(
        self,
        call_id: int,
        participant: str,
        owner: int | None = None,
        number: int | None = None,
    ) -> None:
        """Take ``participant`` off the call's relay — only if their seat is still the
        one socket ``owner`` sat in, or the one numbered ``number``, when given: a newer
        seat of the same person stays."""
        seats = self._seats.get(call_id, {})
        seat = seats.get(participant)
        if seat is None or owner not in (None, seat.owner) or number not in (None, seat.number):
            return
        del seats[participant]
        self._forget_kids(lambda k: k[0] == call_id and participant in k[1:])
        await self.unit.leave(call_id, participant)
        if seats:
            await self._roster_changed(call_id)
        else:
            del self._seats[call_id]

    def gone(self, participant: str, call_ids: Iterable[int], owner: int | None = None) -> None:
        """``participant``'s connection went away: take them off these calls' relays
        (only seats that socket, ``owner``, sat in, if given)."""
        for call_id in call_ids:
            self._in_background(self.leave(call_id, participant, owner))

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

    def _lost(self, call_id: int, participant: str) -> None:
        """The relay lost a participant's media connection while their socket stayed:
        off the relay, and told, so that their browser joins again."""
        seat = self._seats.get(call_id, {}).get(participant)
        if seat is None:
            return
        log.info("relay: lost %s's media in call %d; they join again", participant, call_id)

        async def off_and_tell() -> None:
            if self._seats.get(call_id, {}).get(participant) is not seat:
                return  # they joined again meanwhile: the lost seat is already gone
            await self.leave(call_id, participant, number=seat.number)
            await self._deliver(participant, rm.RelayLost(call_id=call_id, seat=seat.number))

        self._in_background(off_and_tell())

    async def _send_offer(self, offer: Offer) -> None:
        seat = self._seats.get(offer.call_id, {}).get(offer.participant)
        if seat is not None:  # (else they left meanwhile)
            await self._deliver(offer.participant, _offer_message(offer, seat.number))

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


def _offer_message(offer: Offer, seat: int) -> rm.RelayOffer:
    return rm.RelayOffer(
        call_id=offer.call_id,
        seat=seat,
        sdp=offer.sdp,
        slots=tuple(
            rm.RelaySlot(
                mid=s.mid, participant=s.publisher, kind="audio" if s.kind == "audio" else "video"
            )
            for s in offer.slots
        ),
    )
