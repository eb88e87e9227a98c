"""TURN credentials against a real coturn, and the example config's deny-list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from media.turn import ice_servers, turn_credentials
from tests.media.conftest import SECRET
from tests.media.turn_client import TurnClient

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK_TEST_SERVER = (
    "--use-auth-secret",
    f"--static-auth-secret={SECRET}",
    "--realm=telehub.test",
    "--allow-loopback-peers",
)


def now() -> datetime:
    return datetime.now(UTC)


def test_credential_format_matches_coturn_rest_api() -> None:
    creds = turn_credentials(
        "s3cret", "device-4", datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1)
    )
    assert creds.username == "1767229200:device-4"
    # base64(HMAC-SHA1("s3cret", "1767229200:device-4")), computed independently
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(
        hmac.new(b"s3cret", b"1767229200:device-4", hashlib.sha1).digest()
    ).decode()
    assert creds.password == expected


def test_subject_may_not_contain_the_separator() -> None:
    with pytest.raises(ValueError, match="no ':'"):
        turn_credentials("s", "staff:1", now(), timedelta(hours=1))


def test_ice_server_list() -> None:
    creds = turn_credentials("s", "x", now(), timedelta(minutes=5))
    servers = ice_servers(["turn:t.example:3478"], ["stun:t.example:3478"], creds)
    assert servers == [
        {"urls": ["stun:t.example:3478"]},
        {"urls": ["turn:t.example:3478"], "username": creds.username, "credential": creds.password},
    ]
    assert ice_servers(["turn:t.example:3478"], [], None) == []  # no TURN without creds


def test_coturn_accepts_issued_credentials(coturn) -> None:  # type: ignore[no-untyped-def]
    port = coturn(*LOOPBACK_TEST_SERVER)
    creds = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    client = TurnClient("127.0.0.1", port, creds.username, creds.password)
    try:
        result = client.allocate()
        assert result.success, result
        assert client.create_permission("127.0.0.1").success
    finally:
        client.close()


def test_coturn_rejects_a_wrong_password(coturn) -> None:  # type: ignore[no-untyped-def]
    port = coturn(*LOOPBACK_TEST_SERVER)
    creds = turn_credentials("not-the-secret", "device-1", now(), timedelta(minutes=10))
    client = TurnClient("127.0.0.1", port, creds.username, creds.password)
    try:
        assert client.allocate().error == 401
    finally:
        client.close()


def test_coturn_rejects_expired_credentials(coturn) -> None:  # type: ignore[no-untyped-def]
    port = coturn(*LOOPBACK_TEST_SERVER)
    creds = turn_credentials(
        SECRET, "device-1", now() - timedelta(hours=2), timedelta(hours=1)
    )  # expired an hour ago
    client = TurnClient("127.0.0.1", port, creds.username, creds.password)
    try:
        assert client.allocate().error == 401
    finally:
        client.close()


def test_example_config_denies_relaying_to_private_and_loopback(
    coturn,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    conf = (ROOT / "config/coturn/turnserver.conf").read_text()
    conf = conf.replace("static-auth-secret=CHANGE_ME", f"static-auth-secret={SECRET}")
    # Only what cannot work on a test machine changes: no certificates, no syslog.
    kept = [
        line
        for line in conf.splitlines()
        if not line.startswith(("cert=", "pkey=", "tls-listening-port", "syslog", "listening-port"))
    ]
    config = tmp_path / "turnserver.conf"
    config.write_text("\n".join(kept) + "\n")
    port = coturn(config=config)
    creds = turn_credentials(SECRET, "device-1", now(), timedelta(minutes=10))
    client = TurnClient("127.0.0.1", port, creds.username, creds.password)
    try:
        assert client.allocate().success
        for peer in (
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.20",
            "172.16.0.9",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
        ):
            assert client.create_permission(peer).error == 403, peer
        assert client.create_permission("8.8.8.8").success  # a public peer is fine
    finally:
        client.close()
