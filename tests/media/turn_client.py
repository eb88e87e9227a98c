"""A minimal TURN client (RFC 5389/5766 long-term credentials) for testing coturn.

Just enough to allocate a relay and ask for a permission, so tests can see exactly
what coturn answers (success, 401, 403) instead of parsing a tool's output.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass

MAGIC = 0x2112A442
ALLOCATE, CREATE_PERMISSION = 0x0003, 0x0008
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
XOR_PEER_ADDRESS, REQUESTED_TRANSPORT, XOR_RELAYED_ADDRESS = 0x0012, 0x0019, 0x0016


@dataclass
class Response:
    success: bool
    error: int | None
    attrs: dict[int, bytes]


def _attr(kind: int, value: bytes) -> bytes:
    pad = (4 - len(value) % 4) % 4
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * pad


def _message(method: int, tid: bytes, attrs: bytes, key: bytes | None) -> bytes:
    if key is None:
        return struct.pack("!HHI", method, len(attrs), MAGIC) + tid + attrs
    # MESSAGE-INTEGRITY covers the header with a length that already counts itself.
    header = struct.pack("!HHI", method, len(attrs) + 24, MAGIC) + tid
    mac = hmac.new(key, header + attrs, hashlib.sha1).digest()
    return header + attrs + _attr(MESSAGE_INTEGRITY, mac)


def _parse(data: bytes) -> Response:
    kind, length, _magic = struct.unpack("!HHI", data[:8])
    attrs: dict[int, bytes] = {}
    pos = 20
    while pos < 20 + length:
        a_type, a_len = struct.unpack("!HH", data[pos : pos + 4])
        attrs[a_type] = data[pos + 4 : pos + 4 + a_len]
        pos += 4 + a_len + (4 - a_len % 4) % 4
    error = None
    if ERROR_CODE in attrs:
        raw = attrs[ERROR_CODE]
        error = (raw[2] & 0x7) * 100 + raw[3]
    return Response(success=kind & 0x0110 == 0x0100, error=error, attrs=attrs)


class TurnClient:
    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self.addr = (host, port)
        self.username = username
        self.password = password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(3)
        self.realm = b""
        self.nonce = b""

    def _key(self) -> bytes:
        text = f"{self.username}:{self.realm.decode()}:{self.password}"
        return hashlib.md5(text.encode()).digest()  # noqa: S324 (the RFC's key derivation)

    def _request(self, method: int, attrs: bytes, *, auth: bool = True) -> Response:
        tid = os.urandom(12)
        if auth:
            attrs += (
                _attr(USERNAME, self.username.encode())
                + _attr(REALM, self.realm)
                + _attr(NONCE, self.nonce)
            )
        self.sock.sendto(_message(method, tid, attrs, self._key() if auth else None), self.addr)
        return _parse(self.sock.recv(2048))

    def allocate(self) -> Response:
        transport = _attr(REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))
        challenge = self._request(ALLOCATE, transport, auth=False)
        if challenge.error != 401:
            return challenge
        self.realm, self.nonce = challenge.attrs[REALM], challenge.attrs[NONCE]
        return self._request(ALLOCATE, transport)

    def create_permission(self, peer_ip: str) -> Response:
        ip = int(ipaddress.IPv4Address(peer_ip)) ^ MAGIC
        value = struct.pack("!BBHI", 0, 1, 3480 ^ (MAGIC >> 16), ip)
        return self._request(CREATE_PERMISSION, _attr(XOR_PEER_ADDRESS, value))

    def close(self) -> None:
        self.sock.close()
