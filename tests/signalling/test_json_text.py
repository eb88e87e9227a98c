"""The signalling's JSON writer: the same text ``json.dumps`` writes with the options
the protocol uses, from an encoder made once."""

from __future__ import annotations

import json

import pytest

from signalling.json_text import compact_json


def test_it_writes_what_json_dumps_writes_compact_with_non_ascii_kept() -> None:
    body = {
        "type": "note.entry",
        "text": 'Résidente calme — SpO₂ 93 %, "quoted"\n\u2028',
        "n": [1, 2.5, None, True, {"nested": []}],
        "big": 10**30,
    }
    expected = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    assert compact_json(body) == expected
    assert json.loads(compact_json(body)) == body


def test_a_value_json_cannot_write_is_refused() -> None:
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        compact_json({"bad": {1, 2}})


def test_it_can_be_used_again_and_again() -> None:
    """The encoder is kept between calls: nothing of one message leaks into the next."""
    assert compact_json({"a": 1}) == '{"a":1}'
    assert compact_json({"b": [2]}) == '{"b":[2]}'
