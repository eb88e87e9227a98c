"""Real coturn servers for the TURN tests, and a small TURN client to question them.

Two servers, each started once per test module:

- ``loopback_coturn``: the loopback test server of docs/turn.md and the field notes
  (REST secret, loopback peers allowed), for checking telehub's credentials;
- ``production_coturn``: coturn run with a copy of config/coturn/turnserver.conf in
  which only what cannot work on a test machine is changed (ports, listening and relay
  addresses, certificate paths, logging), for checking that file.

The client speaks just enough STUN/TURN (RFC 8489/8656 long-term credentials) over
UDP, TCP or TLS, IPv4 or IPv6, to allocate a relay, ask for permissions and relay a
datagram, so tests see exactly what coturn answers (success, 401, 403) instead of
parsing a tool's output.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SECRET = "test-turn-secret"
REALM = "telehub.test"
PRODUCTION_CONFIG = Path(__file__).resolve().parents[2] / "config/coturn/turnserver.conf"

# -- a minimal TURN client -----------------------------------------------------------

MAGIC = 0x2112A442
BINDING, ALLOCATE, CREATE_PERMISSION = 0x0001, 0x0003, 0x0008
SEND_INDICATION, DATA_INDICATION = 0x0016, 0x0017
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE = 0x0006, 0x0008, 0x0009
XOR_PEER_ADDRESS, DATA, REALM_ATTR, NONCE = 0x0012, 0x0013, 0x0014, 0x0015
XOR_RELAYED_ADDRESS, REQUESTED_ADDRESS_FAMILY, REQUESTED_TRANSPORT = 0x0016, 0x0017, 0x0019
UDP = 17


@dataclass(frozen=True)
class Answer:
    """A TURN server's response: success, or an error code and its reason phrase."""

    ok: bool
    error: int | None
    reason: str
    attrs: dict[int, bytes] = field(repr=False)
    tid: bytes = field(repr=False)

    @property
    def relayed(self) -> tuple[str, int]:
        return _unxor_address(self.attrs[XOR_RELAYED_ADDRESS], self.tid)


def _attr(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def _xor_address(ip: str, port: int, tid: bytes) -> bytes:
    addr = ipaddress.ip_address(ip)
    xport = port ^ (MAGIC >> 16)
    if addr.version == 4:
        return struct.pack("!BBHI", 0, 1, xport, int(addr) ^ MAGIC)
    mask = int.from_bytes(struct.pack("!I", MAGIC) + tid, "big")
    return struct.pack("!BBH", 0, 2, xport) + (int(addr) ^ mask).to_bytes(16, "big")


def _unxor_address(value: bytes, tid: bytes) -> tuple[str, int]:
    family, port = value[1], struct.unpack("!H", value[2:4])[0] ^ (MAGIC >> 16)
    if family == 1:
        return str(ipaddress.IPv4Address(struct.unpack("!I", value[4:8])[0] ^ MAGIC)), port
    mask = int.from_bytes(struct.pack("!I", MAGIC) + tid, "big")
    return str(ipaddress.IPv6Address(int.from_bytes(value[4:20], "big") ^ mask)), port


def _decode(data: bytes) -> tuple[int, bytes, dict[int, bytes]]:
    kind, length = struct.unpack("!HH", data[:4])
    attrs: dict[int, bytes] = {}
    pos = 20
    while pos < 20 + length:
        a_type, a_len = struct.unpack("!HH", data[pos : pos + 4])
        attrs.setdefault(a_type, data[pos + 4 : pos + 4 + a_len])
        pos += 4 + a_len + (-a_len % 4)
    return kind, data[8:20], attrs


class TurnClient:
    """One TURN client session (one allocation) with long-term credentials."""

    def __init__(
        self,
        server: tuple[str, int],
        username: str,
        password: str,
        *,
        transport: str = "udp",
        tls: ssl.SSLContext | None = None,
        timeout: float = 2.0,
    ) -> None:
        self.server = server
        self.username, self.password = username, password
        self.transport = transport
        self.realm = self.nonce = b""
        family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
        if transport == "udp":
            self.sock = socket.socket(family, socket.SOCK_DGRAM)
            self.sock.settimeout(timeout / 4)  # then retransmitted, as RFC 8489 asks
        else:
            raw = socket.create_connection(server, timeout=timeout)
            self.sock = tls.wrap_socket(raw, server_hostname=server[0]) if tls else raw
            self.sock.settimeout(timeout)

    def __enter__(self) -> TurnClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    # -- requests ----------------------------------------------------------------------

    def binding(self) -> Answer:
        return self._request(BINDING, b"", auth=False)

    def allocate(self, family: int = 4) -> Answer:
        body = _attr(REQUESTED_TRANSPORT, bytes([UDP, 0, 0, 0]))
        if family == 6:
            body += _attr(REQUESTED_ADDRESS_FAMILY, bytes([2, 0, 0, 0]))
        challenge = self._request(ALLOCATE, body, auth=False)
        if challenge.error != 401:
            return challenge
        self.realm, self.nonce = challenge.attrs[REALM_ATTR], challenge.attrs[NONCE]
        return self._request(ALLOCATE, body)

    def create_permission(self, peer_ip: str) -> Answer:
        tid = os.urandom(12)
        body = _attr(XOR_PEER_ADDRESS, _xor_address(peer_ip, 9, tid))
        return self._request(CREATE_PERMISSION, body, tid=tid)

    def send(self, peer: tuple[str, int], data: bytes) -> None:
        """Relay one datagram to ``peer`` (a Send indication: no answer either way)."""
        tid = os.urandom(12)
        body = _attr(XOR_PEER_ADDRESS, _xor_address(*peer, tid)) + _attr(DATA, data)
        self._send(SEND_INDICATION, tid, body, auth=False)

    def receive(self) -> tuple[tuple[str, int], bytes]:
        """The next datagram relayed to us from a peer (a Data indication)."""
        while True:
            kind, tid, attrs = _decode(self._recv())
            if kind == DATA_INDICATION:
                return _unxor_address(attrs[XOR_PEER_ADDRESS], tid), attrs[DATA]

    # -- the wire ----------------------------------------------------------------------

    def _key(self) -> bytes:
        text = f"{self.username}:{self.realm.decode()}:{self.password}"
        return hashlib.md5(text.encode()).digest()  # noqa: S324 (RFC 8489's key derivation)

    def _send(self, method: int, tid: bytes, body: bytes, auth: bool) -> None:
        if auth:
            body += (
                _attr(USERNAME, self.username.encode())
                + _attr(REALM_ATTR, self.realm)
                + _attr(NONCE, self.nonce)
            )
            # MESSAGE-INTEGRITY covers the header with a length that already counts it.
            header = struct.pack("!HHI", method, len(body) + 24, MAGIC) + tid
            mac = hmac.new(self._key(), header + body, hashlib.sha1).digest()
            body += _attr(MESSAGE_INTEGRITY, mac)
        message = struct.pack("!HHI", method, len(body), MAGIC) + tid + body
        if self.transport == "udp":
            self.sock.sendto(message, self.server)
        else:
            self.sock.sendall(message)

    def _recv(self) -> bytes:
        if self.transport == "udp":
            return self.sock.recv(65536)
        header = self._read_exactly(20)
        return header + self._read_exactly(struct.unpack("!H", header[2:4])[0])

    def _read_exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("TURN server closed the connection")
            data += chunk
        return data

    def _request(
        self, method: int, body: bytes, *, auth: bool = True, tid: bytes | None = None
    ) -> Answer:
        tid = tid or os.urandom(12)
        for _attempt in range(4 if self.transport == "udp" else 1):
            self._send(method, tid, body, auth)
            try:
                while True:
                    kind, got, attrs = _decode(self._recv())
                    if got == tid:
                        break
            except TimeoutError:
                continue
            error, reason = None, ""
            if ERROR_CODE in attrs:
                raw = attrs[ERROR_CODE]
                error, reason = (raw[2] & 7) * 100 + raw[3], raw[4:].decode(errors="replace")
            return Answer(kind & 0x0110 == 0x0100, error, reason, attrs, tid)
        raise TimeoutError(f"no answer from the TURN server at {self.server}")


# -- real coturn servers --------------------------------------------------------------


@dataclass(frozen=True)
class Coturn:
    host: str
    port: int  # TURN over UDP and TCP
    log: Path
    host6: str | None = None  # also listening and relaying on ::1
    tls_port: int | None = None
    tls: ssl.SSLContext | None = None  # trusts the server's test certificate

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def free_port(hosts: tuple[str, ...] = ("127.0.0.1",)) -> int:
    """A port free for UDP and TCP on every host (coturn listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        try:
            with contextlib.ExitStack() as stack:
                for host in hosts:
                    family = socket.AF_INET6 if ":" in host else socket.AF_INET
                    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                        s = stack.enter_context(socket.socket(family, kind))
                        s.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def start_coturn(args: list[str], server: Coturn) -> subprocess.Popen[bytes]:
    """Start turnserver and wait until it answers a STUN Binding request."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        if proc.poll() is not None:
            pytest.fail(f"turnserver exited with {proc.returncode}:\n{server.log_text()}")
        if time.monotonic() > deadline:
            stop(proc)
            pytest.fail(f"turnserver did not answer within 10 s:\n{server.log_text()}")
        try:
            with TurnClient((server.host, server.port), "", "", timeout=0.2) as probe:
                if probe.binding().ok:
                    return proc
        except (TimeoutError, ConnectionError):
            pass


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _private_files(workdir: Path, port: int) -> list[str]:
    # coturn opens /var/lib/turn/turndb and /var/run/turnserver.pid by default, even in
    # use-auth-secret mode: give each server its own.
    return [f"--db={workdir / f'turn-{port}.sqlite'}", f"--pidfile={workdir / f'turn-{port}.pid'}"]


@pytest.fixture(scope="module")
def turnserver() -> str:
    path = shutil.which("turnserver")
    if path is None:
        pytest.skip("coturn's turnserver is not installed (apt-get install coturn)")
    return path


@pytest.fixture(scope="module")
def loopback_coturn(turnserver: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Coturn]:
    """The loopback test server: REST secret ``SECRET``, loopback peers allowed."""
    workdir = tmp_path_factory.mktemp("coturn-loopback")
    port = free_port()
    server = Coturn("127.0.0.1", port, workdir / "turn.log")
    # -n: no config file. Without it coturn also reads /etc/turnserver.conf, whose
    # "syslog" (Debian's default) sends the log away from --log-file.
    args = [
        turnserver,
        "-n",
        "--use-auth-secret",
        f"--static-auth-secret={SECRET}",
        f"--realm={REALM}",
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        "--allow-loopback-peers",
        "--no-tls",
        "--no-dtls",
        "--no-cli",
        "-p",
        str(port),
        f"--log-file={server.log}",
        "--simple-log",  # else coturn writes to turn_<date>.log
        *_private_files(workdir, port),
    ]
    proc = start_coturn(args, server)
    yield server
    stop(proc)


# What the test copy of the production config changes, line by line: every key must be
# in the file (so the test notices when the file changes shape), nothing else changes.
def production_overrides(
    port: int, tls_port: int, cert: Path, key: Path, log: Path
) -> dict[str, str]:
    return {
        "listening-port": f"listening-port={port}",
        "tls-listening-port": f"tls-listening-port={tls_port}",
        "cert": f"cert={cert}",
        "pkey": f"pkey={key}",
        "static-auth-secret": f"static-auth-secret={SECRET}",
        "syslog": f"log-file={log}\nsimple-log",
    }


def production_copy(config: str, overrides: dict[str, str], extra: list[str]) -> str:
    lines, seen = [], set()
    for line in config.splitlines():
        key = line.split("=", 1)[0].strip()
        if not line.startswith("#") and key in overrides:
            seen.add(key)
            line = overrides[key]
        lines.append(line)
    missing = set(overrides) - seen
    assert not missing, f"{PRODUCTION_CONFIG.name} no longer sets {sorted(missing)}"
    return "\n".join([*lines, *extra]) + "\n"


@pytest.fixture(scope="module")
def production_coturn(
    turnserver: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Coturn]:
    """coturn running config/coturn/turnserver.conf on loopback (IPv4, and IPv6 if any)."""
    from web.cli.devcert import make_dev_cert

    workdir = tmp_path_factory.mktemp("coturn-production")
    v6 = ipv6_loopback()
    hosts = ("127.0.0.1", "::1") if v6 else ("127.0.0.1",)
    port, tls_port = free_port(hosts), free_port(hosts)
    cert, key = make_dev_cert(workdir / "certs", hosts=list(hosts))
    tls = ssl.create_default_context(cafile=str(cert))
    server = Coturn("127.0.0.1", port, workdir / "turn.log", "::1" if v6 else None, tls_port, tls)
    addresses = [f"{kind}={host}" for host in hosts for kind in ("listening-ip", "relay-ip")]
    config = workdir / "turnserver.conf"
    config.write_text(
        production_copy(
            PRODUCTION_CONFIG.read_text(),
            production_overrides(port, tls_port, cert, key, server.log),
            addresses,
        )
    )
    proc = start_coturn([turnserver, "-c", str(config), *_private_files(workdir, port)], server)
    yield server
    stop(proc)
