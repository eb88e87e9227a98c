"""The signalling protocol, version 1: the messages on the WebSocket at ``/ws``.

The prose (connecting, who may send what, the call lifecycle, heartbeats, close codes,
reconnection, an example exchange) is docs/signalling.md; this module is the wire format.

Every message is a JSON object whose ``type`` names it, with snake_case fields. Each
type is its own frozen dataclass below. ``parse`` turns client text into one of the
client messages, ``parse_server`` does the same for server messages (for clients and
tests), and ``dump`` turns any message into text. Bad input raises ``ProtocolError``
with a stable ``code`` and a precise ``message``, such as
``missing field 'call_id' in 'call.claim'``; the server sends both back in an ``error``.

The checks come from each dataclass's type hints, plus a few rules per field name that
hold wherever the field appears (ids are positive, ``sdp`` is at most 64 KiB, ...): see
the tables under "Field rules". They are compiled once, as this is the hot path of every
relayed SDP and ICE message. Fields the protocol does not know are ignored, so a newer
client can talk to an older server. Stdlib only.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeAlias

from signalling import note_messages as nm
from signalling import relay_messages as rm
from signalling.json_text import compact_json
from signalling.rtc_messages import CallMedia as CallMedia
from signalling.rtc_messages import CallMediaRelay as CallMediaRelay
from signalling.rtc_messages import IceServer as IceServer
from signalling.rtc_messages import IceServers as IceServers
from signalling.rtc_messages import MediaMode as MediaMode
from signalling.rtc_messages import RtcAnswer as RtcAnswer
from signalling.rtc_messages import RtcAnswerRelay as RtcAnswerRelay
from signalling.rtc_messages import RtcIce as RtcIce
from signalling.rtc_messages import RtcIceRelay as RtcIceRelay
from signalling.rtc_messages import RtcOffer as RtcOffer
from signalling.rtc_messages import RtcOfferRelay as RtcOfferRelay
from signalling.security_messages import SECURITY_LEVELS as SECURITY_LEVELS
from signalling.security_messages import CallSecurity as CallSecurity
from signalling.security_messages import CallSecurityState as CallSecurityState

VERSION = 1
MAX_SDP = 64 * 1024  # characters (SDP is ASCII in practice)
MAX_CANDIDATE = 2 * 1024
MAX_REF = 64
MAX_NOTES = 20_000
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database

CALL_STATES = ("requested", "waiting", "answered", "in_call", "ended", "cancelled", "abandoned")
ROLES = ("clinician", "manager", "admin", "device", "guest")
PARTY_ROLES = ("clinician", "device")  # the two sides of a call (``from_role``)

PeerEvent: TypeAlias = Literal["joined", "left"]


class ProtocolError(Exception):
    """Input that is not a valid message. ``code`` is stable, ``message`` precise and
    meant for people; ``ref`` is the client's ``ref`` when it could be read."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref

    def reply(self) -> Error:
        """The ``error`` message that answers this."""
        return Error(code=self.code, message=self.message, ref=self.ref)


# -- client → server ------------------------------------------------------------------
# Every client message may carry ``ref`` (at most 64 characters); replies and errors
# caused by it carry it back.


@dataclass(frozen=True)
class Ping:
    TYPE: ClassVar[str] = "ping"
    ref: str | None = None


@dataclass(frozen=True)
class Hello:
    TYPE: ClassVar[str] = "hello"
    v: int
    resume_call_id: int | None = None
    ref: str | None = None


@dataclass(frozen=True)
class QueueSubscribe:
    TYPE: ClassVar[str] = "queue.subscribe"
    ref: str | None = None


@dataclass(frozen=True)
class CallClaim:
    TYPE: ClassVar[str] = "call.claim"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class CallRelease:
    TYPE: ClassVar[str] = "call.release"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class CallTransfer:
    TYPE: ClassVar[str] = "call.transfer"
    call_id: int
    to_user_id: int
    ref: str | None = None


@dataclass(frozen=True)
class CallCancel:
    TYPE: ClassVar[str] = "call.cancel"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class CallJoin:
    TYPE: ClassVar[str] = "call.join"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class CallEnd:
    TYPE: ClassVar[str] = "call.end"
    call_id: int
    ref: str | None = None


ClientMessage: TypeAlias = (
    Ping
    | Hello
    | QueueSubscribe
    | CallClaim
    | CallRelease
    | CallTransfer
    | CallCancel
    | CallJoin
    | CallEnd
    | CallMedia
    | CallSecurity
    | RtcOffer
    | RtcAnswer
    | RtcIce
    | nm.NotesClientMessage  # notes.open, .draft, .add, ... (signalling/note_messages.py)
    | rm.RelayClientMessage  # relay.join, e2ee.key, ... (signalling/relay_messages.py)
)

# -- server → client ------------------------------------------------------------------


@dataclass(frozen=True)
class Pong:
    TYPE: ClassVar[str] = "pong"
    ref: str | None = None


@dataclass(frozen=True)
class Welcome:
    TYPE: ClassVar[str] = "welcome"
    v: int
    role: str  # one of ROLES
    user_id: int | None  # staff
    device_id: int | None  # tablets
    name: str
    ref: str | None = None


@dataclass(frozen=True)
class Error:
    TYPE: ClassVar[str] = "error"
    code: str
    message: str
    ref: str | None = None


@dataclass(frozen=True)
class QueueItem:
    """One call in a ``queue.snapshot`` (not a message by itself)."""

    call_id: int
    home_name: str
    resident_name: str
    reason: str  # why the home called (a reason code such as "fall")
    news2_score: int | None
    news2_band: str | None
    news2_missing: tuple[str, ...]
    state: str  # one of CALL_STATES
    requested_at: str  # ISO 8601
    waited_s: int
    claimed_by: str | None


@dataclass(frozen=True)
class QueueSnapshot:
    TYPE: ClassVar[str] = "queue.snapshot"
    items: tuple[QueueItem, ...]


@dataclass(frozen=True)
class CallState:
    TYPE: ClassVar[str] = "call.state"
    call_id: int
    state: str  # one of CALL_STATES
    position: int | None = None  # 1 = next; waiting calls only
    estimated_wait_s: int | None = None
    clinician_name: str | None = None
    reason: str | None = None  # why it changed, for people ("cancelled by the care home")
    # Goes up with every change of the call's state. A client that has seen a higher
    # seq drops the message: it was overtaken (read before a change it already heard of).
    seq: int = 0


@dataclass(frozen=True)
class CallClaimed:
    TYPE: ClassVar[str] = "call.claimed"
    call_id: int
    ok: bool
    by_name: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class CallPeer:
    TYPE: ClassVar[str] = "call.peer"
    call_id: int
    event: PeerEvent


ServerMessage: TypeAlias = (
    Pong
    | Welcome
    | Error
    | QueueSnapshot
    | CallState
    | CallClaimed
    | CallPeer
    | nm.NotesServerMessage
    | CallMediaRelay
    | CallSecurityState
    | RtcOfferRelay
    | RtcAnswerRelay
    | RtcIceRelay
    | IceServers
    | rm.RelayServerMessage
)

CLIENT_TYPES: Mapping[str, type[ClientMessage]] = {
    cls.TYPE: cls for cls in typing.get_args(ClientMessage)
}
SERVER_TYPES: Mapping[str, type[ServerMessage]] = {
    cls.TYPE: cls for cls in typing.get_args(ServerMessage)
}

# -- Field rules: by field name, wherever the field appears ------------------------------

_MAX_LENGTH = dict(sdp=MAX_SDP, candidate=MAX_CANDIDATE, ref=MAX_REF, text=MAX_NOTES, sdp_mid=256)
_MAX_LENGTH["draft_text"] = MAX_NOTES
_MAX_LENGTH.update(rm.MAX_LENGTH)
_IDS = ("call_id", "to_user_id", "resume_call_id", "user_id", "device_id", "entry_id", "corrects")
_RANGE: dict[str, tuple[int, int | None]] = {
    **dict.fromkeys(_IDS, (1, MAX_ID)),
    "position": (1, None),
    "estimated_wait_s": (0, None),
    "waited_s": (0, None),
    "news2_score": (0, 20),
    "sdp_mline_index": (0, 1023),
    "ttl_s": (1, None),
    **rm.RANGE,
    **dict.fromkeys(("base", "revision", "draft_revision"), (0, None)),
}
_ONE_OF = {"state": CALL_STATES, "role": ROLES, "from_role": PARTY_ROLES, "level": SECURITY_LEVELS}
_DATETIME = {"requested_at", "written_at", "saved_at", "draft_saved_at"}
# Optional on the wire: left out when None (other None fields are sent as null).
_OMIT_IF_NONE = {"ref", "reason", "resume_call_id", "username", "credential"}

# -- parse and dump -------------------------------------------------------------------


def parse(text: str | bytes) -> ClientMessage:
    """Client text → one typed client message, or ProtocolError."""
    message: ClientMessage = _parse(text, CLIENT_TYPES)
    return message


def parse_server(text: str | bytes) -> ServerMessage:
    """Server text → one typed server message, or ProtocolError (for clients and tests)."""
    message: ServerMessage = _parse(text, SERVER_TYPES)
    return message


def dump(message: ServerMessage | ClientMessage) -> str:
    """Any message → compact JSON text."""
    body = _to_json(message, {"type": message.TYPE})
    return compact_json(body)


def _parse(text: str | bytes, registry: Mapping[str, type[Any]]) -> Any:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("bad_json", "message is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProtocolError(
            "bad_json", f"malformed JSON at line {e.lineno} column {e.colno}"
        ) from None
    except ValueError:  # an integer of more than 4300 digits
        raise ProtocolError("bad_json", "malformed JSON: a number is too long") from None
    except RecursionError:
        raise ProtocolError("bad_json", "malformed JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "message must be a JSON object")
    ref = _readable_ref(data["ref"]) if "ref" in data else None
    try:
        kind = data.get("type")
        if kind is None:
            raise ProtocolError("missing_field", "missing field 'type'")
        if not isinstance(kind, str):
            raise ProtocolError("bad_field", f"field 'type' must be a string, got {_kind(kind)}")
        cls = registry.get(kind)
        if cls is None:
            raise ProtocolError("unknown_type", f"unknown message type {_show(kind)}")
        values = _fields(cls, kind, "", data)
        if kind == "hello" and values["v"] != VERSION:
            raise ProtocolError(
                "unsupported_version",
                f"protocol version {values['v']} is not supported; use {VERSION}",
            )
        return _new(cls, values)
    except ProtocolError as err:
        err.ref = ref
        raise


def _readable_ref(value: object) -> str | None:
    """The client's ref, if valid, so that even an error about the rest can carry it."""
    try:
        ref: str | None = _REF_CHECK("", value, "ref")
    except ProtocolError:
        return None
    return ref


def _new(cls: type[Any], values: dict[str, Any]) -> Any:
    """``cls(**values)`` for checked values, without the dataclass's ``__init__``: a
    frozen dataclass's sets each field through ``object.__setattr__``, twice the cost of
    filling the instance's dict (which is all it does; ``_compile`` makes sure). Every
    field not sent takes its default."""
    message = object.__new__(cls)
    state = message.__dict__
    state.update(_DEFAULTS[cls])
    state.update(values)
    return message


def _fields(cls: type[Any], kind: str, prefix: str, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, wire, required, check, _ in _SPECS[cls]:
        if wire in data:
            values[name] = check(kind, data[wire], prefix + wire)
        elif required:
            raise ProtocolError("missing_field", f"missing field {prefix + wire!r} in {kind!r}")
    return values


def _to_json(obj: Any, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """``obj``'s fields as JSON values, added to ``body`` (a new dict by default)."""
    body = {} if body is None else body
    for name, wire, _required, _check, shape in _SPECS[type(obj)]:
        value = getattr(obj, name)
        if value is None:
            if name in _OMIT_IF_NONE:
                continue
        elif shape == _OBJECT:
            value = _to_json(value)
        elif shape == _OBJECTS:
            value = [_to_json(v) for v in value]
        body[wire] = value  # a tuple of plain values is a JSON list as it is
    return body


# What a field holds, for writing it out, decided once per dataclass from its type hints
# (asking each value whether it is a dataclass was about 7 % of the server's time on the
# signalling bench: relayed ICE candidates, queue snapshots): a bool, int, str or tuple
# of them; a nested object; a tuple of nested objects.
_PLAIN, _OBJECT, _OBJECTS = "plain", "object", "objects"


def _shape(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):  # X | None
        (inner,) = [a for a in args if a is not type(None)]
        return _shape(inner)
    if origin is tuple:
        return _OBJECTS if _shape(args[0]) == _OBJECT else _PLAIN
    return _OBJECT if dataclasses.is_dataclass(hint) and isinstance(hint, type) else _PLAIN


# -- field checkers, compiled once per dataclass from its type hints ------------------

# check(message type, value, where) -> the value to keep. ``where`` names the field in
# messages: "call_id", or "items[2].call_id" inside a list of objects.
Check = Callable[[str, Any, str], Any]


def _compile(cls: type[Any]) -> tuple[tuple[str, str, bool, Check, str], ...]:
    """(attribute, name on the wire, required, checker, shape) per field. A Python
    keyword cannot be a field name, so ``from_`` is ``from`` on the wire."""
    if "__post_init__" in vars(cls) or "__slots__" in vars(cls):
        raise TypeError(f"{cls.__name__}: _new builds messages from their fields alone")
    if any(f.default_factory is not dataclasses.MISSING for f in dataclasses.fields(cls)):
        raise TypeError(f"{cls.__name__}: give defaults as values (immutable, shared)")
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            f.name.removesuffix("_"),
            f.default is dataclasses.MISSING,
            _checker(f.name, hints[f.name]),
            _shape(hints[f.name]),
        )
        for f in dataclasses.fields(cls)
    )


def _checker(name: str, hint: Any, optional: bool = False) -> Check:
    """The checker for field ``name`` of type ``hint``, with the rules for that name.
    ``optional`` (``X | None``): null is let through. Each checker looks for null only
    once the value failed its type test, so the usual case costs nothing more."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):  # X | None
        (inner_hint,) = [a for a in args if a is not type(None)]
        return _checker(name, inner_hint, optional=True)
    if origin is Literal:
        return _string(name, optional, options=args)
    if origin is tuple:  # tuple[X, ...] is a JSON list
        return _list(_checker(name, args[0]), optional)
    if hint is bool:
        return _boolean(optional)
    if hint is int:
        return _integer(name, optional)
    if hint is str:
        return _string(name, optional, options=_ONE_OF.get(name))
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _object(hint, optional)
    raise TypeError(f"unsupported field type {hint!r}")  # pragma: no cover


def _bad(kind: str, where: str, problem: str) -> ProtocolError:
    return ProtocolError("bad_field", f"field {where!r} of {kind!r} {problem}")


def _boolean(optional: bool) -> Check:
    def check(kind: str, v: Any, where: str) -> bool | None:
        if not isinstance(v, bool):
            if v is None and optional:
                return None
            raise _bad(kind, where, f"must be true or false, got {_kind(v)}")
        return v

    return check


def _integer(name: str, optional: bool) -> Check:
    low, high = _RANGE.get(name, (None, None))
    too_low = {0: "must not be negative", 1: "must be positive"}.get(
        low or 0, f"must be at least {low}"
    )

    def check(kind: str, v: Any, where: str) -> int | None:
        if isinstance(v, bool) or not isinstance(v, int):
            if v is None and optional:
                return None
            raise _bad(kind, where, f"must be an integer, got {_kind(v)}")
        if low is not None and v < low:
            raise _bad(kind, where, f"{too_low}, got {v}")
        if high is not None and v > high:
            raise _bad(kind, where, f"must be at most {high}, got {v}")
        return v

    return check


def _string(name: str, optional: bool, options: tuple[str, ...] | None = None) -> Check:
    limit = _MAX_LENGTH.get(name)
    is_datetime = name in _DATETIME
    allowed = ""
    if options:
        quoted = [repr(o) for o in options]
        allowed = " or ".join(quoted) if len(quoted) == 2 else "one of " + ", ".join(quoted)

    def check(kind: str, v: Any, where: str) -> str | None:
        if not isinstance(v, str):
            if v is None and optional:
                return None
            raise _bad(kind, where, f"must be a string, got {_kind(v)}")
        if limit is not None and len(v) > limit:
            raise _bad(kind, where, f"is longer than {limit} characters")
        if options and v not in options:
            raise _bad(kind, where, f"must be {allowed}, got {_show(v)}")
        if not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # "\ud800": JSON allows it, UTF-8 cannot carry it
                raise _bad(kind, where, "contains an unpaired surrogate") from None
        if is_datetime:
            try:
                datetime.fromisoformat(v)
            except ValueError:
                raise _bad(kind, where, f"must be an ISO 8601 date-time, got {_show(v)}") from None
        return v

    return check


def _list(item: Check, optional: bool) -> Check:
    def check(kind: str, v: Any, where: str) -> tuple[Any, ...] | None:
        if not isinstance(v, list):
            if v is None and optional:
                return None
            raise _bad(kind, where, f"must be a list, got {_kind(v)}")
        return tuple(item(kind, x, f"{where}[{i}]") for i, x in enumerate(v))

    return check


def _object(cls: type[Any], optional: bool) -> Check:
    def check(kind: str, v: Any, where: str) -> Any:
        if not isinstance(v, dict):
            if v is None and optional:
                return None
            raise _bad(kind, where, f"must be an object, got {_kind(v)}")
        return _new(cls, _fields(cls, kind, where + ".", v))

    return check


_KINDS = {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}


def _kind(value: object) -> str:
    """A JSON value's kind, for messages: "got int"."""
    return "null" if value is None else _KINDS.get(type(value), type(value).__name__)


def _show(text: str) -> str:
    """A client-chosen string, quoted and cut short, for messages."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


_NESTED = (
    QueueItem,
    IceServer,
    nm.NoteItem,
    rm.KeyEnvelope,
    rm.RelaySlot,
    rm.Participant,
    rm.GuestItem,
)
_SPECS: dict[type[Any], tuple[tuple[str, str, bool, Check, str], ...]] = {
    cls: _compile(cls) for cls in (*CLIENT_TYPES.values(), *SERVER_TYPES.values(), *_NESTED)
}
_DEFAULTS: dict[type[Any], dict[str, Any]] = {
    cls: {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }
    for cls in _SPECS
}
_REF_CHECK = _string("ref", optional=False)
