"""The WebRTC messages of a call (docs/signalling.md, "Messages"): the negotiation
relayed between its two parties (SDP offers and answers, ICE candidates, from one side
and as the other side gets them), the ICE servers to use (TURN credentials), and what
each side sends (``call.media``: video or sound only, muted, camera off).

Part of ``signalling.protocol`` (which re-exports these names) as ``note_messages`` is;
kept apart only to keep that module a readable size. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias

MediaMode: TypeAlias = Literal["video", "audio"]


@dataclass(frozen=True)
class RtcOffer:
    TYPE: ClassVar[str] = "rtc.offer"
    call_id: int
    sdp: str
    restart: bool = False
    ref: str | None = None


@dataclass(frozen=True)
class RtcAnswer:
    TYPE: ClassVar[str] = "rtc.answer"
    call_id: int
    sdp: str
    ref: str | None = None


@dataclass(frozen=True)
class RtcIce:
    TYPE: ClassVar[str] = "rtc.ice"
    call_id: int
    candidate: str  # "" = end of candidates
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None
    ref: str | None = None


@dataclass(frozen=True)
class RtcOfferRelay:
    TYPE: ClassVar[str] = "rtc.offer"
    call_id: int
    sdp: str
    restart: bool
    from_role: str


@dataclass(frozen=True)
class RtcAnswerRelay:
    TYPE: ClassVar[str] = "rtc.answer"
    call_id: int
    sdp: str
    from_role: str


@dataclass(frozen=True)
class RtcIceRelay:
    TYPE: ClassVar[str] = "rtc.ice"
    call_id: int
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None
    from_role: str


@dataclass(frozen=True)
class CallMedia:
    """What this side sends: ``mode`` (video, or audio only to save the link) and
    whether its microphone is muted and its camera off, for the other side to show."""

    TYPE: ClassVar[str] = "call.media"
    call_id: int
    mode: MediaMode
    muted: bool = False
    camera_off: bool = False
    ref: str | None = None


@dataclass(frozen=True)
class CallMediaRelay:
    TYPE: ClassVar[str] = "call.media"
    call_id: int
    mode: MediaMode
    from_role: str  # one of PARTY_ROLES
    muted: bool = False
    camera_off: bool = False


@dataclass(frozen=True)
class IceServer:
    """One entry of ``ice.servers`` (an ``RTCIceServer``; not a message by itself)."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class IceServers:
    TYPE: ClassVar[str] = "ice.servers"
    ice_servers: tuple[IceServer, ...]
    ttl_s: int  # the TURN credentials expire after this many seconds
