"""The one reader of JSON request bodies, for every JSON API route.

A body is refused before it is parsed when it is too large (413) or nested deeper
than any telehub message needs (400): Python's parser recurses once per level, so a
few thousand ``[`` would otherwise end in a RecursionError and a 500. Bad UTF-8,
malformed JSON, over-long numbers and anything but an object are 400 with a message
saying which. The WebSocket protocol has its own parser (``signalling/protocol.py``)
with the same refusals.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32


def bad_body(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=message, content_type="text/plain")


async def json_object(
    request: web.Request, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> dict[str, Any]:
    """The request body as a JSON object, or an HTTP error (400/413) to be mapped by
    ``web.http.errors`` into the fixed error shape."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=request.content_length)
    raw = await request.read()  # a chunked body stops at the app's client_max_size
    if len(raw) > max_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=len(raw))
    return parse_json_object(raw, max_depth=max_depth)


def parse_json_object(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_body("the request body is not UTF-8 text") from None
    if nesting_depth(text) > max_depth:
        raise bad_body(f"the request body is nested too deeply (at most {max_depth} levels)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise bad_body(
            f"the request body is not valid JSON (line {e.lineno} column {e.colno})"
        ) from None
    except ValueError:  # an integer of more than 4300 digits
        raise bad_body("the request body is not valid JSON (a number is too long)") from None
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise bad_body("the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise bad_body("the request body must be a JSON object")
    return data


def nesting_depth(text: str) -> int:
    """The deepest ``[``/``{`` nesting in JSON text, not counting brackets in strings."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest
