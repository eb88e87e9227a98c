"""Fuzzing the signalling parser (``signalling.protocol.parse``) with Hypothesis.

Whatever a client sends, ``parse`` returns a message of the type asked for or raises
``ProtocolError`` with a documented code and a short message for people; nothing else
escapes (docs/signalling.md, "Errors"). The inputs that find bugs are the *almost
valid* ones: a valid message of every client type (relay, e2ee and notes messages
included) with a field dropped, swapped for a hostile value (wrong type, huge,
negative, NaN, nested, unpaired surrogate, NUL, just over its length limit), an extra
field, or the JSON text cut or spliced. Valid messages of every type round-trip
through ``dump``, server messages too (``parse_server``).

The valid-value strategies below are written from docs/signalling.md, not read from
the parser's private tables, so a parser and a document that drift apart fail here.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from signalling import protocol as p
from signalling import relay_messages as rm
from tests.fuzz.profiles import examples

# docs/signalling.md, "Errors": the codes ``parse`` itself may raise.
PARSE_CODES = {"bad_json", "unknown_type", "missing_field", "bad_field", "unsupported_version"}
MAX_MESSAGE = 300  # an error echoes at most a short cut of what the client sent

CLIENT_CLASSES = sorted(p.CLIENT_TYPES.values(), key=lambda c: c.TYPE)
SERVER_CLASSES = sorted(p.SERVER_TYPES.values(), key=lambda c: c.TYPE)

# -- valid values, by field name (docs/signalling.md) ----------------------------------

IDS = ("call_id", "to_user_id", "resume_call_id", "user_id", "device_id", "entry_id", "corrects")
INT_RANGE: dict[str, tuple[int | None, int | None]] = {
    **dict.fromkeys(IDS, (1, p.MAX_ID)),
    "position": (1, None),
    "estimated_wait_s": (0, None),
    "waited_s": (0, None),
    "news2_score": (0, 20),
    "sdp_mline_index": (0, 1023),
    "ttl_s": (1, None),
    "kid": (0, rm.MAX_KID),
    "seat": (1, rm.MAX_KID),
    "base": (0, None),
    "revision": (0, None),
    "draft_revision": (0, None),
    "seq": (0, None),
}
MAX_LENGTH = {
    "sdp": p.MAX_SDP,
    "candidate": p.MAX_CANDIDATE,
    "ref": p.MAX_REF,
    "text": p.MAX_NOTES,
    "draft_text": p.MAX_NOTES,
    "sdp_mid": 256,
    **rm.MAX_LENGTH,
}
ONE_OF = {
    "state": p.CALL_STATES,
    "role": p.ROLES,
    "from_role": p.PARTY_ROLES,
    "level": p.SECURITY_LEVELS,
}
DATETIMES = {"requested_at", "written_at", "saved_at", "draft_saved_at"}


def at_length(n: int) -> st.SearchStrategy[str]:
    """A string of exactly ``n`` characters (quick to build even for 64 Ki)."""
    return st.characters(codec="utf-8").map(lambda c: c * n)


def valid_value(name: str, hint: Any) -> st.SearchStrategy[Any]:
    """Any value the protocol accepts for field ``name`` of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):  # X | None
        (inner,) = [a for a in args if a is not type(None)]
        return st.none() | valid_value(name, inner)
    if origin is Literal:
        return st.sampled_from(args)
    if origin is tuple:
        return st.lists(valid_value(name, args[0]), max_size=3).map(tuple)
    if hint is bool:
        return st.booleans()
    if hint is int:
        if name == "v":
            return st.just(p.VERSION)
        low, high = INT_RANGE.get(name, (None, None))
        return st.integers(low, high)
    if hint is str:
        if name in ONE_OF:
            return st.sampled_from(ONE_OF[name])
        if name in DATETIMES:
            return st.datetimes(timezones=st.none() | st.just(UTC)).map(datetime.isoformat)
        limit = MAX_LENGTH.get(name)
        text = st.text(st.characters(codec="utf-8"), max_size=min(limit or 80, 80))
        return text if limit is None else text | at_length(limit)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return valid_message(hint)
    raise TypeError(f"no strategy for {name}: {hint!r}")  # a new kind of field: add one


def valid_message(cls: type[Any]) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: valid_value(f.name, hints[f.name]) for f in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


# -- hostile values and almost-valid messages -----------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
edge_ints = st.sampled_from(
    [0, -1, 1, p.MAX_ID, p.MAX_ID + 1, rm.MAX_KID + 1, 2**63, -(2**63), 10**100, 1023, 1024]
)
surrogates = st.integers(0xD800, 0xDFFF).map(chr)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None, categories=None) | surrogates, max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud800", "\udfff x", "0", "1", "null", "true"]),
    # Around every length limit: at it is fine, one past it is refused.
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["a", "é", "😀", "\x00"]),
        st.sampled_from(sorted({n + d for n in MAX_LENGTH.values() for d in (0, 1)})),
    ),
)
hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    edge_ints,
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
    json_values,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), json_scalars, max_size=3),
)
type_names = st.one_of(
    st.sampled_from([c.TYPE for c in CLIENT_CLASSES] + [c.TYPE for c in SERVER_CLASSES]),
    st.text(max_size=30),
    st.sampled_from(["", "PING", "ping ", "call.", "__class__", "notes.open\x00"]),
)


def objects_in(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``body`` and every object nested in it (the e2ee envelope), to mutate one."""
    found = [body]
    for value in body.values():
        if isinstance(value, dict):
            found += objects_in(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    found += objects_in(item)
    return found


def near_valid_bodies(cls: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid ``cls`` message as JSON, then one to three mutations."""

    @st.composite
    def mutated(draw: st.DrawFn) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(p.dump(draw(valid_message(cls))))
        for _ in range(draw(st.integers(1, 3))):
            target = draw(st.sampled_from(objects_in(body)))
            action = draw(st.sampled_from(["drop", "replace", "replace", "extra", "type"]))
            keys = sorted(target)
            if action == "drop" and keys:
                del target[draw(st.sampled_from(keys))]
            elif action == "replace" and keys:
                key = draw(st.sampled_from(keys))
                if isinstance(target[key], dict) and draw(st.booleans()):
                    target[key] = sorted(target[key])  # an object's own keys, as a list
                else:
                    target[key] = draw(hostile_values)
            elif action == "extra":
                key = draw(st.text(max_size=12) | st.sampled_from(keys or ["x"]))
                target[key] = draw(hostile_values)
            else:
                body["type"] = draw(type_names | hostile_values)
        return body

    return mutated()


@st.composite
def wire_texts(draw: st.DrawFn, bodies: st.SearchStrategy[Any]) -> str | bytes:
    """``bodies`` as the socket would carry them: text or bytes, ASCII-escaped or not,
    sometimes cut short or with text spliced in."""
    text = json.dumps(draw(bodies), ensure_ascii=draw(st.booleans()), allow_nan=True)
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(text)))
        splice = draw(st.sampled_from(["", "}", "{", '"', "\\", "NaN", ",", "1" * 5000]))
        text = text[:at] + splice + text[at + draw(st.integers(0, 3)) :]
    if draw(st.booleans()):
        return text.encode("utf-8", "surrogatepass")  # unpaired surrogates: not UTF-8
    return text


def deep(depth: int) -> str:
    return '{"type": "ping", "x": ' + "[" * depth + "]" * depth + "}"


# -- the properties -------------------------------------------------------------------


def parse_or_refuse(wire: str | bytes, parser: Any = p.parse) -> Any:
    """Parse ``wire``; a refusal must be a ``ProtocolError`` fit to send back."""
    try:
        message = parser(wire)
    except p.ProtocolError as err:
        assert err.code in PARSE_CODES, err.code
        assert isinstance(err.message, str) and err.message.strip(), repr(err.message)
        assert len(err.message) <= MAX_MESSAGE, err.message
        assert err.ref is None or (isinstance(err.ref, str) and len(err.ref) <= p.MAX_REF)
        # The error goes back on the socket as UTF-8 text and reads back the same.
        reply = p.dump(err.reply())
        assert p.parse_server(reply.encode("utf-8")) == err.reply()
        return None
    return message


def assert_well_typed(value: Any, hint: Any, where: str) -> None:
    """``value`` is what the field's type hint says: an int is not a bool, a str is
    one UTF-8 can carry, a tuple holds what it should."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        (inner,) = [a for a in args if a is not type(None)]
        if value is not None:
            assert_well_typed(value, inner, where)
    elif origin is Literal:
        assert value in args, (where, value)
    elif origin is tuple:
        assert isinstance(value, tuple), (where, value)
        for i, item in enumerate(value):
            assert_well_typed(item, args[0], f"{where}[{i}]")
    elif dataclasses.is_dataclass(hint):
        assert type(value) is hint, (where, value)
        hints = typing.get_type_hints(hint)
        for f in dataclasses.fields(hint):
            assert_well_typed(getattr(value, f.name), hints[f.name], f"{where}.{f.name}")
    else:
        assert type(value) is hint, (where, value)
        if hint is str:
            value.encode("utf-8")


def assert_accepted_as_asked(wire: str | bytes, message: Any, registry: Any) -> None:
    """An accepted message is of the type asked for, well typed, and is what ``dump``
    writes back, as UTF-8 (so what the server relays is what it read)."""
    text = wire.decode("utf-8") if isinstance(wire, bytes) else wire
    asked = json.loads(text)["type"]
    assert isinstance(message, registry[asked]) and message.TYPE == asked
    assert_well_typed(message, type(message), asked)
    reparse = p.parse if registry is p.CLIENT_TYPES else p.parse_server
    assert reparse(p.dump(message).encode("utf-8")) == message


@settings(max_examples=examples(40))
@given(st.binary(max_size=200))
@example(b"\xff\xfe")
@example(b'{"type": "ping", "ref": "\xc3"}')
def test_any_bytes_are_parsed_or_refused(wire: bytes) -> None:
    parse_or_refuse(wire)


@settings(max_examples=examples(40))
@given(st.text(st.characters(codec=None, categories=None) | surrogates, max_size=200))
@example("NaN")
@example("1" * 5000)  # past Python's 4300-digit limit on int()
@example('"\\ud800"')
@example('{"type": "hello", "v": 1.0}')
@example('{"type": "call.claim", "call_id": true}')
@example('{"type": "call.claim", "call_id": NaN, "ref": "r1"}')
@example('{"type": "e2ee.key", "call_id": 1, "envelope": []}')
@example('{"type": "e2ee.key", "call_id": 1, "envelope": {"v": 1}}')
@example('{"type": "e2ee.key", "call_id": 1, "envelope": ["v", "call", "from", "to", "kid"]}')
@example('{"type": "\\ud800"}')
@example('{"type": "ping", "ref": "\\ud800"}')
@example(deep(100_000))
@example('{"type": ["ping"]}')
@example('{"type": "' + "t" * 400 + '"}')  # the message quotes a cut of it
@example('{"type": "nope", "ref": "' + "r" * 65 + '"}')  # a ref past 64 is not echoed
def test_any_text_is_parsed_or_refused(wire: str) -> None:
    message = parse_or_refuse(wire)
    if message is not None:
        assert_accepted_as_asked(wire, message, p.CLIENT_TYPES)


@settings(max_examples=examples(50))
@given(json_values | st.dictionaries(st.just("type") | st.text(max_size=5), json_values))
def test_any_json_value_is_parsed_or_refused(value: Any) -> None:
    wire = json.dumps(value, allow_nan=True)
    message = parse_or_refuse(wire)
    if message is not None:
        assert_accepted_as_asked(wire, message, p.CLIENT_TYPES)


def type_name(cls: type[Any]) -> str:
    return str(cls.TYPE)


@pytest.mark.parametrize("cls", CLIENT_CLASSES, ids=type_name)
@settings(max_examples=examples(10))
@given(data=st.data())
def test_almost_valid_messages_are_parsed_or_refused(cls: type[Any], data: st.DataObject) -> None:
    wire = data.draw(wire_texts(near_valid_bodies(cls)), label="wire")
    message = parse_or_refuse(wire)
    if message is not None:
        assert_accepted_as_asked(wire, message, p.CLIENT_TYPES)


@pytest.mark.parametrize("cls", CLIENT_CLASSES, ids=type_name)
@settings(max_examples=examples(4))
@given(data=st.data())
def test_valid_client_messages_round_trip(cls: type[Any], data: st.DataObject) -> None:
    message = data.draw(valid_message(cls), label="message")
    assert p.parse(p.dump(message)) == message
    assert p.parse(p.dump(message).encode("utf-8")) == message


@pytest.mark.parametrize("cls", SERVER_CLASSES, ids=type_name)
@settings(max_examples=examples(3))
@given(data=st.data())
def test_valid_server_messages_round_trip(cls: type[Any], data: st.DataObject) -> None:
    message = data.draw(valid_message(cls), label="message")
    assert p.parse_server(p.dump(message)) == message


@settings(max_examples=examples(40))
@given(st.sampled_from(SERVER_CLASSES).flatmap(lambda cls: wire_texts(near_valid_bodies(cls))))
def test_almost_valid_server_messages_are_parsed_or_refused(wire: str | bytes) -> None:
    """Clients (and the tests) read server messages with ``parse_server``: the same
    promise holds there."""
    message = parse_or_refuse(wire, p.parse_server)
    if message is not None:
        assert_accepted_as_asked(wire, message, p.SERVER_TYPES)
