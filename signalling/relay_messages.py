"""The relay and end-to-end encryption messages (docs/signalling.md, "Calls of three or
more").

Part of ``signalling.protocol`` as ``note_messages`` is. Stdlib only.

A call moves onto the media relay when a guest is admitted (``call.media_route`` with
``route: "relay"``) and back when the last guest leaves (``route: "direct"``). On the
relay, each party joins (``relay.join``): the relay makes every offer
(``relay.offer``, with ``slots`` saying whose audio or video each transceiver
carries) and the browser answers (``relay.answer``). When someone else joins or leaves,
another ``relay.offer`` arrives on its own. If the relay loses a browser's connection
(``relay.lost``) or the browser's socket reconnects, the browser joins again.

End-to-end keys: each participant announces a per-call public key
(``e2ee.identity``); the server sends everyone the call's roster with every public key
(``e2ee.roster``), from which each browser computes the verification code. Media keys
travel as envelopes sealed to one recipient (``e2ee.key``): the server checks who sent
it and that the recipient is in the call, and passes it on unread — it cannot open it.

A browser without encoded transforms cannot encrypt frames: it says so
(``e2ee.unsupported``, passed to everyone else on the relay) and the call's clinician
decides (``e2ee.clear``, passed to everyone): go on with every frame unencrypted, or
remove that participant — after which the clinician's page turns encryption back on.

Participants are named by their audit reference: ``device:7``, ``staff:3``,
``guest:12``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, TypeAlias

MAX_PARTICIPANT = 32  # "guest:2147483647" and the like
PUBLIC_KEY_CHARS = 87  # base64url of a 65-byte uncompressed P-256 point
ENVELOPE_IV_CHARS = 16  # base64url of 12 bytes
ENVELOPE_CT_CHARS = 43  # base64url of a 16-byte key + 16-byte tag
MAX_KID = 2**53 - 1

# Field rules for ``signalling.protocol`` (by field name, wherever the field appears).
MAX_LENGTH = {
    "public_key": PUBLIC_KEY_CHARS,
    "iv": ENVELOPE_IV_CHARS,
    "ct": ENVELOPE_CT_CHARS,
    "call": 12,
    "from_": MAX_PARTICIPANT,
    "to": MAX_PARTICIPANT,
    "participant": MAX_PARTICIPANT,
    "mid": 16,
    "name": 200,
}
RANGE = {"kid": (0, MAX_KID), "seat": (1, MAX_KID)}

MediaRoute: TypeAlias = Literal["direct", "relay"]
RelayKind: TypeAlias = Literal["audio", "video"]
ParticipantRole: TypeAlias = Literal["clinician", "device", "gp", "family", "interpreter", "other"]

# -- client → server ------------------------------------------------------------------


@dataclass(frozen=True)
class RelayJoin:
    TYPE: ClassVar[str] = "relay.join"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class RelayAnswer:
    TYPE: ClassVar[str] = "relay.answer"
    call_id: int
    sdp: str
    seat: int | None = None  # the seat of the offer answered (relay.offer's): refused if gone
    ref: str | None = None


@dataclass(frozen=True)
class RelayLeave:
    TYPE: ClassVar[str] = "relay.leave"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class E2eeIdentity:
    """This participant's public key for this call (P-256, raw, base64url)."""

    TYPE: ClassVar[str] = "e2ee.identity"
    call_id: int
    public_key: str
    ref: str | None = None


@dataclass(frozen=True)
class KeyEnvelope:
    """A media key sealed to one recipient (web/static/js/e2ee/keys.js). The server
    checks its shape and addressing, never its content."""

    v: int
    call: str
    from_: str
    to: str
    kid: int
    iv: str
    ct: str


@dataclass(frozen=True)
class E2eeKey:
    TYPE: ClassVar[str] = "e2ee.key"
    call_id: int
    envelope: KeyEnvelope
    ref: str | None = None


@dataclass(frozen=True)
class E2eeUnsupported:
    """This participant's browser cannot encrypt frames end to end (no encoded
    transforms). Sent after joining the relay and whenever the roster changes, so that
    whoever joins later hears it too."""

    TYPE: ClassVar[str] = "e2ee.unsupported"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class E2eeClear:
    """The clinician's decision for the relayed call: every frame unencrypted from now on
    (``clear``), or end-to-end encrypted again. ``proofs``: the decision sealed by the
    clinician's browser to each participant with a key (keys.js ``sealDecision``), so that
    their browsers go on without encryption only on the clinician's word, not the
    server's."""

    TYPE: ClassVar[str] = "e2ee.clear"
    call_id: int
    clear: bool
    proofs: tuple[KeyEnvelope, ...] = ()
    ref: str | None = None


# -- server → client ------------------------------------------------------------------


@dataclass(frozen=True)
class RelaySlot:
    """One transceiver of a participant's relay connection: whose audio or video."""

    mid: str
    participant: str
    kind: RelayKind


@dataclass(frozen=True)
class RelayOffer:
    TYPE: ClassVar[str] = "relay.offer"
    call_id: int
    sdp: str
    slots: tuple[RelaySlot, ...]
    # Which of this participant's joins the offer belongs to: a browser that joined again
    # ignores what still comes for its earlier seat.
    seat: int
    ref: str | None = None


@dataclass(frozen=True)
class Participant:
    """Someone in the call, as everyone in it sees them."""

    participant: str
    name: str
    role: ParticipantRole
    public_key: str | None  # None until they announce one (e2ee.identity)


@dataclass(frozen=True)
class E2eeRoster:
    TYPE: ClassVar[str] = "e2ee.roster"
    call_id: int
    participants: tuple[Participant, ...]


@dataclass(frozen=True)
class E2eeKeyDelivery:
    TYPE: ClassVar[str] = "e2ee.key_delivery"
    call_id: int
    envelope: KeyEnvelope


@dataclass(frozen=True)
class E2eeUnsupportedNotice:
    """``participant``'s browser cannot encrypt end to end (to everyone else on the relay)."""

    TYPE: ClassVar[str] = "e2ee.unsupported"
    call_id: int
    participant: str


@dataclass(frozen=True)
class E2eeClearState:
    """The clinician's decision, to everyone on the relay (the clinician included), with
    the proof the clinician sealed for this participant (None: none was sealed for it)."""

    TYPE: ClassVar[str] = "e2ee.clear"
    call_id: int
    clear: bool
    proof: KeyEnvelope | None = None


@dataclass(frozen=True)
class RelayLost:
    """The relay lost this browser's media connection (ICE consent ran out: the network
    went away for a while, or a machine too busy to answer in time). The participant is
    off the relay; the browser joins again by itself (``relay.join``)."""

    TYPE: ClassVar[str] = "relay.lost"
    call_id: int
    seat: int  # the seat lost (relay.offer's): a browser already on a newer one ignores it


@dataclass(frozen=True)
class CallMediaRoute:
    """Where a call's media goes now: directly (or through TURN) between the two
    parties, or through telehub's relay because a guest is in the call."""

    TYPE: ClassVar[str] = "call.media_route"
    call_id: int
    route: MediaRoute


@dataclass(frozen=True)
class GuestItem:
    """A guest of the call (not a message by itself)."""

    participant: str  # "guest:12"
    name: str
    role: ParticipantRole
    state: Literal["waiting", "in_call", "left", "removed"]


@dataclass(frozen=True)
class CallGuests:
    """Who came to the call as a guest and where each is now: to the tablet and the
    clinician (who lets them in from the lobby), and to every guest still there."""

    TYPE: ClassVar[str] = "call.guests"
    call_id: int
    guests: tuple[GuestItem, ...]


RelayClientMessage: TypeAlias = (
    RelayJoin | RelayAnswer | RelayLeave | E2eeIdentity | E2eeKey | E2eeUnsupported | E2eeClear
)
RelayServerMessage: TypeAlias = (
    RelayOffer
    | RelayLost
    | E2eeRoster
    | E2eeKeyDelivery
    | E2eeUnsupportedNotice
    | E2eeClearState
    | CallMediaRoute
    | CallGuests
)
