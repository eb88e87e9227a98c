"""Messages as compact JSON text, from one encoder made once.

``json.dumps`` with options builds a ``JSONEncoder`` for every call, and
``JSONEncoder.encode`` builds its C encoder for every call: 1.7 µs to write a relayed
ICE candidate, against 0.9 µs with the C encoder made once and kept — a few per cent
of relaying one (tests/bench/bench_signalling.py). A message is a tree of dicts, lists
and plain values, so the encoder's check for circular references is left out.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

__all__ = ["compact_json"]


def _refuse(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _make() -> Callable[[dict[str, Any]], str]:
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # a Python built without the json accelerator
        return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    chunks = make(None, _refuse, json.encoder.encode_basestring, None, ":", ",", False, False, True)

    def encode(body: dict[str, Any]) -> str:
        return "".join(chunks(body, 0))

    return encode


compact_json: Callable[[dict[str, Any]], str] = _make()
"""A message body (a dict of JSON values) as JSON text without spaces, non-ASCII kept."""
