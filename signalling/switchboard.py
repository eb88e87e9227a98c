"""Who is connected to this process, and getting messages to them.

The switchboard keeps the local WebSocket connections by address (``staff:<id>``,
``device:<id>``), consumes the bus, and turns hub events into what each participant
should see: clinicians get a fresh queue snapshot, the tablet of a call gets its state
and place in the queue, the clinicians on either side of a change get the call state.
Addressed messages (SDP, ICE) go through the bus too, so a tablet on one process can
talk to a clinician on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Protocol

from hub.calls import guest_services, live
from hub.calls.consultation import Consultation, State
from hub.calls.guests import Guest, GuestState
from hub.calls.lifecycle import LIVE, TERMINAL
from hub.calls.queue import QueueEntry, estimated_wait_s, places
from hub.context import HubContext
from hub.errors import TooManyConnections
from hub.events import AccessEnded, CallChanged, GuestsChanged, HubEvent
from hub.people.access import SYSTEM, Actor
from hub.settings import SignallingSettings
from signalling import media_link
from signalling import protocol as p
from signalling import relay_messages as rm
from signalling.batching import CallEventBatcher, Changed
from signalling.bus import RESYNC, Bus, Envelope
from signalling.metering import Meter, NoMeter
from signalling.presence import KIND as PRESENCE
from signalling.presence import Presence, scope_of
from signalling.relay_calls import RelayCalls, embedded

log = logging.getLogger(__name__)
CLINICIANS = "clinicians"
DEFAULT_HANDLE_S = 600.0
CLOSE_SESSION_ENDED = 4401  # logout, expiry, revocation: the client must not reconnect
REVALIDATE_EVERY_S = 60.0
# Open calls whose parties one switchboard keeps (far above any hub's open calls).
MAX_REMEMBERED = 10_000


class Outbox(Protocol):
    """One connected client, as the switchboard sees it."""

    actor: Actor
    queue_subscribed: bool
    session: str | None  # the digest of the staff session token (None for a tablet)

    def send_text(self, text: str) -> None: ...

    def send_snapshot(self, text: str) -> None:
        """A ``queue.snapshot``: each replaces the last, so one not yet written is
        replaced by the newer one rather than queued behind it."""
        ...

    async def close(self, code: int, message: bytes) -> None: ...

    async def still_allowed(self) -> bool: ...


def address_of(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"


NOTES_PREFIX = "notes:"


def notes_address(call_id: int) -> str:
    """Where a call's new note entries go: every console that has its notes open."""
    return f"{NOTES_PREFIX}{call_id}"


@dataclass(frozen=True)
class Parties:
    device_id: int | None
    answered_by: int | None
    state: State


class BusPublisher:
    """The hub's EventPublisher port, published onto the bus."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def publish(self, event: HubEvent) -> None:
        if isinstance(event, AccessEnded):
            kind = "access_ended"
        elif isinstance(event, GuestsChanged):
            kind = "guests"
        else:
            kind = "event"
        await self._bus.publish(Envelope(kind, asdict(event)))


class Switchboard:
    def __init__(
        self,
        ctx: HubContext,
        bus: Bus,
        settings: SignallingSettings,
        meter: Meter | None = None,
    ) -> None:
        self.ctx = ctx
        self.bus = bus
        self.settings = settings
        self.meter: Meter = meter or NoMeter()  # what operators' metrics count
        self._local: dict[str, set[Outbox]] = defaultdict(set)
        self._tasks: list[asyncio.Task[None]] = []
        # Who takes part in each open call, kept fresh by the call events every process
        # sees, so relaying SDP and ICE does not cost a database read per message. A
        # call that ends is forgotten (``_remember``): a hub that runs for months holds
        # its open calls here, not every call it ever had.
        self._parties: dict[int, Parties] = {}
        # Connections that have a call's notes open (``notes.open``), by call id: they
        # get what is delivered to ``notes_address(call_id)``, and nobody else does.
        self._notes: dict[int, set[Outbox]] = {}
        # Live sockets per tablet/staff address and per client address, counted from
        # before the upgrade (``admit``), so that a burst of connects cannot overshoot.
        self._open: Counter[str] = Counter()
        # Tablets and logins whose socket was closed for flooding: monotonic time until
        # which their new sockets are refused (cool_down).
        self._cooling: dict[str, float] = {}
        # A number for each socket this process accepts (relay seats say whose they are).
        self._serials = itertools.count(1)
        # WebSocket messages' database work at once: the rest of the pool is for pages.
        self.db_work = asyncio.Semaphore(max(1, settings.max_db_work))
        # Staff with a console socket on this process or another (signalling/presence.py).
        self.presence = Presence(
            bus, ctx.clock, scope_of(ctx.settings.database.url), self._staff_here
        )
        # Calls of three or more: the media relay, in this process or in media processes over
        # the bus (media.relay; signalling/relay_calls.py, signalling/media_link.py),
        # and where each call's media goes now (guests let in: "relay").
        media = ctx.settings.media
        self.relay = RelayCalls(
            self.deliver,
            media_link.remote(bus, ctx.clock, scope_of(ctx.settings.database.url), media)
            if media.relay == "processes"
            else embedded(ctx.clock),
        )
        self._routes: dict[int, rm.MediaRoute] = {}
        # Call events told in bursts when they come faster than they can be told
        # (batching.py); and what each waiting tablet was last told of its place.
        self.bursts = CallEventBatcher(self._tell)
        self._places_told: dict[int, p.CallState] = {}

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._consume(ready), name="switchboard-bus"),
            asyncio.create_task(self._sweep(), name="switchboard-sweeper"),
            asyncio.create_task(self.presence.run(), name="switchboard-presence"),
        ]
        await ready.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.bursts.stop()
        await self.relay.close()

    # -- connections -----------------------------------------------------------------

    @contextlib.contextmanager
    def admit(self, actor: Actor, remote: str) -> Iterator[None]:
        """Hold one of the caps' places for a socket's lifetime; refuse one too many
        (``TooManyConnections``, HTTP 429 before the upgrade)."""
        s = self.settings
        own = address_of(actor)
        if actor.is_device:
            cap, whose = s.max_sockets_per_device, "this tablet already has"
        else:
            cap, whose = s.max_sockets_per_user, "you already have"
        if self._open[own] >= cap:
            raise TooManyConnections(f"{whose} {cap} live connections: close one first")
        if (wait := self._cooling.get(own, 0.0) - self.ctx.clock.monotonic()) > 0:
            raise TooManyConnections(
                f"a connection was closed for sending too many messages: "
                f"try again in {math.ceil(wait)} s"
            )
        peer = f"ip:{remote}"
        if s.max_sockets_per_address and self._open[peer] >= s.max_sockets_per_address:
            raise TooManyConnections(
                f"too many live connections from this address "
                f"({s.max_sockets_per_address}): close some first"
            )
        self._open[own] += 1
        self._open[peer] += 1
        try:
            yield
        finally:
            self._open -= Counter({own: 1, peer: 1})

    def cool_down(self, actor: Actor) -> None:
        """``actor``'s socket was closed for flooding: refuse their new sockets for a
        while, so that reconnecting at once to flood again costs this process an upgrade
        refused, not a session set up and its flood read."""
        now = self.ctx.clock.monotonic()
        for address in [a for a, until in self._cooling.items() if until <= now]:
            del self._cooling[address]
        self._cooling[address_of(actor)] = now + self.settings.flood_cool_down_s

    def connections(self) -> Counter[str]:
        """Live sockets on this process by kind of address: ``staff``, ``device``, ``guest``."""
        kinds: Counter[str] = Counter()
        for address, conns in self._local.items():
            kinds[address.split(":", 1)[0]] += len(conns)
        return kinds

    def next_serial(self) -> int:
        return next(self._serials)

    def register(self, conn: Outbox) -> None:
        self._local[address_of(conn.actor)].add(conn)
        self.presence.changed()

    def watch_notes(self, conn: Outbox, call_id: int | None) -> None:
        """``conn`` has this call's notes open from now on (one call at a time; None:
        none), so it gets every new entry of that call."""
        for watched, conns in list(self._notes.items()):
            conns.discard(conn)
            if not conns:
                del self._notes[watched]
        if call_id is not None:
            self._notes.setdefault(call_id, set()).add(conn)

    def unregister(self, conn: Outbox) -> None:
        self.watch_notes(conn, None)
        address = address_of(conn.actor)
        self._local[address].discard(conn)
        if not self._local[address]:
            del self._local[address]
        self.presence.changed()

    async def close_all(self) -> None:
        conns = [c for group in self._local.values() for c in group]
        await asyncio.gather(
            *(c.close(1001, b"server going away") for c in conns), return_exceptions=True
        )

    def connected_clinicians(self) -> int:
        return sum(1 for a in self._local if a.startswith("staff:"))

    def _staff_here(self) -> list[int]:
        return [int(a.removeprefix("staff:")) for a in self._local if a.startswith("staff:")]

    def online_staff(self) -> frozenset[int]:
        """Staff ids with a live console socket on any process (presence)."""
        return self.presence.online()

    # -- sending ---------------------------------------------------------------------

    async def deliver(self, to: str, message: p.ServerMessage) -> None:
        """Send to an address wherever it is connected: directly when the bus is this
        process alone (the hot path of SDP and ICE relaying), else through the bus."""
        text = p.dump(message)
        if self.bus.local_only:
            self._send_local(to, text)
        else:
            await self.bus.publish(Envelope("deliver", {"text": text}, to))

    def _send_local(self, to: str, text: str) -> None:
        if to.startswith(NOTES_PREFIX):
            targets = self._notes.get(int(to.removeprefix(NOTES_PREFIX)), set())
        else:
            targets = self._local.get(to, set())
        for conn in list(targets):
            conn.send_text(text)

    async def _consume(self, ready: asyncio.Event) -> None:
        # start() returns once the subscription is live (on Redis, once its SUBSCRIBE is
        # answered, a round trip later), so that nothing published after it is missed:
        # not another process's answer to this one's presence "ask", nor a call event.
        stream: AsyncIterator[Envelope] = self.bus.subscribe(subscribed=ready)
        envelope = await anext(stream)
        while True:
            try:
                await self._handle(envelope)
            except Exception:
                log.exception("switchboard could not handle %s", envelope)
            envelope = await anext(stream)

    async def _handle(self, envelope: Envelope) -> None:
        if envelope.kind == "deliver":
            self._send_local(envelope.to, envelope.body["text"])
        elif envelope.kind == "event":
            await self.on_call_changed(CallChanged(**envelope.body))
        elif envelope.kind == "access_ended":
            await self.end_access(AccessEnded(**envelope.body))
        elif envelope.kind == "guests":
            await self.on_guests_changed(GuestsChanged(**envelope.body))
        elif envelope.kind == PRESENCE:
            await self.presence.heard(envelope.body)
        elif envelope.kind.startswith("media."):
            self.relay.heard(envelope.kind, envelope.body)
        elif envelope.kind == RESYNC:
            await self.resync()

    async def end_access(self, ended: AccessEnded) -> None:
        """Close at once every local socket of a session, staff member or tablet that
        lost its access (every process gets the same envelope and closes its own)."""
        doomed = [c for group in self._local.values() for c in group if _ended(c, ended)]
        await asyncio.gather(
            *(c.close(CLOSE_SESSION_ENDED, b"session ended") for c in doomed),
            return_exceptions=True,
        )

    async def revalidate_all(self) -> int:
        """Close the sockets whose session expired or whose tablet or login is no longer
        allowed (the periodic check behind the bus events). Returns how many closed."""
        conns = [c for group in self._local.values() for c in group]
        closed = 0
        for conn in conns:
            async with self.db_work:
                allowed = await conn.still_allowed()
            if not allowed:
                await conn.close(CLOSE_SESSION_ENDED, b"session ended")
                closed += 1
        return closed

    async def resync(self) -> None:
        """The bus was away and is back: events from other processes were missed. Send
        every console here the queue as it is now, every waiting tablet its place, and
        refresh who is in which call."""
        self._places_told = {}
        news = await live.news(self.ctx, ())
        self._fan_out(news, {})
        for e in news.queue:
            self._remember(e.call_id, Parties(e.device_id, e.answered_by, e.state))
        self.presence.changed()

    # -- turning events into views ---------------------------------------------------

    async def on_call_changed(self, event: CallChanged) -> None:
        """A call changed: told at once when the hub is quiet, else together with the
        other calls that change meanwhile (signalling/batching.py)."""
        await self.bursts.changed(event.call_id, event.previous_clinician)

    async def _tell(self, changed: Changed) -> None:
        # One read of what every listener needs (live.news: one unit of work), then
        # send without awaiting in between, so that what goes out is one reading. A
        # change committed meanwhile (a claim racing this burst) still makes a message
        # overtaken by another path (a hello's answer); each call.state carries the
        # call's state seq so that clients drop such ones.
        self._fan_out(await live.news(self.ctx, changed.keys()), changed)

    def _fan_out(self, news: live.QueueNews, changed: Changed) -> None:
        entries, handle_s = news.queue, news.mean_handle_s or DEFAULT_HANDLE_S
        snapshot = p.dump(queue_snapshot(entries, self.ctx))
        for conns in list(self._local.values()):
            for conn in list(conns):
                # Only hub-wide staff subscribe (session.py); a care-home account never
                # gets another home's residents, even if it somehow had subscribed.
                if conn.queue_subscribed and conn.actor.home_id is None:
                    conn.send_snapshot(snapshot)
        busy = sum(1 for e in entries if e.state in LIVE)
        free = max(0, self.connected_clinicians() - busy)
        where = places(entries)
        # Every waiting tablet's place may have moved: tell each one whose place (or
        # wait estimate) did, and remember what it was told.
        told: dict[int, p.CallState] = {}
        for e in entries:
            address = f"device:{e.device_id}"
            if e.state is State.WAITING and address in self._local:
                state = call_state(e.call_id, e.state, e.state_seq, where, free, handle_s)
                if self._places_told.get(e.call_id) != state:
                    self._send_local(address, p.dump(state))
                told[e.call_id] = state
        self._places_told = told
        for call in news.calls.values():
            self._remember(call.call_id, Parties(call.device_id, call.answered_by, call.state))
            text = p.dump(
                call_state(
                    call.call_id,
                    call.state,
                    call.state_seq,
                    where,
                    free,
                    handle_s,
                    call.clinician_name,
                )
            )
            if call.device_id is not None and call.state is not State.WAITING:
                self._send_local(f"device:{call.device_id}", text)
            for user_id in {call.answered_by, *changed[call.call_id]} - {None}:
                self._send_local(f"staff:{user_id}", text)
            if call.state not in LIVE and self.relay.seats(call.call_id):
                # The call ended: its relayed media too, after everyone has been told.
                self.relay.end_soon(call.call_id)

    async def on_guests_changed(self, event: GuestsChanged) -> None:
        """Tell the tablet, the clinician and the guests still there who the guests are;
        take guests who are gone off the relay and close their sockets; and when the
        first guest is let in (or the last one goes), tell everyone in the call that its
        media moves onto the relay (or back to peer to peer)."""
        call_id = event.call_id
        seen = await guest_services.participants(self.ctx, SYSTEM, call_id)
        parties = await self.parties(call_id, fresh=True)
        items = _guest_items(seen.guests)
        sides = [f"device:{parties.device_id}", f"staff:{parties.answered_by}"]
        text = p.dump(rm.CallGuests(call_id=call_id, guests=items))
        for address in [*sides, *(g.ref for g in seen.guests if g.present)]:
            self._send_local(address, text)
        for g in seen.guests:
            if not g.present:
                self.relay.gone(g.ref, [call_id])
                for conn in list(self._local.get(g.ref, ())):
                    await conn.close(CLOSE_SESSION_ENDED, b"no longer in the call")
        admitted = [g.ref for g in seen.guests if g.state is GuestState.IN_CALL]
        route: rm.MediaRoute = "relay" if admitted and parties.state in LIVE else "direct"
        if self._routes.get(call_id, "direct") != route:
            self._routes[call_id] = route
            moved = p.dump(rm.CallMediaRoute(call_id=call_id, route=route))
            for address in [*sides, *admitted]:
                self._send_local(address, moved)

    async def tell_guests(self, call_id: int, conn: Outbox) -> None:
        """Tell one (re)connected party of a live call who its guests are and, when one
        is in the call, that its media goes through the relay."""
        seen = await guest_services.participants(self.ctx, SYSTEM, call_id)
        if not seen.guests:
            return
        items = _guest_items(seen.guests)
        conn.send_text(p.dump(rm.CallGuests(call_id=call_id, guests=items)))
        if any(g.state is GuestState.IN_CALL for g in seen.guests):
            conn.send_text(p.dump(rm.CallMediaRoute(call_id=call_id, route="relay")))

    async def parties(self, call_id: int, *, fresh: bool = False) -> Parties:
        """The tablet, the answering clinician and the state of a call (cached).

        The cache may lag a change made on another process by a bus round trip, so a
        caller about to refuse something asks again with ``fresh=True``.
        """
        cached = None if fresh else self._parties.get(call_id)
        if cached is None:
            call = await live.participants(self.ctx, call_id)
            cached = Parties(call.device_id, call.answered_by, call.state)
            self._remember(call_id, cached)
        return cached

    def _remember(self, call_id: int, parties: Parties) -> None:
        """Keep an open call's parties; forget an ended one's (and its media route)."""
        if parties.state in TERMINAL:
            self._parties.pop(call_id, None)
            self._routes.pop(call_id, None)
            return
        if len(self._parties) >= MAX_REMEMBERED and call_id not in self._parties:
            # Only if end events were missed wholesale: start again from the database.
            self._parties.clear()
        self._parties[call_id] = parties

    @property
    def calls_remembered(self) -> int:
        """How many calls this switchboard holds parties or a media route for."""
        return len(self._parties.keys() | self._routes.keys())

    async def describe(self, call: Consultation, clinician_name: str | None) -> p.CallState:
        """A call's state with its place in the queue and a wait estimate, right now."""
        news = await live.news(self.ctx, ())
        entries = news.queue
        busy = sum(1 for e in entries if e.state in LIVE)
        free = max(0, self.connected_clinicians() - busy)
        handle_s = news.mean_handle_s or DEFAULT_HANDLE_S
        return call_state(
            call.id,
            call.state,
            call.state_seq,
            places(entries),
            free,
            handle_s,
            clinician_name,
        )

    async def _sweep(self) -> None:
        grace = timedelta(seconds=self.settings.abandon_after_s)
        interval = min(15.0, max(1.0, self.settings.abandon_after_s / 4))
        loop = asyncio.get_running_loop()
        checked = loop.time()
        while True:
            await asyncio.sleep(interval)
            try:
                await live.abandon_stale(self.ctx, grace)
            except Exception:
                log.exception("abandon sweep failed")
            self.relay.check_media()
            if loop.time() - checked >= REVALIDATE_EVERY_S:
                checked = loop.time()
                try:
                    await self.revalidate_all()
                except Exception:
                    log.exception("socket revalidation failed")


def _ended(conn: Outbox, ended: AccessEnded) -> bool:
    actor = conn.actor
    if ended.kind == "session":
        return conn.session is not None and conn.session == ended.key
    if ended.kind == "user":
        return actor.kind == "staff" and str(actor.id) == ended.key
    if ended.kind == "device":
        return actor.is_device and str(actor.id) == ended.key
    return False


def queue_snapshot(entries: list[QueueEntry], ctx: HubContext) -> p.QueueSnapshot:
    now = ctx.clock.now()
    return p.QueueSnapshot(
        items=tuple(
            p.QueueItem(
                call_id=e.call_id,
                home_name=e.home_name,
                resident_name=e.resident_name,
                reason=e.reason.value,  # the wire keeps codes as strings
                news2_score=e.news2_score,
                news2_band=e.news2_band.value if e.news2_band else None,
                news2_missing=tuple(e.news2_missing),
                state=e.state.value,
                requested_at=e.requested_at.isoformat(),
                waited_s=max(0, int((now - e.requested_at).total_seconds())),
                claimed_by=e.claimed_by,
            )
            for e in entries
        )
    )


def call_state(
    call_id: int,
    state: State,
    seq: int,
    place_of: Mapping[int, int],
    free: int,
    handle_s: float,
    clinician_name: str | None = None,
) -> p.CallState:
    """``place_of``: every waiting call's place in the queue (``hub.calls.queue.places``)."""
    place = place_of.get(call_id) if state is State.WAITING else None
    return p.CallState(
        call_id=call_id,
        state=state.value,
        position=place,
        estimated_wait_s=estimated_wait_s(place, free, handle_s) if place else None,
        clinician_name=clinician_name,
        seq=seq,
    )


def _guest_items(guests: list[Guest]) -> tuple[rm.GuestItem, ...]:
    return tuple(
        rm.GuestItem(participant=g.ref, name=g.name, role=g.kind.value, state=g.state.value)
        for g in guests
    )
