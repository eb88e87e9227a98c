"""The WebRTC negotiation messages relayed between the two parties of a call
(docs/signalling.md, "Messages"): SDP offers and answers and ICE candidates,
from one side and as the other side gets them.

Part of ``signalling.protocol`` (which re-exports these names) as ``note_messages`` is;
kept apart only to keep that module a readable size. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


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
