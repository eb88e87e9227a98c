"""The wire protocol: every message round-trips, every bad input has a precise error."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from signalling import protocol as p

SAMPLES: list[p.ClientMessage] = [
    p.Ping(),
    p.Hello(v=1, resume_call_id=4),
    p.QueueSubscribe(ref="q"),
    p.CallClaim(call_id=7),
    p.CallRelease(call_id=7),
    p.CallTransfer(call_id=7, to_user_id=3),
    p.CallCancel(call_id=7),
    p.CallJoin(call_id=7),
    p.CallEnd(call_id=7),
    p.CallMedia(call_id=7, mode="audio"),
    p.RtcOffer(call_id=7, sdp="v=0", restart=True),
    p.RtcAnswer(call_id=7, sdp="v=0"),
    p.RtcIce(call_id=7, candidate="", sdp_mid=None, sdp_mline_index=None),
    p.NotesSave(call_id=7, text="Chest clear"),
]


def test_every_client_type_has_a_sample() -> None:
    assert {type(m) for m in SAMPLES} == set(typing.get_args(p.ClientMessage))


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: m.TYPE)
def test_client_messages_round_trip(message: p.ClientMessage) -> None:
    assert p.parse(p.dump(message)) == message


def test_server_messages_round_trip() -> None:
    item = p.QueueItem(
        call_id=1,
        home_name="Rose Court",
        resident_name="Edna Smith",
        reason="fall",
        news2_score=5,
        news2_band="medium",
        news2_missing=("pulse",),
        state="waiting",
        requested_at="2026-03-02T10:00:00+00:00",
        waited_s=30,
        claimed_by=None,
    )
    for message in (
        p.Pong(),
        p.QueueSnapshot(items=(item,)),
        p.CallState(call_id=1, state="waiting", position=1, estimated_wait_s=60),
        p.CallClaimed(call_id=1, ok=False, by_name="Cleo", ref="r1"),
        p.Error(code="conflict", message="m", ref=None),
        p.RtcIceRelay(call_id=1, candidate="c", sdp_mid="0", sdp_mline_index=0, from_role="device"),
        p.Welcome(v=1, role="device", user_id=None, device_id=3, name="T"),
    ):
        assert p.parse_server(p.dump(message)) == message


def test_wire_format_is_flat_snake_case_json() -> None:
    assert json.loads(
        p.dump(p.RtcIce(call_id=2, candidate="x", sdp_mid="0", sdp_mline_index=1, ref="a"))
    ) == {
        "type": "rtc.ice",
        "call_id": 2,
        "candidate": "x",
        "sdp_mid": "0",
        "sdp_mline_index": 1,
        "ref": "a",
    }
    assert "ref" not in json.loads(p.dump(p.Ping()))


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("{nope", "bad_json", "malformed JSON at line 1 column 2"),
        ("[1, 2]", "bad_json", "message must be a JSON object"),
        ('"ping"', "bad_json", "message must be a JSON object"),
        ("{}", "missing_field", "missing field 'type'"),
        ('{"type": "teleport"}', "unknown_type", "unknown message type 'teleport'"),
        ('{"type": "call.claim"}', "missing_field", "missing field 'call_id' in 'call.claim'"),
        (
            '{"type": "call.claim", "call_id": "7"}',
            "bad_field",
            "field 'call_id' of 'call.claim' must be an integer, got string",
        ),
        (
            '{"type": "call.claim", "call_id": true}',
            "bad_field",
            "field 'call_id' of 'call.claim' must be an integer, got boolean",
        ),
        (
            '{"type": "call.claim", "call_id": 0}',
            "bad_field",
            "field 'call_id' of 'call.claim' must be positive, got 0",
        ),
        (
            '{"type": "rtc.offer", "call_id": 1, "sdp": 5}',
            "bad_field",
            "field 'sdp' of 'rtc.offer' must be a string, got integer",
        ),
        (
            '{"type": "rtc.offer", "call_id": 1, "sdp": "x", "restart": "yes"}',
            "bad_field",
            "field 'restart' of 'rtc.offer' must be true or false, got string",
        ),
        (
            '{"type": "call.media", "call_id": 1, "mode": "smell"}',
            "bad_field",
            "field 'mode' of 'call.media' must be 'video' or 'audio', got 'smell'",
        ),
        (
            '{"type": "ping", "ref": "' + "r" * 65 + '"}',
            "bad_field",
            "field 'ref' of 'ping' is longer than 64 characters",
        ),
        (
            '{"type": "hello", "v": 2}',
            "unsupported_version",
            "protocol version 2 is not supported; use 1",
        ),
        (b"\xff\xfe", "bad_json", "message is not UTF-8 text"),
    ],
)
def test_bad_input_precise_errors(raw: str | bytes, code: str, message: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse(raw)
    assert err.value.code == code
    assert err.value.message.startswith(message)


def test_oversized_sdp_is_refused() -> None:
    raw = json.dumps({"type": "rtc.offer", "call_id": 1, "sdp": "x" * (p.MAX_SDP + 1)})
    with pytest.raises(p.ProtocolError, match="longer than 65536 characters"):
        p.parse(raw)


def test_messages_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.CallClaim(call_id=1).call_id = 2  # type: ignore[misc]


def test_server_only_types_are_not_accepted_from_clients() -> None:
    with pytest.raises(p.ProtocolError, match=r"unknown message type 'queue\.snapshot'"):
        p.parse('{"type": "queue.snapshot", "items": []}')
