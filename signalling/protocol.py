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
    body = {"type": message.TYPE, **dataclasses.asdict(message)}
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
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING:
                raise ProtocolError("missing_field", f"missing field {f.name!r} in {kind!r}")
            continue
        values[f.name] = _check(kind, f.name, data[f.name], hints[f.name])
    if kind == "hello" and values["v"] != VERSION:
        raise ProtocolError(
            "unsupported_version", f"protocol version {values['v']} is not supported; use {VERSION}"
        )
    return cls(**values)


def _check(kind: str, name: str, value: Any, hint: Any) -> Any:
    where = f"field {name!r} of {kind!r}"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _check(kind, name, value, inner)
    if origin is Literal:
        if value not in args:
            allowed = " or ".join(repr(a) for a in args)
            raise ProtocolError("bad_field", f"{where} must be {allowed}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ProtocolError("bad_field", f"{where} must be a list, got {_kind(value)}")
        return tuple(_check(kind, name, v, args[0]) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ProtocolError("bad_field", f"{where} must be true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError("bad_field", f"{where} must be an integer, got {_kind(value)}")
        if name in _POSITIVE and value < 1:
            raise ProtocolError("bad_field", f"{where} must be positive, got {value}")
        if name == "sdp_mline_index" and not 0 <= value < 1024:
            raise ProtocolError("bad_field", f"{where} must be between 0 and 1023")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ProtocolError("bad_field", f"{where} must be a string, got {_kind(value)}")
        limit = _MAX_LEN.get(name)
        if limit is not None and len(value) > limit:
            raise ProtocolError("bad_field", f"{where} is longer than {limit} characters")
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(value, dict):
            raise ProtocolError("bad_field", f"{where} must be an object, got {_kind(value)}")
        return _build(hint, kind, value)
    raise TypeError(f"unsupported field type {hint!r}")  # pragma: no cover


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
