"""Who may open each route: one declared rule per handler, in one place per handler.

Every route handler carries a ``Rule`` (set by ``public``, ``require``,
``require_device`` or ``require_actor`` in ``web.http.security``); a test walks
``app.router`` and fails on a route without one, then drives every route as every kind
of user against objects of two homes (tests/web/test_route_access.py). The rule is
the first gate; the services still check each object (a home-scoped account gets
*not found* for another home's resident, call or home).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp.typedefs import Handler

from hub.people.access import Role

_RULE = "_telehub_access_rule"

Who = Literal["public", "staff", "device", "actor", "guest"]


@dataclass(frozen=True)
class Rule:
    """``who``: nobody in particular (public), hub staff, an enrolled tablet, or either
    (``actor``: the service decides per object), or a guest of a live call (``guest``:
    only that, never a staff or tablet route). ``roles``: the staff roles allowed
    (empty: any). ``hub_wide``: refused to home-scoped staff (care-home managers)."""

    who: Who
    roles: frozenset[Role] = frozenset()
    hub_wide: bool = False


PUBLIC = Rule("public")


def declare(handler: Handler, rule: Rule) -> Handler:
    setattr(handler, _RULE, rule)
    return handler


def rule_of(handler: object) -> Rule | None:
    rule = getattr(handler, _RULE, None)
    return rule if isinstance(rule, Rule) else None


def public(handler: Handler) -> Handler:
    """Open to anyone (login, enrolment, health): the handler decides what to show."""
    return declare(handler, PUBLIC)
