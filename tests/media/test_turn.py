"""TURN credentials against a real coturn, and the example production config.

The servers and the small TURN client are in conftest.py. Every coturn answer checked
here is the server's own (success, 401 Unauthorized, 403 Forbidden IP), and the
deny-list is read from config/coturn/turnserver.conf itself, so a range added to the
file is tested without touching this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import socket
from datetime import UTC, datetime, timedelta, timezone

import pytest

from media.turn import ice_servers, turn_credentials
from tests.media.conftest import PRODUCTION_CONFIG, SECRET, Coturn, TurnClient

JAN_2026 = datetime(2026, 1, 1, tzinfo=UTC)

# -- the credentials themselves -------------------------------------------------------


def test_credentials_are_coturns_rest_api_form() -> None:
    creds = turn_credentials("s3cret", "device-4", JAN_2026, timedelta(hours=1))
    assert creds.username == "1767229200:device-4"  # 2026-01-01T01:00:00Z
    expected = hmac.new(b"s3cret", b"1767229200:device-4", hashlib.sha1).digest()
    assert creds.password == base64.b64encode(expected).decode()
    # printf '1767229200:device-4' | openssl dgst -sha1 -hmac s3cret -binary | base64
    assert creds.password == "52x0vwWqVEBK91sXLnn/AVxMC/Q="
    assert creds.expires_at == datetime(2026, 1, 1, 1, tzinfo=UTC)


def test_expiry_does_not_depend_on_the_timezone_of_now() -> None:
    london = turn_credentials("s", "x", JAN_2026, timedelta(minutes=5))
    elsewhere = JAN_2026.astimezone(timezone(timedelta(hours=-5)))
    assert turn_credentials("s", "x", elsewhere, timedelta(minutes=5)) == london


@pytest.mark.parametrize(
    ("secret", "subject", "now", "ttl", "message"),
    [
        ("s", "staff:1", JAN_2026, timedelta(hours=1), "contain no ':', got 'staff:1'"),
        ("s", "", JAN_2026, timedelta(hours=1), "must be non-empty"),
        ("", "x", JAN_2026, timedelta(hours=1), "TURN secret must not be empty"),
        ("s", "x", datetime(2026, 1, 1), timedelta(hours=1), "timezone-aware"),
        ("s", "x", JAN_2026, timedelta(0), "at least 1 second, got 0:00:00"),
    ],
)
def test_bad_arguments_are_refused(
    secret: str, subject: str, now: datetime, ttl: timedelta, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        turn_credentials(secret, subject, now, ttl)


def test_ice_server_list() -> None:
    creds = turn_credentials("s", "x", JAN_2026, timedelta(minutes=5))
    turn = ["turn:t.example:3478?transport=udp", "turns:t.example:443?transport=tcp"]
    assert ice_servers(turn, ["stun:t.example:3478"], creds) == [
        {"urls": ["stun:t.example:3478"]},
        {"urls": turn, "username": creds.username, "credential": creds.password},
    ]
    assert ice_servers(turn, [], None) == []  # TURN is useless without credentials
    assert ice_servers([], [], creds) == []


@pytest.mark.parametrize(
    ("turn", "stun", "message"),
    [
        (["stun:t.example:3478"], [], "'stun:t.example:3478' must start with turn: or turns:"),
        ([], ["turn:t.example:3478"], "'turn:t.example:3478' must start with stun: or stuns:"),
        ("turn:t.example:3478", [], "expected a list of URLs, got the string"),
    ],
)
def test_ice_server_urls_must_fit_their_list(
    turn: list[str], stun: list[str], message: str
) -> None:
    creds = turn_credentials("s", "x", JAN_2026, timedelta(minutes=5))
    with pytest.raises(ValueError, match=re.escape(message)):
        ice_servers(turn, stun, creds)


# -- telehub's credentials against a real coturn --------------------------------------


def now() -> datetime:
    return datetime.now(UTC)


def test_coturn_relays_for_issued_credentials(loopback_coturn: Coturn) -> None:
    creds = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    server = (loopback_coturn.host, loopback_coturn.port)
    with (
        TurnClient(server, creds.username, creds.password) as client,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer,
    ):
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        allocated = client.allocate()
        assert allocated.ok, allocated
        assert client.create_permission("127.0.0.1").ok
        # A datagram really goes through the relay, both ways.
        client.send(peer.getsockname(), b"hello from the tablet")
        data, relay = peer.recvfrom(100)
        assert data == b"hello from the tablet" and relay == allocated.relayed
        peer.sendto(b"hello from the hub", relay)
        assert client.receive() == (peer.getsockname(), b"hello from the hub")


def test_coturn_refuses_a_wrong_password(loopback_coturn: Coturn) -> None:
    creds = turn_credentials("not-the-secret", "device-1", now(), timedelta(minutes=10))
    server = (loopback_coturn.host, loopback_coturn.port)
    with TurnClient(server, creds.username, creds.password) as client:
        answer = client.allocate()
    assert (answer.ok, answer.error, answer.reason) == (False, 401, "Unauthorized")


def test_coturn_refuses_expired_credentials(loopback_coturn: Coturn) -> None:
    # Issued two hours ago for one hour: the right secret, but expired an hour ago.
    creds = turn_credentials(SECRET, "device-1", now() - timedelta(hours=2), timedelta(hours=1))
    server = (loopback_coturn.host, loopback_coturn.port)
    with TurnClient(server, creds.username, creds.password) as client:
        answer = client.allocate()
    assert (answer.ok, answer.error) == (False, 401)
    # ... and the same subject with a fresh expiry is fine: it was only the expiry.
    fresh = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    with TurnClient(server, fresh.username, fresh.password) as client:
        assert client.allocate().ok


# -- the example production config ----------------------------------------------------


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
DENIED_LINES = [
    line.split("=", 1)[1].strip()
    for line in PRODUCTION_CONFIG.read_text().splitlines()
    if line.startswith("denied-peer-ip=")
]


def first_last(value: str) -> tuple[Address, Address] | None:
    """A denied-peer-ip value as coturn reads it (one address or first-last), else None."""
    first, _, last = value.partition("-")
    try:
        return ipaddress.ip_address(first), ipaddress.ip_address(last or first)
    except ValueError:
        return None


DENIED = [r for r in map(first_last, DENIED_LINES) if r is not None]
DENIED_V4 = [str(a) for r in DENIED if r[0].version == 4 for a in r]
DENIED_V6 = [str(a) for r in DENIED if r[0].version == 6 for a in r]
# Reached through this relay they would be an open door into the hub's own network.
MUST_REFUSE_V4 = """127.0.0.1 10.1.2.3 172.16.0.9 192.168.1.20 169.254.169.254 100.64.0.1
    0.0.0.0 224.0.0.1 255.255.255.255""".split()
MUST_REFUSE_V6 = """::1 :: ::ffff:127.0.0.1 ::ffff:10.0.0.1 ::ffff:8.8.8.8 64:ff9b::a00:1
    fc00::1 fd12:3456::1 fe80::1 ff02::1 2001:db8::1 2002:a00:1::1 100::1""".split()
PUBLIC_V4 = ["8.8.8.8", "1.1.1.1", "81.2.69.160"]
PUBLIC_V6 = ["2001:4860:4860::8888", "2a00:1450:4009:80b::200e"]


def test_the_deny_list_covers_what_the_design_requires() -> None:
    # DESIGN.md: loopback, private, link-local and other reserved ranges, IPv4 and IPv6.
    required = """0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12
        192.0.0.0/24 192.0.2.0/24 192.88.99.0/24 192.168.0.0/16 198.18.0.0/15
        198.51.100.0/24 203.0.113.0/24 224.0.0.0/4 240.0.0.0/4 255.255.255.255/32
        ::1/128 ::ffff:0:0/96 64:ff9b::/96 100::/64 2001::/23 2001:db8::/32 fc00::/7
        fe80::/10 ff00::/8""".split()
    # CIDR and the like: coturn 4.6 logs "Wrong address format" and ignores the line.
    assert [v for v in DENIED_LINES if first_last(v) is None] == []
    for text in required:
        net = ipaddress.ip_network(text)
        assert any(
            first.version == net.version and int(first) <= int(net[0]) <= int(net[-1]) <= int(last)
            for first, last in DENIED
        ), f"{text} is not denied"
    # coturn reads an all-zero address as "no limit": ending at :: or 0.0.0.0 denies every
    # peer, starting at :: every IPv4 peer (the public peers below would show it too).
    wildcards = [r for r in DENIED if int(r[1]) == 0 or (r[0].version == 6 and int(r[0]) == 0)]
    assert wildcards == []


def test_production_config_loads_without_complaint(production_coturn: Coturn) -> None:
    log = production_coturn.log_text()
    # coturn logs a line it cannot read and carries on without it: that must not happen.
    for complaint in ("Bad configuration format", "Wrong address format", "error resolving"):
        assert complaint not in log, [line for line in log.splitlines() if complaint in line]
    # ... and it lists every denied range it took.
    assert len(re.findall(r"Black listing: ", log)) == len(DENIED_LINES)


def test_production_config_accepts_credentials_on_udp_tcp_and_tls(
    production_coturn: Coturn,
) -> None:
    creds = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    host = production_coturn.host
    for transport, port in (
        ("udp", production_coturn.port),
        ("tcp", production_coturn.port),
        ("tls", production_coturn.tls_port),
    ):
        assert port is not None
        tls = production_coturn.tls if transport == "tls" else None
        with TurnClient(
            (host, port), creds.username, creds.password, transport=transport, tls=tls
        ) as client:
            answer = client.allocate()
            assert answer.ok, (transport, answer)
    expired = turn_credentials(SECRET, "device-1", now() - timedelta(hours=2), timedelta(hours=1))
    with TurnClient((host, production_coturn.port), expired.username, expired.password) as client:
        assert client.allocate().error == 401


def refused(client: TurnClient, peer: str) -> bool:
    answer = client.create_permission(peer)
    assert answer.ok or answer.error == 403, (peer, answer)
    return not answer.ok


def test_production_config_refuses_private_and_reserved_ipv4_peers(
    production_coturn: Coturn,
) -> None:
    creds = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    server = (production_coturn.host, production_coturn.port)
    with TurnClient(server, creds.username, creds.password) as client:
        assert client.allocate().ok
        assert [p for p in MUST_REFUSE_V4 + DENIED_V4 if not refused(client, p)] == []
        # ... while the public internet stays reachable (a wildcard would refuse these).
        assert [p for p in PUBLIC_V4 if refused(client, p)] == []


def test_production_config_refuses_private_and_reserved_ipv6_peers(
    production_coturn: Coturn,
) -> None:
    if production_coturn.host6 is None:
        pytest.skip("no IPv6 loopback on this machine")
    creds = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    server = (production_coturn.host6, production_coturn.port)
    with TurnClient(server, creds.username, creds.password) as client:
        allocated = client.allocate(family=6)
        assert allocated.ok and allocated.relayed[0] == "::1", allocated
        assert [p for p in MUST_REFUSE_V6 + DENIED_V6 if not refused(client, p)] == []
        assert [p for p in PUBLIC_V6 if refused(client, p)] == []


def test_production_config_relays_nothing_to_loopback(production_coturn: Coturn) -> None:
    """Not just a 403: a datagram sent to a loopback peer anyway never arrives."""
    creds = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    server = (production_coturn.host, production_coturn.port)
    with (
        TurnClient(server, creds.username, creds.password) as client,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as victim,
    ):
        victim.bind(("127.0.0.1", 0))
        victim.settimeout(0.5)
        assert client.allocate().ok
        assert client.create_permission("127.0.0.1").error == 403
        for _ in range(3):
            client.send(victim.getsockname(), b"let me in")
        with pytest.raises(TimeoutError):
            victim.recvfrom(100)
