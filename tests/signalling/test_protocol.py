"""The wire protocol: every message round-trips, every bad input has a precise error."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from signalling import note_messages as n
from signalling import protocol as p
from signalling import relay_messages as rm

ENVELOPE = rm.KeyEnvelope(
    v=1, call="7", from_="staff:3", to="guest:12", kid=2, iv="A" * 16, ct="B" * 43
)
CLIENT_SAMPLES: list[p.ClientMessage] = [
    p.Ping(),
    p.Ping(ref="r1"),
    p.Hello(v=1),
    p.Hello(v=1, resume_call_id=4, ref="h"),
    p.QueueSubscribe(ref="q"),
    p.CallClaim(call_id=7),
    p.CallRelease(call_id=7),
    p.CallTransfer(call_id=7, to_user_id=3),
    p.CallCancel(call_id=7),
    p.CallJoin(call_id=7),
    p.CallEnd(call_id=7, ref="bye"),
    p.CallMedia(call_id=7, mode="audio"),
    p.CallMedia(call_id=7, mode="video"),
    p.CallSecurity(call_id=7, level="direct"),
    p.CallSecurity(call_id=7, level="relay", ref="s"),
    p.RtcOffer(call_id=7, sdp="v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n"),
    p.RtcOffer(call_id=7, sdp="v=0", restart=True),
    p.RtcAnswer(call_id=7, sdp="v=0"),
    p.RtcIce(
        call_id=7,
        candidate="candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
        sdp_mid="0",
        sdp_mline_index=0,
    ),
    p.RtcIce(call_id=7, candidate="", sdp_mid=None, sdp_mline_index=None),  # end of candidates
    n.NotesOpen(call_id=7, ref="o"),
    n.NotesClose(call_id=7),
    n.NotesDraft(call_id=7, text="Chest clear. Zoë's daughter informed.", base=0),
    n.NotesDraft(call_id=7, text="", base=3, ref="d4"),
    n.NotesAdd(call_id=7, text="Chest clear.", base=3),
    n.NotesAdd(call_id=7, text="Late: GP will visit."),
    n.NotesCorrect(call_id=7, corrects=12, text="Left hip, not right.", ref="c"),
    rm.RelayJoin(call_id=7, ref="j"),
    rm.RelayAnswer(call_id=7, sdp="v=0"),
    rm.RelayAnswer(call_id=7, sdp="v=0", seat=3),
    rm.RelayLeave(call_id=7),
    rm.E2eeIdentity(call_id=7, public_key="B" + "A" * 86),
    rm.E2eeKey(call_id=7, envelope=ENVELOPE, ref="k1"),
    rm.E2eeUnsupported(call_id=7),
    rm.E2eeClear(call_id=7, clear=False, ref="c1"),
]

ITEM = p.QueueItem(
    call_id=1,
    home_name="Rose Court",
    resident_name="Edna Smith",
    reason="fall",
    news2_score=5,
    news2_band="medium",
    news2_missing=("pulse", "temperature"),
    state="waiting",
    requested_at="2026-03-02T10:00:00+00:00",
    waited_s=30,
    claimed_by=None,
)
SERVER_SAMPLES: list[p.ServerMessage] = [
    p.Pong(),
    p.Pong(ref="r1"),
    p.Welcome(v=1, role="device", user_id=None, device_id=3, name="Trolley"),
    p.Welcome(v=1, role="clinician", user_id=2, device_id=None, name="Cleo", ref="h"),
    p.Error(code="conflict", message="call 7 is already answered by Cleo"),
    p.Error(code="bad_json", message="message must be a JSON object", ref="r9"),
    p.QueueSnapshot(items=()),
    p.QueueSnapshot(
        items=(
            ITEM,
            dataclasses.replace(
                ITEM,
                call_id=2,
                news2_score=None,
                news2_band=None,
                news2_missing=(),
                state="answered",
                claimed_by="Cleo",
            ),
        )
    ),
    p.CallState(call_id=1, state="waiting", position=1, estimated_wait_s=60),
    p.CallState(call_id=1, state="cancelled", reason="cancelled by the care home"),
    p.CallState(call_id=1, state="answered", clinician_name="Cleo"),
    p.CallClaimed(call_id=1, ok=True, by_name="Cleo", ref="r4"),
    p.CallClaimed(call_id=1, ok=False),
    p.CallPeer(call_id=1, event="joined"),
    p.CallPeer(call_id=1, event="left"),
    n.NotesSnapshot(
        call_id=1,
        entries=(
            n.NoteItem(1, "Cleo Clinician", "2026-03-02T10:05:00+00:00", "Fell at 9.", None),
            n.NoteItem(2, "Cleo Clinician", "2026-03-02T10:09:00+00:00", "At 8.", 1),
        ),
        draft_text="Sats 94%",
        draft_revision=4,
        draft_saved_at="2026-03-02T10:10:00+00:00",
        ref="o",
    ),
    n.NotesSnapshot(call_id=1, entries=(), draft_text="", draft_revision=0, draft_saved_at=None),
    n.NotesEntry(
        call_id=1,
        entry_id=3,
        author_name="Cleo Clinician",
        written_at="2026-03-02T10:11:00+00:00",
        text="Zoë informed.",
        corrects=None,
    ),
    n.NotesAdded(call_id=1, entry_id=3, draft_revision=5, ref="a"),
    n.NotesAdded(call_id=1, entry_id=4, draft_revision=None),
    n.NotesDraftSaved(call_id=1, revision=5, saved_at="2026-03-02T10:11:00+00:00", ref="d"),
    n.NotesDraftConflict(
        call_id=1, revision=6, draft_text="typed in another tab", saved_at=None, ref="d"
    ),
    p.CallMediaRelay(call_id=1, mode="audio", from_role="device"),
    p.CallSecurityState(call_id=1, level="relay", changed=True),
    p.CallSecurityState(call_id=1, level="direct", changed=False, ref="s"),
    p.RtcOfferRelay(call_id=1, sdp="v=0", restart=True, from_role="clinician"),
    p.RtcAnswerRelay(call_id=1, sdp="v=0", from_role="device"),
    p.RtcIceRelay(call_id=1, candidate="c", sdp_mid="0", sdp_mline_index=0, from_role="device"),
    p.RtcIceRelay(
        call_id=1, candidate="", sdp_mid=None, sdp_mline_index=None, from_role="clinician"
    ),
    p.IceServers(
        ice_servers=(
            p.IceServer(urls=("stun:turn.example:3478",)),
            p.IceServer(
                urls=("turn:turn.example:3478?transport=udp", "turns:turn.example:443"),
                username="1767229200:device-3",
                credential="52x0vwWqVEBK91sXLnn/AVxMC/Q=",
            ),
        ),
        ttl_s=3600,
    ),
    rm.RelayOffer(
        call_id=7,
        seat=2,
        sdp="v=0",
        slots=(rm.RelaySlot(mid="2", participant="device:4", kind="video"),),
    ),
    rm.E2eeRoster(
        call_id=7,
        participants=(
            rm.Participant(
                participant="staff:3", name="Dr Ada Khan", role="clinician", public_key=None
            ),
            rm.Participant(participant="guest:12", name="Sam", role="family", public_key="B" * 87),
        ),
    ),
    rm.E2eeKeyDelivery(call_id=7, envelope=ENVELOPE),
    rm.E2eeUnsupportedNotice(call_id=7, participant="guest:12"),
    rm.E2eeClearState(call_id=7, clear=True),
    rm.RelayLost(call_id=7, seat=2),
    rm.CallMediaRoute(call_id=7, route="relay"),
    rm.CallGuests(
        call_id=7,
        guests=(rm.GuestItem(participant="guest:12", name="Sam", role="family", state="waiting"),),
    ),
]


def test_every_message_type_has_a_sample() -> None:
    assert {type(m) for m in CLIENT_SAMPLES} == set(typing.get_args(p.ClientMessage))
    assert {type(m) for m in SERVER_SAMPLES} == set(typing.get_args(p.ServerMessage))


@pytest.mark.parametrize("message", CLIENT_SAMPLES, ids=lambda m: m.TYPE)
def test_client_messages_round_trip(message: p.ClientMessage) -> None:
    text = p.dump(message)
    assert p.parse(text) == message
    assert p.parse(text.encode()) == message  # a binary frame carries the same


@pytest.mark.parametrize("message", SERVER_SAMPLES, ids=lambda m: m.TYPE)
def test_server_messages_round_trip(message: p.ServerMessage) -> None:
    assert p.parse_server(p.dump(message)) == message


def test_types_are_unique_per_direction() -> None:
    assert len(p.CLIENT_TYPES) == len(typing.get_args(p.ClientMessage))
    assert len(p.SERVER_TYPES) == len(typing.get_args(p.ServerMessage))


# -- the exact wire format ------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "wire"),
    [
        (p.Ping(), {"type": "ping"}),
        (p.Hello(v=1), {"type": "hello", "v": 1}),
        (
            p.RtcIce(call_id=2, candidate="x", sdp_mid="0", sdp_mline_index=1, ref="a"),
            {
                "type": "rtc.ice",
                "call_id": 2,
                "candidate": "x",
                "sdp_mid": "0",
                "sdp_mline_index": 1,
                "ref": "a",
            },
        ),
        (
            p.CallState(call_id=3, state="waiting", position=2, estimated_wait_s=90, seq=4),
            {
                "type": "call.state",
                "call_id": 3,
                "state": "waiting",
                "position": 2,
                "estimated_wait_s": 90,
                "clinician_name": None,
                "seq": 4,
            },
        ),
        (
            p.Error(code="conflict", message="m"),
            {"type": "error", "code": "conflict", "message": "m"},
        ),
        (
            p.QueueSnapshot(items=(ITEM,)),
            {
                "type": "queue.snapshot",
                "items": [
                    {
                        "call_id": 1,
                        "home_name": "Rose Court",
                        "resident_name": "Edna Smith",
                        "reason": "fall",
                        "news2_score": 5,
                        "news2_band": "medium",
                        "news2_missing": ["pulse", "temperature"],
                        "state": "waiting",
                        "requested_at": "2026-03-02T10:00:00+00:00",
                        "waited_s": 30,
                        "claimed_by": None,
                    }
                ],
            },
        ),
        (
            p.IceServers(ice_servers=(p.IceServer(urls=("stun:s",)),), ttl_s=60),
            {"type": "ice.servers", "ice_servers": [{"urls": ["stun:s"]}], "ttl_s": 60},
        ),
    ],
    ids=lambda v: v.TYPE if hasattr(v, "TYPE") else "",
)
def test_wire_format_is_flat_snake_case_json(
    message: p.ServerMessage | p.ClientMessage, wire: object
) -> None:
    """Optional fields (ref, reason, resume_call_id, username, credential) are left out
    when unset; other empty fields are sent as null."""
    assert p.dump(message) == json.dumps(wire, separators=(",", ":"))  # compact, type first


def test_non_ascii_text_is_sent_as_is() -> None:
    assert p.dump(n.NotesDraft(call_id=1, text="Zoë", base=0)) == (
        '{"type":"notes.draft","call_id":1,"text":"Zoë","base":0}'
    )


# -- bad input: precise messages --------------------------------------------------------

LONG_SDP = "v" * (p.MAX_SDP + 1)


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        # not a message at all
        ("{nope", "bad_json", "malformed JSON at line 1 column 2"),
        ('{"type": "ping",\n  "ref": }', "bad_json", "malformed JSON at line 2 column 10"),
        ("", "bad_json", "malformed JSON at line 1 column 1"),
        ("[1, 2]", "bad_json", "message must be a JSON object"),
        ('"ping"', "bad_json", "message must be a JSON object"),
        ("null", "bad_json", "message must be a JSON object"),
        (b"\xff\xfe", "bad_json", "message is not UTF-8 text"),
        ('{"type": "ping", "n": ' + "9" * 5000 + "}", "bad_json",
         "malformed JSON: a number is too long"),
        ("[" * 100_000 + "]" * 100_000, "bad_json", "malformed JSON: nested too deeply"),
        # the type
        ("{}", "missing_field", "missing field 'type'"),
        ('{"type": 5}', "bad_field", "field 'type' must be a string, got int"),
        ('{"type": "teleport"}', "unknown_type", "unknown message type 'teleport'"),
        ('{"type": "' + "x" * 100 + '"}', "unknown_type",
         "unknown message type '" + "x" * 40 + "…'"),
        ('{"type": "queue.snapshot", "items": []}', "unknown_type",
         "unknown message type 'queue.snapshot'"),  # server to client only
        # missing and wrong-typed fields
        ('{"type": "call.claim"}', "missing_field", "missing field 'call_id' in 'call.claim'"),
        ('{"type": "call.transfer", "call_id": 1}', "missing_field",
         "missing field 'to_user_id' in 'call.transfer'"),
        ('{"type": "call.claim", "call_id": "7"}', "bad_field",
         "field 'call_id' of 'call.claim' must be an integer, got string"),
        ('{"type": "call.claim", "call_id": true}', "bad_field",
         "field 'call_id' of 'call.claim' must be an integer, got bool"),
        ('{"type": "call.claim", "call_id": 7.0}', "bad_field",
         "field 'call_id' of 'call.claim' must be an integer, got float"),
        ('{"type": "call.claim", "call_id": null}', "bad_field",
         "field 'call_id' of 'call.claim' must be an integer, got null"),
        ('{"type": "call.claim", "call_id": 0}', "bad_field",
         "field 'call_id' of 'call.claim' must be positive, got 0"),
        ('{"type": "call.transfer", "call_id": 1, "to_user_id": -3}', "bad_field",
         "field 'to_user_id' of 'call.transfer' must be positive, got -3"),
        ('{"type": "call.end", "call_id": 2147483648}', "bad_field",
         "field 'call_id' of 'call.end' must be at most 2147483647, got 2147483648"),
        ('{"type": "rtc.offer", "call_id": 1, "sdp": 5}', "bad_field",
         "field 'sdp' of 'rtc.offer' must be a string, got int"),
        ('{"type": "rtc.offer", "call_id": 1}', "missing_field",
         "missing field 'sdp' in 'rtc.offer'"),
        ('{"type": "rtc.offer", "call_id": 1, "sdp": "x", "restart": "yes"}', "bad_field",
         "field 'restart' of 'rtc.offer' must be true or false, got string"),
        ('{"type": "rtc.offer", "call_id": 1, "sdp": "x", "restart": 1}', "bad_field",
         "field 'restart' of 'rtc.offer' must be true or false, got int"),
        ('{"type": "rtc.ice", "call_id": 1, "candidate": null}', "bad_field",
         "field 'candidate' of 'rtc.ice' must be a string, got null"),
        ('{"type": "rtc.ice", "call_id": 1, "candidate": "", "sdp_mline_index": -1}',
         "bad_field", "field 'sdp_mline_index' of 'rtc.ice' must not be negative, got -1"),
        ('{"type": "rtc.ice", "call_id": 1, "candidate": "", "sdp_mid": 0}', "bad_field",
         "field 'sdp_mid' of 'rtc.ice' must be a string, got int"),
        ('{"type": "call.media", "call_id": 1, "mode": "smell"}', "bad_field",
         "field 'mode' of 'call.media' must be 'video' or 'audio', got 'smell'"),
        ('{"type": "call.media", "call_id": 1, "mode": ["video"]}', "bad_field",
         "field 'mode' of 'call.media' must be a string, got list"),
        ('{"type": "notes.draft", "call_id": 1, "text": {"a": 1}, "base": 0}', "bad_field",
         "field 'text' of 'notes.draft' must be a string, got object"),
        ('{"type": "notes.add", "call_id": 1, "text": "\\ud800"}', "bad_field",
         "field 'text' of 'notes.add' contains an unpaired surrogate"),
        ('{"type": "notes.draft", "call_id": 1, "text": "x"}', "missing_field",
         "missing field 'base' in 'notes.draft'"),
        ('{"type": "notes.draft", "call_id": 1, "text": "x", "base": -1}', "bad_field",
         "field 'base' of 'notes.draft' must not be negative, got -1"),
        ('{"type": "notes.correct", "call_id": 1, "text": "x", "corrects": 0}', "bad_field",
         "field 'corrects' of 'notes.correct' must be positive, got 0"),
        ('{"type": "notes.correct", "call_id": 1, "text": "x"}', "missing_field",
         "missing field 'corrects' in 'notes.correct'"),
        ('{"type": "notes.save", "call_id": 1, "text": "x"}', "unknown_type",
         "unknown message type 'notes.save'"),
        # sizes
        (json.dumps({"type": "rtc.offer", "call_id": 1, "sdp": LONG_SDP}), "bad_field",
         "field 'sdp' of 'rtc.offer' is longer than 65536 characters"),
        (json.dumps({"type": "rtc.answer", "call_id": 1, "sdp": LONG_SDP}), "bad_field",
         "field 'sdp' of 'rtc.answer' is longer than 65536 characters"),
        (json.dumps({"type": "rtc.ice", "call_id": 1, "candidate": "c" * 2049}), "bad_field",
         "field 'candidate' of 'rtc.ice' is longer than 2048 characters"),
        (json.dumps({"type": "notes.draft", "call_id": 1, "text": "n" * 20_001, "base": 0}),
         "bad_field", "field 'text' of 'notes.draft' is longer than 20000 characters"),
        (json.dumps({"type": "notes.add", "call_id": 1, "text": "n" * 20_001}), "bad_field",
         "field 'text' of 'notes.add' is longer than 20000 characters"),
        # ref
        ('{"type": "ping", "ref": "' + "r" * 65 + '"}', "bad_field",
         "field 'ref' of 'ping' is longer than 64 characters"),
        ('{"type": "ping", "ref": 12}', "bad_field",
         "field 'ref' of 'ping' must be a string, got int"),
        # version
        ('{"type": "hello", "v": 2}', "unsupported_version",
         "protocol version 2 is not supported; use 1"),
        ('{"type": "hello", "v": 0, "resume_call_id": 3}', "unsupported_version",
         "protocol version 0 is not supported; use 1"),
        ('{"type": "hello", "v": "1"}', "bad_field",
         "field 'v' of 'hello' must be an integer, got string"),
        ('{"type": "hello"}', "missing_field", "missing field 'v' in 'hello'"),
        ('{"type": "hello", "v": 1, "resume_call_id": 0}', "bad_field",
         "field 'resume_call_id' of 'hello' must be positive, got 0"),
    ],
)  # fmt: skip
def test_bad_input_precise_errors(raw: str | bytes, code: str, message: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse(raw)
    assert (err.value.code, err.value.message) == (code, message)
    assert str(err.value) == message


def test_limits_are_inclusive() -> None:
    assert p.parse(json.dumps({"type": "rtc.offer", "call_id": 1, "sdp": "v" * p.MAX_SDP}))
    assert p.parse(json.dumps({"type": "rtc.ice", "call_id": 1, "candidate": "c" * 2048}))
    assert p.parse(json.dumps({"type": "notes.add", "call_id": 1, "text": "n" * 20_000}))
    assert p.parse(json.dumps({"type": "ping", "ref": "r" * 64}))
    assert p.parse(json.dumps({"type": "call.end", "call_id": p.MAX_ID}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"type": "call.claim", "ref": "r7"}', "missing field 'call_id' in 'call.claim'"),
        ('{"type": "teleport", "ref": "r7"}', "unknown message type 'teleport'"),
        ('{"type": "hello", "v": 9, "ref": "r7"}', "protocol version 9 is not supported; use 1"),
        ('{"ref": "r7"}', "missing field 'type'"),
    ],
)
def test_errors_carry_the_clients_ref_when_it_is_readable(raw: str, message: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse(raw)
    assert err.value.ref == "r7"
    assert err.value.reply() == p.Error(code=err.value.code, message=message, ref="r7")
    assert json.loads(p.dump(err.value.reply()))["ref"] == "r7"


@pytest.mark.parametrize(
    "raw",
    ['{"type": "call.claim", "ref": 5}', '{"type": "call.claim", "ref": "' + "r" * 65 + '"}'],
)
def test_an_unreadable_ref_is_not_echoed(raw: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse(raw)
    assert err.value.ref is None
    assert "ref" not in json.loads(p.dump(err.value.reply()))


def test_unknown_fields_are_ignored() -> None:
    """A newer client may send fields this server does not know yet."""
    raw = '{"type": "call.claim", "call_id": 3, "priority": "high", "ref": "x"}'
    assert p.parse(raw) == p.CallClaim(call_id=3, ref="x")


def test_optional_fields_may_be_null_or_absent() -> None:
    assert p.parse('{"type": "rtc.ice", "call_id": 1, "candidate": ""}') == p.RtcIce(
        call_id=1, candidate=""
    )
    assert p.parse('{"type": "hello", "v": 1, "resume_call_id": null, "ref": null}') == p.Hello(v=1)
    offer = p.parse('{"type": "rtc.offer", "call_id": 1, "sdp": "v=0"}')
    assert offer == p.RtcOffer(call_id=1, sdp="v=0", restart=False)


def test_a_parsed_message_is_the_one_its_constructor_makes() -> None:
    """parse builds messages without their __init__ (protocol._new): the same value,
    hash and repr, and just as frozen."""
    parsed = p.parse('{"type": "call.media", "call_id": 3, "mode": "audio"}')
    made = p.CallMedia(call_id=3, mode="audio")
    assert isinstance(parsed, p.CallMedia)
    assert (parsed, hash(parsed), repr(parsed)) == (made, hash(made), repr(made))
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.muted = True  # type: ignore[misc]


def test_a_message_class_parse_could_not_build_is_refused() -> None:
    """A message whose __init__ does more than set its fields would be built wrongly
    without it: the checker compiler refuses it, and defaults made by a factory."""

    @dataclasses.dataclass(frozen=True)
    class Derived:
        TYPE: typing.ClassVar[str] = "derived"
        a: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True)
    class Listed:
        TYPE: typing.ClassVar[str] = "listed"
        items: tuple[int, ...] = dataclasses.field(default_factory=tuple)

    for cls in (Derived, Listed):
        with pytest.raises(TypeError, match=cls.__name__):
            p._compile(cls)


# -- server messages are checked just as strictly (for clients and tests) ----------------


@pytest.mark.parametrize(
    ("message", "change", "code", "error"),
    [
        (p.QueueSnapshot(items=(ITEM,)), {"items": [{"call_id": 1}]}, "missing_field",
         "missing field 'items[0].home_name' in 'queue.snapshot'"),
        (p.QueueSnapshot(items=(ITEM, ITEM)), {"items": [dataclasses.asdict(ITEM), 7]},
         "bad_field", "field 'items[1]' of 'queue.snapshot' must be an object, got int"),
        (p.QueueSnapshot(items=(ITEM,)),
         {"items": [dataclasses.asdict(ITEM) | {"news2_missing": ["pulse", 3]}]},
         "bad_field", "field 'items[0].news2_missing[1]' of 'queue.snapshot' must be a string, "
         "got int"),
        (p.QueueSnapshot(items=(ITEM,)),
         {"items": [dataclasses.asdict(ITEM) | {"requested_at": "yesterday"}]}, "bad_field",
         "field 'items[0].requested_at' of 'queue.snapshot' must be an ISO 8601 date-time, "
         "got 'yesterday'"),
        (p.QueueSnapshot(items=(ITEM,)), {"items": {}}, "bad_field",
         "field 'items' of 'queue.snapshot' must be a list, got object"),
        (p.CallState(call_id=1, state="waiting"), {"state": "ringing"}, "bad_field",
         "field 'state' of 'call.state' must be one of 'requested', 'waiting', 'answered', "
         "'in_call', 'ended', 'cancelled', 'abandoned', got 'ringing'"),
        (p.CallState(call_id=1, state="waiting"), {"position": 0}, "bad_field",
         "field 'position' of 'call.state' must be positive, got 0"),
        (p.Welcome(v=1, role="device", user_id=None, device_id=3, name="T"), {"role": "root"},
         "bad_field", "field 'role' of 'welcome' must be one of 'clinician', 'manager', "
         "'admin', 'device', 'guest', got 'root'"),
        (p.RtcAnswerRelay(call_id=1, sdp="v=0", from_role="device"), {"from_role": "admin"},
         "bad_field", "field 'from_role' of 'rtc.answer' must be 'clinician' or 'device', "
         "got 'admin'"),
        (p.CallPeer(call_id=1, event="joined"), {"event": "waved"}, "bad_field",
         "field 'event' of 'call.peer' must be 'joined' or 'left', got 'waved'"),
        (p.IceServers(ice_servers=(), ttl_s=60),
         {"ice_servers": [{"urls": ["turn:t", 5]}]}, "bad_field",
         "field 'ice_servers[0].urls[1]' of 'ice.servers' must be a string, got int"),
        (p.IceServers(ice_servers=(), ttl_s=60), {"ttl_s": 0}, "bad_field",
         "field 'ttl_s' of 'ice.servers' must be positive, got 0"),
        (p.Pong(), {"type": "call.claim", "call_id": 1}, "unknown_type",
         "unknown message type 'call.claim'"),  # client to server only
    ],
)  # fmt: skip
def test_bad_server_messages_precise_errors(
    message: p.ServerMessage, change: dict[str, object], code: str, error: str
) -> None:
    raw = json.dumps(json.loads(p.dump(message)) | change)
    with pytest.raises(p.ProtocolError) as err:
        p.parse_server(raw)
    assert (err.value.code, err.value.message) == (code, error)


# -- the types themselves -------------------------------------------------------------------


def test_messages_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.CallClaim(call_id=1).call_id = 2  # type: ignore[misc]


def test_every_message_type_is_its_own_dataclass() -> None:
    every = [*p.CLIENT_TYPES.values(), *p.SERVER_TYPES.values()]
    assert all(dataclasses.is_dataclass(cls) for cls in every)
    assert all(cls.__dataclass_params__.frozen for cls in every)  # type: ignore[attr-defined]
    # The relayed forms are separate types from what the client sent.
    assert p.SERVER_TYPES["rtc.offer"] is p.RtcOfferRelay
    assert p.CLIENT_TYPES["rtc.offer"] is p.RtcOffer
