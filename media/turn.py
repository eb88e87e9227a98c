"""ICE servers and TURN credentials in coturn's REST-secret form (``use-auth-secret``).

username = "<unix expiry>:<subject>", password = base64(HMAC-SHA1(secret, username)).
coturn recomputes the password from its ``static-auth-secret`` and refuses the
credentials once the expiry has passed, so nothing is stored and nothing can be
revoked except by waiting: keep the lifetime short.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class TurnCredentials:
    username: str
    password: str
    expires_at: datetime


def turn_credentials(secret: str, subject: str, now: datetime, ttl: timedelta) -> TurnCredentials:
    if ":" in subject or not subject:
        raise ValueError("TURN subject must be non-empty and contain no ':'")
    expires = now + ttl
    username = f"{int(expires.timestamp())}:{subject}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredentials(username, base64.b64encode(digest).decode(), expires)


def ice_servers(
    turn_urls: Sequence[str], stun_urls: Sequence[str], creds: TurnCredentials | None
) -> list[dict[str, Any]]:
    """The ``iceServers`` list for ``new RTCPeerConnection({iceServers})``."""
    servers: list[dict[str, Any]] = []
    if stun_urls:
        servers.append({"urls": list(stun_urls)})
    if turn_urls and creds is not None:
        servers.append(
            {"urls": list(turn_urls), "username": creds.username, "credential": creds.password}
        )
    return servers
