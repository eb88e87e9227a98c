"""ICE servers for browsers, and TURN credentials in coturn's REST-secret form.

coturn's ``use-auth-secret`` mode (its "TURN REST API") needs no user database:

    username = "<unix expiry>:<subject>"
    password = base64(HMAC-SHA1(static-auth-secret, username))

coturn recomputes the password from its ``static-auth-secret`` and refuses the
credentials (401) once the expiry has passed. Nothing is stored and nothing can be
revoked except by waiting, so keep the lifetime short and hand credentials only to
authenticated clients. coturn counts its ``user-quota`` per subject (the part after the
``:``), so a subject should name one tablet or one member of staff. Set-up and the
example coturn config: docs/turn.md and config/coturn/turnserver.conf.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NotRequired, TypedDict

__all__ = ["IceServer", "TurnCredentials", "ice_servers", "turn_credentials"]

STUN_SCHEMES = ("stun:", "stuns:")
TURN_SCHEMES = ("turn:", "turns:")


@dataclass(frozen=True)
class TurnCredentials:
    username: str  # "<unix expiry>:<subject>"
    password: str  # base64(HMAC-SHA1(secret, username))
    expires_at: datetime  # the expiry in the username, as an aware UTC datetime


class IceServer(TypedDict):
    """One entry of ``RTCConfiguration.iceServers``, as JSON."""

    urls: list[str]
    username: NotRequired[str]
    credential: NotRequired[str]


def turn_credentials(secret: str, subject: str, now: datetime, ttl: timedelta) -> TurnCredentials:
    """Credentials for ``subject`` that coturn accepts from ``now`` until ``now + ttl``.

    ``now`` must be timezone-aware (a naive datetime would silently be read as local
    time). Raises ValueError for an empty secret or subject, a subject containing ':'
    (coturn's separator), or a ttl under one second.
    """
    if not secret:
        raise ValueError("TURN secret must not be empty")
    if not subject or ":" in subject:
        raise ValueError(f"TURN subject must be non-empty and contain no ':', got {subject!r}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if ttl < timedelta(seconds=1):
        raise ValueError(f"TURN credential lifetime must be at least 1 second, got {ttl}")
    expiry = int((now + ttl).timestamp())
    username = f"{expiry}:{subject}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredentials(
        username=username,
        password=base64.b64encode(digest).decode("ascii"),
        expires_at=datetime.fromtimestamp(expiry, UTC),
    )


def ice_servers(
    turn_urls: Sequence[str], stun_urls: Sequence[str], creds: TurnCredentials | None
) -> list[IceServer]:
    """The ``iceServers`` list for ``new RTCPeerConnection({iceServers})``.

    STUN servers first (no credentials), then the TURN servers with ``creds``. TURN is
    left out without credentials: a browser cannot use it anyway. Raises ValueError for
    a URL whose scheme does not fit its list.
    """
    _check_schemes(stun_urls, STUN_SCHEMES)
    _check_schemes(turn_urls, TURN_SCHEMES)
    servers: list[IceServer] = []
    if stun_urls:
        servers.append({"urls": list(stun_urls)})
    if turn_urls and creds is not None:
        servers.append(
            {"urls": list(turn_urls), "username": creds.username, "credential": creds.password}
        )
    return servers


def _check_schemes(urls: Sequence[str], schemes: tuple[str, ...]) -> None:
    if isinstance(urls, str):  # a lone string is a Sequence[str] too
        raise ValueError(f"expected a list of URLs, got the string {urls!r}")
    for url in urls:
        if not url.startswith(schemes):
            raise ValueError(f"{url!r} must start with {' or '.join(schemes)}")
