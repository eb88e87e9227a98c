"""The client's address behind a trusted reverse proxy (``server.trusted_proxies``).

Behind nginx every request's TCP peer is nginx. The login and enrolment back-off, the
per-address socket cap, the metrics' network check and the access log all key on the
client's address, so without this every user would share the proxy's budget (one
attacker's wrong passwords would slow everyone down) and the metrics would be open to
anyone the proxy forwards.

When the TCP peer is in ``server.trusted_proxies``, the client is the right-most
address in ``X-Forwarded-For`` that is not itself a trusted proxy (the left part of the
header is whatever the client sent: never believed). A peer that is not trusted is the
client, whatever headers it sends. Nothing is trusted by default.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from web.http.keys import SETTINGS

__all__ = ["client_address", "trusted_proxy_middleware"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def client_address(peer: str, forwarded_for: str, trusted: Sequence[Network]) -> str:
    """The client's address, given the TCP peer and the X-Forwarded-For header."""
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _valid(hop):
            return peer  # a garbled header: keep what we know for sure
        if not _within(hop, trusted):
            return hop
    return peer


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _within(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


@functools.cache
def parsed(networks: tuple[str, ...]) -> tuple[Network, ...]:
    """The configured networks, parsed once (not on every request)."""
    return tuple(ipaddress.ip_network(n) for n in networks)


@web.middleware
async def trusted_proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    networks = request.app[SETTINGS].server.trusted_proxies
    if networks and request.remote:
        trusted = parsed(networks)
        client = client_address(request.remote, request.headers.get("X-Forwarded-For", ""), trusted)
        if client != request.remote:
            request = request.clone(remote=client)
    return await handler(request)
