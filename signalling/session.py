"""One WebSocket client: one reader (this task) and one writer task, typed messages.

Bad input never kills the connection: malformed or unknown messages get an ``error``
reply naming the problem, and the socket stays open. Only three things close it:
a message over the size limit (1009, enforced by aiohttp), a sustained flood (1008),
and a session that expired or a tablet that was revoked (4401). Shutdown closes with
1001 (going away) so clients reconnect to another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import WSCloseCode, WSMsgType, web

from hub.calls import guest_services, live, security
from hub.calls.guests import GUEST
from hub.calls.lifecycle import LIVE
from hub.errors import DomainError, Forbidden, NotFound
from hub.people.access import Actor, Role
from signalling import note_handling, relay_handling
from signalling import note_messages as n
from signalling import protocol as p
from signalling import relay_messages as rm
from signalling.ratelimit import TokenBucket
from signalling.relay_calls import RelayCalls
from signalling.switchboard import (
    CLOSE_SESSION_ENDED,
    Parties,
    Switchboard,
    address_of,
    queue_snapshot,
)

log = logging.getLogger(__name__)
# What a guest may send: the call's media on the relay and its keys, nothing else.
GUEST_MESSAGES = (
    p.Ping,
    p.Hello,
    rm.RelayJoin,
    rm.RelayAnswer,
    rm.RelayLeave,
    rm.E2eeIdentity,
    rm.E2eeKey,
    rm.E2eeUnsupported,
)

OUTBOX_LIMIT = 1000
REVALIDATE_EVERY_S = 60.0
DEVICE_SEEN_EVERY_S = 10.0
# Marks the outbox place of the newest queue snapshot (send_snapshot); never a message.
SNAPSHOT_SLOT = ""
FLOODER_CLOSE_WAIT_S = 0.25  # then the connection is cut (see _close_flooder)

Revalidate = Callable[[], Awaitable[bool]]


class ClientSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        actor: Actor,
        board: Switchboard,
        revalidate: Revalidate,
        session: str | None = None,
        transport: asyncio.BaseTransport | None = None,
    ) -> None:
        settings = board.settings
        self.ws = ws
        self._transport = transport  # the TCP connection under ``ws`` (to stop a flood)
        self.actor = actor
        self.board = board
        self.queue_subscribed = False
        self.session = session
        self._revalidate = revalidate
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue(maxsize=OUTBOX_LIMIT)
        self._snapshot: str | None = None  # the newest queue snapshot not yet written
        self._clock = board.ctx.clock
        self._bucket = TokenBucket(settings.rate_per_s, settings.burst, self._clock)
        self._abuse_limit = settings.abuse_close_after
        self._checked_at = self._clock.monotonic()
        self._seen_at = 0.0
        self._role = "device" if actor.is_device else "clinician"
        self.is_guest = actor.kind == GUEST  # takes part in a call's media, nothing else
        self.relay_calls: set[int] = set()  # calls whose media relay this socket joined
        self.serial = board.next_serial()  # which socket this is (relay seats are per socket)
        self.test_hooks = board.ctx.settings.server.test_hooks  # relay_handling's test hook

    # -- Outbox (used by the switchboard) -----------------------------------------------

    def send_snapshot(self, text: str) -> None:
        """Queue snapshots replace one another: while one waits in the outbox, a newer
        one takes its place instead of queueing behind it. A console that cannot keep up
        with a busy queue then gets the newest queue as fast as it can read, and is not
        closed for a full outbox by a pile of snapshots it no longer needs."""
        waiting = self._snapshot is not None
        self._snapshot = text
        if not waiting:
            self.send_text(SNAPSHOT_SLOT)

    def send_text(self, text: str) -> None:
        try:
            self._outbox.put_nowait(text)
        except asyncio.QueueFull:
            # A client that cannot keep up is disconnected rather than buffered forever;
            # it reconnects and gets a fresh snapshot.
            log.warning("closing %s: outbox full", address_of(self.actor))
            self._outbox = asyncio.Queue(maxsize=1)
            self._outbox.put_nowait(None)

    async def close(self, code: int, message: bytes) -> None:
        await self.ws.close(code=code, message=message)

    async def still_allowed(self) -> bool:
        return await self._revalidate()

    def send(self, message: p.ServerMessage) -> None:
        self.send_text(p.dump(message))

    # -- for relay_handling ----------------------------------------------------------

    @property
    def relay(self) -> RelayCalls:
        return self.board.relay

    async def require_party(self, call_id: int) -> rm.ParticipantRole:
        """Refuse (NotFound / Forbidden) unless this is a party of the live call, or a
        guest the clinician let into it; the role the others see."""
        if self.is_guest:
            guest = await guest_services.admitted_to(self.board.ctx, self.actor, call_id)
            return guest.kind.value
        await self._peer_of(call_id)
        return "device" if self.actor.is_device else "clinician"

    # -- the connection --------------------------------------------------------------

    async def run(self) -> None:
        writer = asyncio.create_task(self._write(), name=f"ws-writer-{address_of(self.actor)}")
        self.board.register(self)
        try:
            await self._read()
        finally:
            self.board.unregister(self)
            # Off any media relay at once: the others renegotiate and rotate their keys.
            relay_handling.disconnected(self)
            with contextlib.suppress(asyncio.QueueFull):
                self._outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, timeout=2)
            writer.cancel()

    async def _write(self) -> None:
        while (text := await self._outbox.get()) is not None:
            if text == SNAPSHOT_SLOT:  # the newest snapshot, whenever it came
                text, self._snapshot = self._snapshot or "", None
                if not text:
                    continue
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                break
        if not self.ws.closed:
            await self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too slow")

    async def _read(self) -> None:
        async for frame in self.ws:
            if frame.type is WSMsgType.ERROR:
                break
            if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            if not self._bucket.allow():
                if self._bucket.refused >= self._abuse_limit:
                    self.board.meter.refused("flood")
                    await self._close_flooder()
                    break
                self.board.meter.refused("rate_limited")
                if self._bucket.refused == 1:
                    self.send(
                        p.Error(
                            code="rate_limited", message="too many messages: slow down", ref=None
                        )
                    )
                # Let every other socket have the loop between refused frames: aiohttp
                # hands back frames it already holds without suspending, so reading a
                # flood here would otherwise keep the loop for a whole buffer of them.
                await asyncio.sleep(0)
                continue
            await self._handle(frame.data)
            if self._revalidation_due() and not await self._revalidate():
                await self.ws.close(code=CLOSE_SESSION_ENDED, message=b"session ended")
                break

    async def _close_flooder(self) -> None:
        """Close with 1008 without reading any more of the flood. aiohttp's close reads
        (and drops) whatever arrives until the client's close frame, for up to 10 s: a
        flooder that never answers would keep this process parsing its flood all that
        time. So once the close frame is on its way the connection is cut: the TCP
        transport sends what it holds (the close frame) and reads nothing more."""
        self.board.cool_down(self.actor)
        closing = asyncio.ensure_future(
            self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"message flood")
        )
        await asyncio.sleep(0)  # the close frame is written in the close's first step
        if self._transport is not None:
            self._transport.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closing, FLOODER_CLOSE_WAIT_S)

    def _revalidation_due(self) -> bool:
        """Every REVALIDATE_EVERY_S, check the session or device is still allowed (a
        plain check, not a coroutine: it runs after every message)."""
        now = self._clock.monotonic()
        if now - self._checked_at < REVALIDATE_EVERY_S:
            return False
        self._checked_at = now
        return True

    async def _handle(self, data: str | bytes) -> None:
        ref: str | None = None
        try:
            message = p.parse(data)
            ref = getattr(message, "ref", None)
            if isinstance(message, p.RtcIce):  # the hot path: a cached lookup, no query
                await self._dispatch(message)
            else:
                # Database work per message is bounded per process (signalling.max_db_work),
                # so a flood of sockets cannot take the connections pages need.
                async with self.board.db_work:
                    await self._dispatch(message)
        except p.ProtocolError as err:
            # parse() reads the ref even from a message it rejects, so the client can
            # match the error to the request that caused it.
            self.send(p.Error(code=err.code, message=err.message, ref=err.ref or ref))
        except DomainError as err:
            self.send(p.Error(code=err.code, message=err.message, ref=ref))

    # -- messages --------------------------------------------------------------------

    async def _dispatch(self, m: p.ClientMessage) -> None:
        ctx = self.board.ctx
        if self.is_guest and not isinstance(m, GUEST_MESSAGES):
            raise Forbidden("a guest takes part in the call's sound and video only")
        match m:
            # ICE candidates are by far the most frequent message: matched first.
            case p.RtcIce():
                to = await self._peer_of(m.call_id)
                await self.board.deliver(
                    to,
                    p.RtcIceRelay(
                        call_id=m.call_id,
                        candidate=m.candidate,
                        sdp_mid=m.sdp_mid,
                        sdp_mline_index=m.sdp_mline_index,
                        from_role=self._role,
                    ),
                )
            case p.Ping():
                self.send(p.Pong())
                await self._device_seen()
            case p.Hello():
                await self._hello(m)
            case p.QueueSubscribe():
                self._require_staff()
                self.queue_subscribed = True
                self.send(queue_snapshot(await live.queue(ctx), ctx))
            case p.CallClaim():
                try:
                    call = await live.claim(ctx, self.actor, m.call_id)
                except DomainError as err:
                    if err.code != "conflict":
                        raise
                    self.send(p.CallClaimed(call_id=m.call_id, ok=False, by_name=None, ref=m.ref))
                    raise
                self.send(
                    p.CallClaimed(call_id=call.id, ok=True, by_name=self.actor.name, ref=m.ref)
                )
                if call.answered_at is not None:
                    waited = call.answered_at - call.requested_at
                    self.board.meter.answered(waited.total_seconds())
            case p.CallRelease():
                await live.release(ctx, self.actor, m.call_id)
            case p.CallTransfer():
                await live.transfer(ctx, self.actor, m.call_id, m.to_user_id)
            case p.CallCancel():
                if not self.actor.is_device:
                    raise Forbidden("only the calling tablet cancels a call; clinicians end it")
                await live.cancel(ctx, self.actor, m.call_id)
            case p.CallEnd():
                await live.end(ctx, self.actor, m.call_id)
            case p.CallJoin():
                to = await self._peer_of(m.call_id)
                await self.board.deliver(to, p.CallPeer(call_id=m.call_id, event="joined"))
            case p.CallMedia():
                to = await self._peer_of(m.call_id)
                await self.board.deliver(
                    to,
                    p.CallMediaRelay(
                        call_id=m.call_id,
                        mode=m.mode,
                        from_role=self._role,
                        muted=m.muted,
                        camera_off=m.camera_off,
                    ),
                )
            case p.CallSecurity():
                to = await self._peer_of(m.call_id)  # only a party of the live call
                level = security.parse_level(m.level)
                call, changed = await security.report(ctx, self.actor, m.call_id, level)
                stored = call.security_level or level.value
                self.send(
                    p.CallSecurityState(call_id=m.call_id, level=stored, changed=changed, ref=m.ref)
                )
                if changed:
                    await self.board.deliver(
                        to, p.CallSecurityState(call_id=m.call_id, level=stored, changed=True)
                    )
            case p.RtcOffer():
                to = await self._peer_of(m.call_id)
                await self.board.deliver(
                    to,
                    p.RtcOfferRelay(
                        call_id=m.call_id, sdp=m.sdp, restart=m.restart, from_role=self._role
                    ),
                )
            case p.RtcAnswer():
                to = await self._peer_of(m.call_id)
                await self.board.deliver(
                    to, p.RtcAnswerRelay(call_id=m.call_id, sdp=m.sdp, from_role=self._role)
                )
                await live.connected(ctx, self.actor, m.call_id)
            case n.NotesOpen() | n.NotesClose() | n.NotesDraft() | n.NotesAdd() | n.NotesCorrect():
                await note_handling.handle(self, m)
            case (
                rm.RelayJoin()
                | rm.RelayAnswer()
                | rm.RelayLeave()
                | rm.E2eeIdentity()
                | rm.E2eeKey()
                | rm.E2eeUnsupported()
                | rm.E2eeClear()
            ):
                await relay_handling.handle(self, m)
            case _:  # pragma: no cover - parse() only returns the types above
                raise p.ProtocolError("unknown_type", f"unhandled message {type(m).__name__}")

    async def _hello(self, m: p.Hello) -> None:
        a = self.actor
        if self.is_guest:
            self.send(
                p.Welcome(v=p.VERSION, role="guest", user_id=None, device_id=None, name=a.name)
            )
            return
        self.send(
            p.Welcome(
                v=p.VERSION,
                role="device" if a.is_device else (a.role.value if a.role else "clinician"),
                user_id=None if a.is_device else a.id,
                device_id=a.id if a.is_device else None,
                name=a.name,
            )
        )
        # Resuming: tell the client where each of its open calls stands right now.
        for call in await live.open_calls_of(self.board.ctx, a):
            view = await live.view(self.board.ctx, a, call.id)
            self.send(await self.board.describe(call, view.clinician_name))
            if call.state in LIVE and m.resume_call_id == call.id:
                await self.board.deliver(
                    self._peer_address(call.device_id, call.answered_by),
                    p.CallPeer(call_id=call.id, event="joined"),
                )
            if call.state in LIVE:
                # A page that reloaded mid-call with guests in it goes back onto the relay.
                await self.board.tell_guests(call.id, self)
        await self._device_seen(force=True)

    async def _device_seen(self, force: bool = False) -> None:
        if not self.actor.is_device:
            return
        now = self._clock.monotonic()
        if force or now - self._seen_at > DEVICE_SEEN_EVERY_S:
            self._seen_at = now
            await live.device_seen(self.board.ctx, self.actor)

    def _require_staff(self) -> None:
        """The queue lists every home's waiting residents: hub-wide staff only (a
        care-home manager's account, scoped to one home, is refused)."""
        if (
            self.actor.kind != "staff"
            or self.actor.role not in (Role.CLINICIAN, Role.MANAGER, Role.ADMIN)
            or self.actor.home_id is not None
        ):
            raise Forbidden("the queue is for hub staff")

    async def _peer_of(self, call_id: int) -> str:
        """The other side of a live call, if this connection is one side of it."""
        parties = await self.board.parties(call_id)
        if not self._takes_part(parties):
            parties = await self.board.parties(call_id, fresh=True)
        if not self._takes_part(parties):
            if not self._is_party(parties) and (
                self.actor.is_device or self.actor.home_id is not None
            ):
                # Another home's call looks exactly like one that does not exist.
                raise NotFound(f"no call {call_id}")
            if parties.state in LIVE or not self._is_party(parties):
                raise Forbidden(f"call {call_id} is not yours")
            raise Forbidden(f"call {call_id} is {parties.state.value}, not live")
        return self._peer_address(parties.device_id, parties.answered_by)

    def _is_party(self, parties: Parties) -> bool:
        if self.actor.is_device:
            return parties.device_id == self.actor.id
        return parties.answered_by == self.actor.id

    def _takes_part(self, parties: Parties) -> bool:
        return self._is_party(parties) and parties.state in LIVE

    def _peer_address(self, device_id: int | None, answered_by: int | None) -> str:
        return f"staff:{answered_by}" if self.actor.is_device else f"device:{device_id}"


async def serve(
    request: web.Request,
    actor: Actor,
    board: Switchboard,
    revalidate: Revalidate,
    session: str | None = None,
) -> web.WebSocketResponse:
    """Upgrade and run one client. Refused before the upgrade (``TooManyConnections``,
    HTTP 429) when its tablet, login or address already holds as many sockets as the
    ``signalling.max_sockets_per_*`` settings allow."""
    with board.admit(actor, request.remote or ""):
        ws = web.WebSocketResponse(
            heartbeat=board.settings.heartbeat_s,
            max_msg_size=board.settings.max_message_bytes,
        )
        await ws.prepare(request)
        client = ClientSession(ws, actor, board, revalidate, session, request.transport)
        await client.run()
        return ws
