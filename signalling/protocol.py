"""The signalling protocol, version 1 (prose in docs/signalling.md).

Every message is a JSON object with a ``type``. Each type is its own frozen
dataclass; ``parse`` turns client text into one of them and ``dump`` turns any of them
into text. Bad input raises ``ProtocolError`` with a stable ``code`` and a precise
``message`` (which the server sends back in an ``error`` message), e.g.
``missing field 'call_id' in 'call.claim'``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

VERSION = 1
MAX_SDP = 64 * 1024
MAX_CANDIDATE = 2 * 1024
MAX_REF = 64
MAX_NOTES = 20_000


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- client → server ------------------------------------------------------------------


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


@dataclass(frozen=True)
class CallMedia:
    TYPE: ClassVar[str] = "call.media"
    call_id: int
    mode: Literal["video", "audio"]
    ref: str | None = None


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
    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None
    ref: str | None = None


@dataclass(frozen=True)
class NotesSave:
    TYPE: ClassVar[str] = "notes.save"
    call_id: int
    text: str
    ref: str | None = None


ClientMessage = (
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
    | RtcOffer
    | RtcAnswer
    | RtcIce
    | NotesSave
)

# -- server → client ------------------------------------------------------------------


@dataclass(frozen=True)
class Pong:
    TYPE: ClassVar[str] = "pong"


@dataclass(frozen=True)
class Welcome:
    TYPE: ClassVar[str] = "welcome"
    v: int
    role: str
    user_id: int | None
    device_id: int | None
    name: str


@dataclass(frozen=True)
class Error:
    TYPE: ClassVar[str] = "error"
    code: str
    message: str
    ref: str | None = None


@dataclass(frozen=True)
class QueueItem:
    call_id: int
    home_name: str
    resident_name: str
    reason: str
    news2_score: int | None
    news2_band: str | None
    news2_missing: tuple[str, ...]
    state: str
    requested_at: str
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
    state: str
    position: int | None = None
    estimated_wait_s: int | None = None
    clinician_name: str | None = None


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
    event: Literal["joined", "left"]


@dataclass(frozen=True)
class NotesSaved:
    TYPE: ClassVar[str] = "notes.saved"
    call_id: int
    ref: str | None = None


@dataclass(frozen=True)
class CallMediaRelay:
    TYPE: ClassVar[str] = "call.media"
    call_id: int
    mode: str
    from_role: str


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


ServerMessage = (
    Pong
    | Welcome
    | Error
    | QueueSnapshot
    | CallState
    | CallClaimed
    | CallPeer
    | NotesSaved
    | CallMediaRelay
    | RtcOfferRelay
    | RtcAnswerRelay
    | RtcIceRelay
)

CLIENT_TYPES: dict[str, type[Any]] = {cls.TYPE: cls for cls in typing.get_args(ClientMessage)}
SERVER_TYPES: dict[str, type[Any]] = {cls.TYPE: cls for cls in typing.get_args(ServerMessage)}

# Length limits per field name (anything longer is refused with a precise message).
_MAX_LEN = {
    "sdp": MAX_SDP,
    "candidate": MAX_CANDIDATE,
    "ref": MAX_REF,
    "text": MAX_NOTES,
    "sdp_mid": 64,
}
_POSITIVE = {"call_id", "to_user_id", "resume_call_id", "user_id", "device_id"}


def parse(text: str | bytes) -> ClientMessage:
    """Client text → one typed message, or ProtocolError."""
    message: ClientMessage = _parse(text, CLIENT_TYPES)
    return message


def parse_server(text: str | bytes) -> ServerMessage:
    """Server text → one typed message (for clients and tests)."""
    message: ServerMessage = _parse(text, SERVER_TYPES)
    return message


def dump(message: ClientMessage | ServerMessage) -> str:
    body: dict[str, Any] = {"type": message.TYPE}
    for name, _required, _check in _spec(type(message)):
        value = getattr(message, name)
        if isinstance(value, tuple):  # nested items (queue snapshots)
            value = [_plain(v) for v in value]
        body[name] = value
    if body.get("ref") is None:
        body.pop("ref", None)
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _parse(text: str | bytes, registry: dict[str, type[Any]]) -> Any:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("bad_json", "message is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ProtocolError(
            "bad_json", f"malformed JSON at line {e.lineno} column {e.colno}: {e.msg}"
        ) from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_json", "message must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("missing_field", "missing field 'type'")
    cls = registry.get(kind)
    if cls is None:
        raise ProtocolError("unknown_type", f"unknown message type {kind[:40]!r}")
    return _build(cls, kind, data)


def _build(cls: type[Any], kind: str, data: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for name, required, check in _spec(cls):
        if name not in data:
            if required:
                raise ProtocolError("missing_field", f"missing field {name!r} in {kind!r}")
            continue
        values[name] = check(kind, data[name])
    if kind == "hello" and values["v"] != VERSION:
        raise ProtocolError(
            "unsupported_version", f"protocol version {values['v']} is not supported; use {VERSION}"
        )
    return cls(**values)


Check = Callable[[str, Any], Any]


def _spec(cls: type[Any]) -> tuple[tuple[str, bool, Check], ...]:
    return _SPECS[cls]


def _compile(cls: type[Any]) -> tuple[tuple[str, bool, Check], ...]:
    """(field, required, checker) per message class, compiled once from the type hints:
    this is the hot path of every relayed SDP and ICE message."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (f.name, f.default is dataclasses.MISSING, _checker(f.name, hints[f.name]))
        for f in dataclasses.fields(cls)
    )


def _checker(name: str, hint: Any) -> Check:
    origin, args = typing.get_origin(hint), typing.get_args(hint)

    def where(kind: str) -> str:
        return f"field {name!r} of {kind!r}"

    if origin in (types.UnionType, typing.Union):
        (inner_hint,) = [a for a in args if a is not type(None)]
        inner = _checker(name, inner_hint)
        return lambda kind, v: None if v is None else inner(kind, v)
    if origin is Literal:
        allowed = " or ".join(repr(a) for a in args)

        def literal(kind: str, v: Any) -> Any:
            if v not in args:
                raise ProtocolError("bad_field", f"{where(kind)} must be {allowed}, got {v!r}")
            return v

        return literal
    if origin is tuple:
        item = _checker(name, args[0])

        def items(kind: str, v: Any) -> Any:
            if not isinstance(v, list):
                raise ProtocolError("bad_field", f"{where(kind)} must be a list, got {_kind(v)}")
            return tuple(item(kind, x) for x in v)

        return items
    if hint is bool:

        def boolean(kind: str, v: Any) -> Any:
            if not isinstance(v, bool):
                raise ProtocolError(
                    "bad_field", f"{where(kind)} must be true or false, got {_kind(v)}"
                )
            return v

        return boolean
    if hint is int:
        positive = name in _POSITIVE

        def integer(kind: str, v: Any) -> Any:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ProtocolError(
                    "bad_field", f"{where(kind)} must be an integer, got {_kind(v)}"
                )
            if positive and v < 1:
                raise ProtocolError("bad_field", f"{where(kind)} must be positive, got {v}")
            if name == "sdp_mline_index" and not 0 <= v < 1024:
                raise ProtocolError("bad_field", f"{where(kind)} must be between 0 and 1023")
            return v

        return integer
    if hint is str:
        limit = _MAX_LEN.get(name)

        def string(kind: str, v: Any) -> Any:
            if not isinstance(v, str):
                raise ProtocolError("bad_field", f"{where(kind)} must be a string, got {_kind(v)}")
            if limit is not None and len(v) > limit:
                raise ProtocolError("bad_field", f"{where(kind)} is longer than {limit} characters")
            return v

        return string
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        nested = hint

        def obj(kind: str, v: Any) -> Any:
            if not isinstance(v, dict):
                raise ProtocolError("bad_field", f"{where(kind)} must be an object, got {_kind(v)}")
            return _build(nested, kind, v)

        return obj
    raise TypeError(f"unsupported field type {hint!r}")  # pragma: no cover


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _kind(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


_SPECS: dict[type[Any], tuple[tuple[str, bool, Check], ...]] = {
    cls: _compile(cls) for cls in (*CLIENT_TYPES.values(), *SERVER_TYPES.values(), QueueItem)
}
