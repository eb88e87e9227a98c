"""Is a TURN server ready to serve? One real allocation with REST-secret credentials
(the way browsers authenticate to coturn), written out in STUN (RFC 8489 / 8656): an
Allocate, its 401 challenge (realm, nonce), the Allocate again with MESSAGE-INTEGRITY,
then a Refresh with lifetime 0 to give the relay back. A success means coturn listens
and its authentication threads answer, so tests wait for that instead of sleeping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import socket
import struct
import time

MAGIC = 0x2112A442
ALLOCATE, ALLOCATE_OK, REFRESH = 0x0003, 0x0103, 0x0004
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, LIFETIME = 0x0006, 0x0008, 0x0009, 0x000D
REALM, NONCE, REQUESTED_TRANSPORT = 0x0014, 0x0015, 0x0019
UDP = b"\x11\x00\x00\x00"


def _attr(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\x00" * (-len(value) % 4)


def _message(kind: int, attrs: list[tuple[int, bytes]], key: bytes | None = None) -> bytes:
    body = b"".join(_attr(k, v) for k, v in attrs)
    tid = os.urandom(12)
    if key is None:
        return struct.pack("!HHI", kind, len(body), MAGIC) + tid + body
    head = struct.pack("!HHI", kind, len(body) + 24, MAGIC) + tid  # length counts the MI
    mac = hmac.new(key, head + body, hashlib.sha1).digest()
    return head + body + _attr(MESSAGE_INTEGRITY, mac)


def _parse(data: bytes) -> tuple[int, dict[int, bytes]]:
    kind, length, _ = struct.unpack("!HHI", data[:8])
    attrs: dict[int, bytes] = {}
    at = 20
    while at + 4 <= 20 + length:
        k, n = struct.unpack("!HH", data[at : at + 4])
        attrs.setdefault(k, data[at + 4 : at + 4 + n])
        at += 4 + n + (-n % 4)
    return kind, attrs


def _ask(sock: socket.socket, message: bytes) -> tuple[int, dict[int, bytes]]:
    sock.send(message)
    return _parse(sock.recv(2048))


def allocates(port: int, secret: str, timeout_s: float = 1.0) -> bool:
    """One allocation on 127.0.0.1:``port``; False when the server does not (yet) answer
    or refuses, True when the relay was granted (and given back)."""
    username = f"{int(time.time()) + 600}:readiness-probe"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect(("127.0.0.1", port))
        try:
            kind, attrs = _ask(sock, _message(ALLOCATE, [(REQUESTED_TRANSPORT, UDP)]))
            if ERROR_CODE not in attrs or REALM not in attrs or NONCE not in attrs:
                return False
            realm, nonce = attrs[REALM], attrs[NONCE]
            key = hashlib.md5(username.encode() + b":" + realm + b":" + password).digest()  # noqa: S324 (RFC 8489)
            auth = [(USERNAME, username.encode()), (REALM, realm), (NONCE, nonce)]
            kind, _ = _ask(sock, _message(ALLOCATE, [(REQUESTED_TRANSPORT, UDP), *auth], key))
            if kind != ALLOCATE_OK:
                return False
            _ask(sock, _message(REFRESH, [(LIFETIME, struct.pack("!I", 0)), *auth], key))
            return True
        except (TimeoutError, ConnectionRefusedError):
            return False
