"""The client's address behind a trusted reverse proxy (web/http/proxies.py)."""

from __future__ import annotations

import ipaddress

import pytest

from web.http.proxies import client_address

NGINX = [ipaddress.ip_network("10.0.1.5/32"), ipaddress.ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.1.5", "203.0.113.9", "203.0.113.9"),  # through the proxy
        ("10.0.1.5", "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # left part: the client's say
        ("10.0.1.5", "203.0.113.9, fd00::7", "203.0.113.9"),  # two trusted hops
        ("10.0.1.5", "", "10.0.1.5"),  # no header: the proxy itself
        ("10.0.1.5", "not-an-address", "10.0.1.5"),  # garbled: keep what is certain
        ("10.0.1.5", "10.0.1.5", "10.0.1.5"),  # only trusted hops
        ("203.0.113.50", "10.9.9.9", "203.0.113.50"),  # not a proxy: header ignored
        ("2001:db8::1", "203.0.113.9", "2001:db8::1"),
    ],
)
def test_the_client_is_the_last_untrusted_hop(peer: str, forwarded: str, client: str) -> None:
    assert client_address(peer, forwarded, NGINX) == client


def test_nothing_is_trusted_by_default() -> None:
    assert client_address("10.0.1.5", "203.0.113.9", []) == "10.0.1.5"


@pytest.mark.parametrize(
    ("trusted", "forwarded", "status"),
    [
        ((), "203.0.113.9", 403),  # the peer (loopback) is not in the metrics network
        (("127.0.0.1/32",), "203.0.113.9", 200),  # the proxy says the client is inside
        (("127.0.0.1/32",), "203.0.113.9, 198.51.100.7", 403),  # a forged left part
        (("127.0.0.1/32",), "", 403),
    ],
)
async def test_the_app_uses_the_address_a_trusted_proxy_names(
    aiohttp_client, settings, clock, trusted, forwarded, status
) -> None:
    from web.app import create_app

    configured = settings.replace("server", trusted_proxies=trusted).replace(
        "operations", metrics_networks=("203.0.113.0/24",)
    )
    client = await aiohttp_client(create_app(configured, clock=clock))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    assert (await client.get("/metrics", headers=headers)).status == status


def test_a_bad_trusted_network_is_refused_at_load() -> None:
    from hub import settings as settings_mod
    from hub.errors import ValidationError

    with pytest.raises(ValidationError, match=r"server\.trusted_proxies: 'nginx' is not a network"):
        settings_mod.load(overrides={"server": {"trusted_proxies": ["nginx"]}})
