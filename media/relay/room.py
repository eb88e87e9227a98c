"""One consultation on the relay: its participants, what each publishes, who sees what.

Every participant has one peer connection with the relay. The relay always makes the
offer (so there is never glare): on joining, two receive-only transceivers for what
the participant publishes (audio, video) and one send-only transceiver per track of
everyone already there; when someone else joins or leaves, a new offer adds or stops
the transceivers for that person's tracks. One negotiation per participant at a time:
a change that comes while an offer is out waits for its answer, then goes out as the
next offer.

Media is only ever forwarded between participants of the same room: a room's
subscriptions are made from its own publications, and nothing else.

Only VP8 and Opus are offered: H.264 repacketisation scans for start codes, which can
occur inside encrypted payloads (docs/media.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from hub.clock import Clock
from media.relay import guard, passthrough, sending
from media.relay.fanout import ForwardedTrack, Publication, RelayCounters
from media.relay.frames import KeyframeThrottle

__all__ = ["Offer", "Participant", "Room", "Slot"]

log = logging.getLogger(__name__)
KINDS = ("audio", "video")
CLOSE_WAIT_S = 3.0
# A participant whose every track has sent nothing for this long has lost its media
# connection: browsers send audio all the time (silence too) and video at least a few
# frames a second. Told at once, rather than when aioice's consent checks give up
# (six missed, about 30 s): the browser then joins again (docs/media.md, "Seats").
SILENCE_S = 6.0
CODECS = {"audio": "audio/opus", "video": "video/VP8"}


@dataclass(frozen=True)
class Slot:
    """What one of a participant's incoming transceivers carries: whose audio or video."""

    mid: str
    publisher: str
    kind: str


@dataclass(frozen=True)
class Offer:
    """An SDP offer for one participant, with the map from its transceivers to people."""

    call_id: int
    participant: str
    sdp: str
    slots: tuple[Slot, ...]


# Called with each offer the relay makes after a join or leave elsewhere in the room;
# the signalling layer sends it to that participant's browser.
OfferSink = Callable[[Offer], Awaitable[None]]


@dataclass
class Participant:
    id: str
    pc: RTCPeerConnection
    publications: dict[str, Publication] = field(default_factory=dict)
    # (publisher id, kind) → the transceiver sending that track to this participant
    incoming: dict[tuple[str, str], RTCRtpTransceiver] = field(default_factory=dict)
    offer_out: bool = False
    again: bool = False  # a change came while an offer was out
    lost: bool = False  # its connection died; the signalling layer was told


class Room:
    def __init__(
        self,
        call_id: int,
        clock: Clock,
        counters: RelayCounters,
        send_offer: OfferSink,
        keyframe_interval_s: float = 1.0,
        on_lost: Callable[[str], None] = lambda participant_id: None,
        silence_s: float = SILENCE_S,
    ) -> None:
        self.call_id = call_id
        self._silence_s = silence_s
        self._watch: asyncio.Task[None] | None = None
        # Called when a participant's connection died without a leave (their browser
        # closed it, or ICE consent failed): the signalling layer takes them off.
        self._on_lost = on_lost
        self._clock = clock
        self._counters = counters
        self._send_offer = send_offer
        self._keyframe_interval_s = keyframe_interval_s
        self._people: dict[str, Participant] = {}
        self._lock = asyncio.Lock()
        self._lingering: set[asyncio.Future[None]] = set()  # closes that outlived the wait

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(self._people)

    def participant(self, participant_id: str) -> Participant | None:
        return self._people.get(participant_id)

    async def join(self, participant_id: str) -> Offer:
        """Make the peer connection for a new participant and the relay's offer to it."""
        async with self._lock:
            if participant_id in self._people:
                raise ValueError(f"{participant_id} is already in call {self.call_id}")
            pc = RTCPeerConnection(
                RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
            )
            person = Participant(participant_id, pc)
            self._people[participant_id] = person
            if self._watch is None:
                self._watch = asyncio.create_task(self._watch_media(), name="relay-silence")
            pc.on("track", lambda track: self._published(person, track))
            pc.on("connectionstatechange", lambda: self._state_changed(person))
            for kind in KINDS:
                _prefer(pc.addTransceiver(kind, direction="recvonly"), kind)
            for other in self._people.values():
                if other is not person:
                    self._subscribe(person, other)
            person.offer_out = True
            return await self._offer(person)

    async def answer(self, participant_id: str, sdp: str) -> None:
        """A participant's answer to the relay's latest offer."""
        async with self._lock:
            person = self._require(participant_id)
            if not person.offer_out:
                raise ValueError("no offer is waiting for an answer")
            await person.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            person.offer_out = False
            # The newcomer's tracks arrived with its answer: everyone else subscribes.
            changed = [
                other
                for other in self._people.values()
                if other is not person and self._subscribe(other, person)
            ]
            if person.again:
                person.again = False
                changed.append(person)
        for other in changed:
            await self._renegotiate(other)

    async def leave(self, participant_id: str) -> None:
        """Close a participant's connection and stop forwarding its media to the rest."""
        async with self._lock:
            person = self._people.pop(participant_id, None)
            if person is None:
                return
            if not self._people and self._watch is not None:
                self._watch.cancel()  # the room is empty: nobody left to watch
                self._watch = None
            for publication in person.publications.values():
                await publication.close()
            await self._bounded(person.pc.close(), f"closing {participant_id}'s connection")
            changed = []
            for other in self._people.values():
                stopped = [other.incoming.pop((participant_id, k), None) for k in KINDS]
                if any(t is not None for t in stopped):
                    for transceiver in stopped:
                        if transceiver is not None:
                            await self._bounded(transceiver.stop(), "stopping a transceiver")
                    changed.append(other)
        for other in changed:
            await self._renegotiate(other)

    async def close(self) -> None:
        """End the relayed call for everyone (no renegotiation: all connections close)."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None
        async with self._lock:
            people, self._people = list(self._people.values()), {}
            for person in people:
                for publication in person.publications.values():
                    await publication.close()
                await self._bounded(person.pc.close(), f"closing {person.id}'s connection")

    def slots(self, participant_id: str) -> tuple[Slot, ...]:
        person = self._require(participant_id)
        return tuple(
            Slot(t.mid or "", publisher, kind)
            for (publisher, kind), t in person.incoming.items()
            if t.mid is not None
        )

    # -- inside ---------------------------------------------------------------------

    def _published(self, person: Participant, track: MediaStreamTrack) -> None:
        receiver = _receiver_of(person.pc, track)
        throttle = KeyframeThrottle(self._clock, self._keyframe_interval_s)
        publication = Publication(
            track,
            lambda: passthrough.request_keyframe(receiver),
            throttle,
            self._counters,
            on_end=lambda: self._lost(person),
            heard=self._clock.monotonic,
        )
        passthrough.install(receiver, publication.forward, publication.route)
        person.publications[track.kind] = publication

    def _state_changed(self, person: Participant) -> None:
        if person.pc.connectionState == "failed":
            self._lost(person)

    async def _watch_media(self) -> None:
        """Every second: a participant whose media was flowing and has stopped on every
        track it sent for ``silence_s`` is lost (``_lost``). Ends with the room."""
        while True:
            await asyncio.sleep(min(1.0, self._silence_s / 2))
            now = self._clock.monotonic()
            for person in list(self._people.values()):
                # Tracks never heard (a camera left off) do not count either way.
                heard = [h for p in person.publications.values() if (h := p.last_heard) is not None]
                if heard and all(now - h > self._silence_s for h in heard):
                    self._lost(person)

    def _lost(self, person: Participant) -> None:
        if self._people.get(person.id) is person and not person.lost:
            person.lost = True
            self._on_lost(person.id)

    def _subscribe(self, viewer: Participant, publisher: Participant) -> bool:
        """Add to ``viewer``'s connection a transceiver for each of ``publisher``'s
        tracks it does not have yet. True if anything was added."""
        added = False
        for kind, publication in publisher.publications.items():
            if (publisher.id, kind) in viewer.incoming:
                continue
            track = publication.subscribe()
            transceiver = viewer.pc.addTransceiver(track, direction="sendonly")
            _prefer(transceiver, kind)
            _relay_keyframe_requests(transceiver.sender, track)
            # Once it can send, it waits for a key frame: ask for one (throttled).
            track.outlet = sending.install_sender(
                transceiver.sender, track.core, publication.want_keyframe
            )
            viewer.incoming[(publisher.id, kind)] = transceiver
            added = True
        return added

    async def _renegotiate(self, person: Participant) -> None:
        async with self._lock:
            if self._people.get(person.id) is not person:
                return  # left meanwhile
            if person.offer_out:
                person.again = True
                return
            person.offer_out = True
            offer = await self._offer(person)
        await self._send_offer(offer)

    async def _offer(self, person: Participant) -> Offer:
        await person.pc.setLocalDescription(await person.pc.createOffer())
        guard.install(person.pc, self._counters)
        local = person.pc.localDescription
        return Offer(self.call_id, person.id, local.sdp, self.slots(person.id))

    async def _bounded(self, closing: Coroutine[Any, Any, None], what: str) -> None:
        """Wait a few seconds at most for aiortc to close something, holding the room's
        lock: a connection whose far end vanished can take long to shut down, and the
        others must not wait for it. The closing goes on in the background (shielded: a
        cancelled aiortc close cannot be finished later)."""
        task = asyncio.ensure_future(closing)
        try:
            await asyncio.wait_for(asyncio.shield(task), CLOSE_WAIT_S)
        except TimeoutError:
            log.warning("relay: %s is taking more than %.0f s; going on", what, CLOSE_WAIT_S)
            self._lingering.add(task)
            task.add_done_callback(self._lingering.discard)

    def _require(self, participant_id: str) -> Participant:
        person = self._people.get(participant_id)
        if person is None:
            raise KeyError(f"{participant_id} is not in call {self.call_id}")
        return person


def _prefer(transceiver: RTCRtpTransceiver, kind: str) -> None:
    capabilities = RTCRtpSender.getCapabilities(kind)
    wanted = [c for c in capabilities.codecs if c.mimeType in (CODECS[kind], "video/rtx")]
    transceiver.setCodecPreferences(wanted)


def _receiver_of(pc: RTCPeerConnection, track: MediaStreamTrack) -> RTCRtpReceiver:
    for transceiver in pc.getTransceivers():
        if transceiver.receiver.track is track:
            return transceiver.receiver
    raise LookupError("a track without its receiver")


def _relay_keyframe_requests(sender: RTCRtpSender, track: ForwardedTrack) -> None:
    """A subscriber's picture-loss request reaches aiortc's sender, which would only set
    a flag for its encoder — unused on the encoded path. Pass it to the publisher
    instead (throttled there)."""
    sender._send_keyframe = track.publication.want_keyframe  # type: ignore[method-assign]
