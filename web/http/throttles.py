"""Back-off per client address for the doors a stranger can knock on: the login form
and tablet enrolment (``hub/people/throttle.py`` does the counting; docs/security.md).

- Login: wrong passwords count per (address, username) — ``security.lockout_threshold``
  free tries — and per address whatever the usernames —
  ``security.login_address_threshold``. Unknown usernames count exactly like known
  ones, so the answer never tells which exist. No account is ever locked by wrong
  passwords: the right password from another address still works.
- Enrolment: wrong codes per address, ``security.enrolment_threshold`` free tries.

The client address is ``request.remote``, as for the socket caps and the access log:
the TCP peer, or behind a proxy listed in ``server.trusted_proxies`` the client it
names (web/http/proxies.py) — otherwise every client would share the proxy's budget.
"""

from __future__ import annotations

from aiohttp import web

from hub.clock import Clock
from hub.people.throttle import Throttle
from hub.settings import Settings

LOGIN_BY_ACCOUNT = web.AppKey("login_by_account", Throttle)
LOGIN_BY_ADDRESS = web.AppKey("login_by_address", Throttle)
ENROLMENT_BY_ADDRESS = web.AppKey("enrolment_by_address", Throttle)


def setup(app: web.Application, settings: Settings, clock: Clock) -> None:
    sec = settings.security

    def throttle(threshold: int, what: str) -> Throttle:
        return Throttle(
            clock,
            threshold=threshold,
            base_s=sec.lockout_base_seconds,
            max_s=sec.lockout_max_seconds,
            what=what,
        )

    app[LOGIN_BY_ACCOUNT] = throttle(sec.lockout_threshold, "failed attempts")
    app[LOGIN_BY_ADDRESS] = throttle(sec.login_address_threshold, "failed attempts")
    app[ENROLMENT_BY_ADDRESS] = throttle(sec.enrolment_threshold, "wrong enrolment codes")


def client_address(request: web.Request) -> str:
    return request.remote or "unknown"


class LoginGuard:
    """The two login throttles for one request: ``check`` before the password is
    tried, then ``failed`` or ``succeeded``."""

    def __init__(self, request: web.Request, username: str) -> None:
        address = client_address(request)
        self._account = request.app[LOGIN_BY_ACCOUNT]
        self._address = request.app[LOGIN_BY_ADDRESS]
        self._account_key = f"{address} {username.strip().lower()[:80]}"
        self._address_key = address

    def check(self) -> None:
        """Raise LockedOut (429 with Retry-After) while this address must wait."""
        self._account.check(self._account_key)
        self._address.check(self._address_key)

    def failed(self) -> None:
        self._account.failed(self._account_key)
        self._address.failed(self._address_key)

    def succeeded(self) -> None:
        self._account.succeeded(self._account_key)


class EnrolmentGuard:
    def __init__(self, request: web.Request) -> None:
        self._throttle = request.app[ENROLMENT_BY_ADDRESS]
        self._key = client_address(request)

    def check(self) -> None:
        self._throttle.check(self._key)

    def failed(self) -> None:
        self._throttle.failed(self._key)

    def succeeded(self) -> None:
        self._throttle.succeeded(self._key)
