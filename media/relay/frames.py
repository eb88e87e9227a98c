"""What the relay may know about a frame it cannot read, and how often it asks for a
keyframe.

Frames arrive end-to-end encrypted in the SFrame layout (docs/media.md): the codec's
own header bytes stay in clear in front — 10 bytes of a VP8 key frame, 3 of a delta
frame, 1 of Opus — and the rest is ciphertext. The first VP8 byte is enough to tell a
key frame (RFC 6386 §9.1: bit 0, the inverted key-frame flag, is 0), and that is all
the relay looks at: it needs key frames to start a late joiner or a subscriber it had
to skip ahead for.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.clock import Clock

__all__ = ["KeyframeThrottle", "begins_keyframe", "is_keyframe"]


def is_keyframe(kind: str, data: bytes) -> bool:
    """A VP8 key frame; every audio frame stands alone, so counts as one."""
    if kind == "audio":
        return True
    return bool(data) and data[0] & 0x01 == 0


def begins_keyframe(kind: str, payload: bytes) -> bool:
    """Whether this RTP packet's payload is the first packet of a key frame (every Opus
    packet stands alone, so counts as one). A VP8 packet begins a frame when its payload
    descriptor (RFC 7741 §4.2) has the start bit set and partition index 0; the VP8
    byte after the descriptor is the frame's first, in clear under SFrame."""
    if kind == "audio":
        return True
    if len(payload) < 2 or payload[0] & 0x17 != 0x10:  # S set, partition index 0
        return False
    at = 1
    if payload[0] & 0x80:  # X: an extension byte says which optional fields follow
        flags = payload[1]
        at = 2
        if flags & 0x80:  # I: picture id, 7 or 15 bits (M)
            at += 2 if len(payload) > at and payload[at] & 0x80 else 1
        if flags & 0x40:  # L: TL0PICIDX
            at += 1
        if flags & 0x30:  # T or K: TID / KEYIDX
            at += 1
    return is_keyframe("video", payload[at : at + 1])


@dataclass
class KeyframeThrottle:
    """At most one keyframe request per publisher per ``interval_s``.

    Every subscriber's browser asks (RTCP PLI) when it lost a picture, and one that
    cannot decrypt asks about every 200 ms: passed on unthrottled, that would make the
    publisher send a key frame (several times a delta frame's size) about twice a
    second for everyone. Requests inside the interval are counted and dropped; the next
    key frame answers them too.
    """

    clock: Clock
    interval_s: float = 1.0
    passed: int = 0
    dropped: int = 0
    _last: float | None = None

    def allow(self) -> bool:
        now = self.clock.monotonic()
        if self._last is not None and now - self._last < self.interval_s:
            self.dropped += 1
            return False
        self._last = now
        self.passed += 1
        return True
