"""What the hub and separate media processes (``telehub media``) say to each other.

A deployment may run the forwarding unit in processes of its own; they share the
telehub bus (Redis) with the hub processes. These are the bodies of the envelopes that
cross it, as plain JSON-able dicts, with the checks that keep a malformed or foreign
body from reaching the unit:

- ``media.announce``: a media process says it is alive and how loaded it is (every
  ``media.announce_s``, and at once when it starts or stops);
- ``media.request``: a hub process asks one media process (``media``) to do one thing
  for a call — ``join``, ``answer``, ``leave`` or ``end`` — and names where the reply goes
  (``reply_to``, the asking hub process) under a request id;
- ``media.reply``: the result: ``ok`` with an offer for ``join``, or an error message;
- ``media.offer``: the relay's own renegotiation offer to a participant (someone else
  joined or left), sent to the hub process that put the call there;
- ``media.lost``: a participant's connection died without a leave.

Every body carries the telehub's ``scope`` (its database, hashed, as presence does) so
that two telehubs sharing a Redis server never mix calls. Nothing here is secret: SDP
holds ICE credentials for one connection and DTLS fingerprints, never a media key (the
browsers' end-to-end keys never reach any server).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from media.relay.room import Offer, Slot

__all__ = [
    "ANNOUNCE",
    "LOST",
    "OFFER",
    "OPS",
    "REPLY",
    "REQUEST",
    "Announce",
    "Lost",
    "MalformedBody",
    "Renegotiate",
    "Reply",
    "Request",
    "offer_body",
    "offer_from",
]

ANNOUNCE, REQUEST, REPLY = "media.announce", "media.request", "media.reply"
OFFER, LOST = "media.offer", "media.lost"
KINDS = frozenset({ANNOUNCE, REQUEST, REPLY, OFFER, LOST})

Op = Literal["join", "answer", "leave", "end"]
OPS: frozenset[str] = frozenset({"join", "answer", "leave", "end"})
MAX_SDP = 64 * 1024  # a relay offer for five people is a few kB
MAX_ID = 64


class MalformedBody(ValueError):
    """A body that is not what its kind says (dropped, and logged without its content)."""


@dataclass(frozen=True)
class Announce:
    media: str  # the media process's id (random per start)
    calls: int
    participants: int
    stopping: bool = False  # said once on the way out: pick another at once

    def body(self, scope: str) -> dict[str, Any]:
        return {
            "scope": scope,
            "media": self.media,
            "calls": self.calls,
            "participants": self.participants,
            "stopping": self.stopping,
        }

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Announce:
        return cls(
            media=_id(body, "media"),
            calls=_count(body, "calls"),
            participants=_count(body, "participants"),
            stopping=bool(body.get("stopping", False)),
        )


@dataclass(frozen=True)
class Request:
    id: str
    media: str
    reply_to: str
    op: Op
    call_id: int
    participant: str = ""
    sdp: str = ""

    def body(self, scope: str) -> dict[str, Any]:
        return {
            "scope": scope,
            "id": self.id,
            "media": self.media,
            "reply_to": self.reply_to,
            "op": self.op,
            "call_id": self.call_id,
            "participant": self.participant,
            "sdp": self.sdp,
        }

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Request:
        op = body.get("op")
        if op not in OPS:
            raise MalformedBody(f"unknown op {str(op)[:20]!r}")
        participant = body.get("participant", "")
        if op != "end" and not (isinstance(participant, str) and 0 < len(participant) <= MAX_ID):
            raise MalformedBody("participant must be a short string")
        return cls(
            id=_id(body, "id"),
            media=_id(body, "media"),
            reply_to=_id(body, "reply_to"),
            op=op,
            call_id=_count(body, "call_id"),
            participant=participant if isinstance(participant, str) else "",
            sdp=_sdp(body) if op == "answer" else "",
        )


@dataclass(frozen=True)
class Reply:
    id: str
    to: str  # the asking hub process
    ok: bool
    offer: Offer | None = None
    error: str = ""

    def body(self, scope: str) -> dict[str, Any]:
        return {
            "scope": scope,
            "id": self.id,
            "to": self.to,
            "ok": self.ok,
            "offer": offer_body(self.offer) if self.offer else None,
            "error": self.error,
        }

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Reply:
        offer = body.get("offer")
        return cls(
            id=_id(body, "id"),
            to=_id(body, "to"),
            ok=body.get("ok") is True,
            offer=offer_from(offer) if isinstance(offer, dict) else None,
            error=str(body.get("error", ""))[:300],
        )


@dataclass(frozen=True)
class Renegotiate:
    """The relay's own offer to a participant, for the hub process that placed the call."""

    to: str
    offer: Offer

    def body(self, scope: str) -> dict[str, Any]:
        return {"scope": scope, "to": self.to, "offer": offer_body(self.offer)}

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Renegotiate:
        offer = body.get("offer")
        if not isinstance(offer, dict):
            raise MalformedBody("offer must be an object")
        return cls(to=_id(body, "to"), offer=offer_from(offer))


@dataclass(frozen=True)
class Lost:
    to: str
    call_id: int
    participant: str

    def body(self, scope: str) -> dict[str, Any]:
        return {
            "scope": scope,
            "to": self.to,
            "call_id": self.call_id,
            "participant": self.participant,
        }

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Lost:
        return cls(
            to=_id(body, "to"),
            call_id=_count(body, "call_id"),
            participant=_id(body, "participant"),
        )


def offer_body(offer: Offer) -> dict[str, Any]:
    return {
        "call_id": offer.call_id,
        "participant": offer.participant,
        "sdp": offer.sdp,
        "slots": [[s.mid, s.publisher, s.kind] for s in offer.slots],
    }


def offer_from(body: dict[str, Any]) -> Offer:
    slots = body.get("slots")
    if not isinstance(slots, list) or len(slots) > 32:
        raise MalformedBody("slots must be a short list")
    try:
        parsed = tuple(Slot(str(mid), str(who), str(kind)) for mid, who, kind in slots)
    except (TypeError, ValueError) as err:
        raise MalformedBody("a slot is [mid, publisher, kind]") from err
    return Offer(
        call_id=_count(body, "call_id"),
        participant=_id(body, "participant"),
        sdp=_sdp(body),
        slots=parsed,
    )


def _id(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID:
        raise MalformedBody(f"{key} must be a short string")
    return value


def _count(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedBody(f"{key} must be a whole number")
    return value


def _sdp(body: dict[str, Any]) -> str:
    sdp = body.get("sdp")
    if not isinstance(sdp, str) or not 0 < len(sdp) <= MAX_SDP:
        raise MalformedBody(f"sdp must be text of at most {MAX_SDP} characters")
    return sdp
