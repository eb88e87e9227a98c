"""What may reach the relay's media sockets: STUN from anyone, media only from a peer.

aioice hands every non-STUN datagram that reaches a candidate's socket to the DTLS
transport, from any source address, and aiortc's DTLS transport dies on an empty
datagram (``IndexError`` reading its first byte) — which ends the participant's media.
Anyone who can reach the relay's UDP ports could end a call with one empty packet.
Browsers accept media only from the remote end of a checked candidate pair; so does
the relay: each socket of a participant's connection drops a datagram unless it is
STUN (ICE checks and consent) or non-empty data from a remote address in its check
list. DTLS and SRTP then authenticate what is left.

This wraps aioice internals too; ``check_internals`` in ``passthrough`` covers the
version, ``install`` below fails loudly if the names moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection

from media.relay.fanout import RelayCounters

__all__ = ["install"]


def install(pc: RTCPeerConnection, counters: RelayCounters) -> None:
    """Guard every socket ``pc`` gathered. Call after ``setLocalDescription`` (aiortc
    gathers then); safe to call again after renegotiation."""
    for transceiver in pc.getTransceivers():
        connection: Any = transceiver.receiver.transport.transport.iceGatherer._connection
        for protocol in connection._protocols:
            if getattr(protocol, "_telehub_guarded", False):
                continue
            protocol.datagram_received = _guarded(
                protocol.datagram_received, protocol, connection, counters
            )
            protocol._telehub_guarded = True


def _guarded(
    receive: Callable[[bytes, tuple[Any, ...]], None],
    protocol: Any,
    connection: Any,
    counters: RelayCounters,
) -> Callable[[bytes, tuple[Any, ...]], None]:
    def datagram_received(data: bytes, addr: tuple[Any, ...]) -> None:
        if not data:
            counters.datagrams_refused += 1
        elif _is_stun(data):
            receive(data, addr)
        elif _known(connection, addr):
            # What aioice does with a datagram that is not STUN, without first trying
            # to parse it as STUN (an exception for every media packet).
            protocol.receiver.data_received(data, protocol.local_candidate.component)
        else:
            counters.datagrams_refused += 1

    return datagram_received


def _is_stun(data: bytes) -> bool:
    # RFC 8489 §5: the top two bits are zero and the magic cookie follows the length.
    return len(data) >= 20 and data[0] & 0xC0 == 0 and data[4:8] == b"\x21\x12\xa4\x42"


def _known(connection: Any, addr: tuple[Any, ...]) -> bool:
    source = (addr[0], addr[1])
    nominated = connection._nominated.get(1)  # where nearly every packet comes from
    if nominated is not None and nominated.remote_addr == source:
        return True
    return any(pair.remote_addr == source for pair in connection._check_list)
