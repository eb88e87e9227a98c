"""A subscriber's copy of a forwarded track, sent packet by packet.

aiortc's ``RTCRtpSender`` packetises and encodes frames from a track; the relay has
packets, not frames, and must not touch their payloads (they are end-to-end
encrypted). ``install_sender`` replaces the sender's send loop: the sender negotiates
and runs its RTCP as before, and each packet the publisher sends is written as this
subscriber's stream by the subscriber's ``Outlet`` core (media/relay/_fastpath.c) —
from Python's path here (``PacketSender.send``), or without Python on the relay's
steady path (media/relay/passthrough.py). These are aiortc internals;
``passthrough.check_internals`` checks their names.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiortc.rtcdtlstransport import State
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import RtpPacket, wrap_rtx

from media.relay import srtp
from media.relay._fastpath import Outlet
from media.relay.passthrough import FastPath, extension_ids

__all__ = ["PacketSender", "install_sender"]


def install_sender(
    sender: RTCRtpSender, core: Outlet, on_ready: Callable[[], None]
) -> PacketSender:
    """Make ``sender`` (a subscriber's copy of forwarded media) send the publisher's
    packets as they come (``PacketSender.send``), through ``core`` (the subscriber's
    stream state, shared with the C path). Call before it starts: when its transceiver
    is added. ``on_ready``: called once it can send (ask for a key frame)."""
    return PacketSender(sender, core, on_ready)


class PacketSender:
    """A subscriber's RTP stream of one forwarded track, sent packet by packet.

    aiortc's sender still negotiates, sends RTCP sender reports (from the counts the
    core keeps on it) and answers NACKs (``_retransmit``, from the core's history); its
    own send loop (``_run_rtp``) only configures the core and waits to be stopped. The
    core (``_fastpath.Outlet``) writes each packet of the publisher's stream as this
    stream's: the sequence number and timestamp moved by a fixed offset chosen at the
    first packet (so the publisher's losses stay gaps the subscriber can NACK), this
    sender's SSRC, payload type and mid; abs-send-time stamped once per frame; the
    payload as it came. It writes to the nominated pair's socket itself once the
    connection is up on a plain socket, and through ``FastPath.send_now`` (Python)
    until then or when the pair is a TURN allocation."""

    def __init__(self, sender: RTCRtpSender, core: Outlet, on_ready: Callable[[], None]) -> None:
        self._sender: Any = sender
        self._core = core
        self._on_ready = on_ready
        self._fast: FastPath | None = None
        self._python_sends = False  # the C path cannot write to this pair's address
        self._payload_type = 0
        sender._run_rtp = self._run  # type: ignore[method-assign]
        sender._retransmit = self._retransmit  # type: ignore[method-assign]

    @property
    def core(self) -> Outlet:
        return self._core

    @property
    def ready(self) -> bool:
        return bool(self._core.ready)

    def send(self, packet: RtpPacket) -> bool:
        core = self._core
        if core.fd < 0 and self._fast is not None and not self._python_sends:
            self._configure(self._fast)  # the connection may be up by now
        return bool(
            core.send(packet.payload, packet.sequence_number, packet.timestamp, packet.marker)
        )

    def _configure(self, fast: FastPath) -> None:
        """Point the core at this subscriber's SRTP session and socket: the nominated
        pair's own socket once connected on one, else Python's send path."""
        sender = self._sender
        transport = fast.transport
        session = transport._tx_srtp
        if session is None:
            return
        pair = fast.nominated
        udp = getattr(pair.protocol, "transport", None) if pair is not None else None
        fd, host, port = -1, None, 0
        if transport._state is State.CONNECTED and pair is not None and udp is not None:
            fd = udp.get_extra_info("socket").fileno()
            host, port = pair.remote_addr[0], pair.remote_addr[1]
        elif self._core.configured:
            return  # still no plain socket to write to (not connected, or TURN)
        ids = extension_ids(sender._RTCRtpSender__rtp_header_extensions_map)
        mid = sender._RTCRtpSender__mid
        settings: dict[str, Any] = {
            "sender": sender,
            "dtls": transport,
            "session": session,
            "ctx": srtp.context(session),
            "protect": srtp.PROTECT,
            "ssrc": sender._ssrc,
            "payload_type": self._payload_type,
            "mid": mid.encode() if mid else None,
            "mid_id": ids.mid or 0,
            "abs_id": ids.abs_send_time or 0,
            "fallback": fast.send_now,
        }
        try:
            self._core.configure(fd=fd, host=host, port=port, **settings)
        except ValueError:  # an address the C path cannot write to (a scoped IPv6 one)
            self._core.configure(fd=-1, host=None, port=0, **settings)
            self._python_sends = True

    async def _run(self, codec: RTCRtpCodecParameters) -> None:
        sender = self._sender
        sender._RTCRtpSender__rtp_started.set()
        assert codec.payloadType is not None
        self._payload_type = codec.payloadType
        FastPath.install(sender.transport)
        self._fast = FastPath.of(sender.transport)
        assert self._fast is not None
        self._configure(self._fast)
        self._on_ready()
        try:
            await asyncio.Event().wait()  # until aiortc stops the sender (cancels this)
        except asyncio.CancelledError:
            pass
        finally:
            self._fast = None
            self._core.unconfigure()
            track = sender._RTCRtpSender__track
            if track is not None:
                track.stop()
                sender._RTCRtpSender__track = None
            sender._RTCRtpSender__rtp_exited.set()

    async def _retransmit(self, sequence_number: int) -> None:
        """aiortc's ``_retransmit``: the packet again, wrapped in RTX if negotiated."""
        sender = self._sender
        plain = self._core.history(sequence_number)
        if plain is None:
            return
        rtx_payload_type = sender._RTCRtpSender__rtx_payload_type
        if rtx_payload_type is not None:
            extensions = sender._RTCRtpSender__rtp_header_extensions_map
            rtx = wrap_rtx(
                RtpPacket.parse(plain, extensions),
                payload_type=rtx_payload_type,
                sequence_number=sender._RTCRtpSender__rtx_sequence_number,
                ssrc=sender._rtx_ssrc,
            )
            sender._RTCRtpSender__rtx_sequence_number = (rtx.sequence_number + 1) & 0xFFFF
            plain = rtx.serialize(extensions)
        await sender.transport._send_rtp(plain)
