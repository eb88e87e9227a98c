"""The cover-gap banner hub managers and admins see on every page.

``hub.rostering.cover.cover_gaps`` is summarised in one line ("Cover gaps in the next 48 h:
6 hours short, 2 hours without a prescriber, no published rota from Sun 07 Dec 00:00")
with a link to the rota. Computing it reads the published rotas, so the summary is
cached on the app for a minute (by the hub's clock), and dropped at once after any
change made through the rota pages (a POST under ``/rota`` or ``/api/rota``) or a call
to ``forget``. Clinicians, care-home managers and tablets never see it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from aiohttp.typedefs import Handler

from hub.people.access import Actor, Role
from hub.rostering.cover import Gap, cover_gaps
from web.http.identity import UNSAFE_METHODS, optional_actor
from web.http.keys import CTX

log = logging.getLogger(__name__)
TTL = timedelta(seconds=60)
SKIPPED_PREFIXES = ("/static/", "/api/", "/ws", "/healthz")
ROTA_PREFIXES = ("/rota", "/api/rota")


@dataclass
class BannerCache:
    text: str | None = None
    expires: datetime | None = None


CACHE = web.AppKey("cover_banner_cache", BannerCache)
BANNER = web.RequestKey("cover_banner", str)


def setup(app: web.Application) -> None:
    """Install the cache and the middleware (after the identity middleware)."""
    app[CACHE] = BannerCache()
    app.middlewares.append(cover_banner_middleware)


def forget(app: web.Application) -> None:
    """Drop the cached summary (call after publishing or changing a rota)."""
    cache = app[CACHE]
    cache.text, cache.expires = None, None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summarise(gaps: Sequence[Gap], hours: int) -> str | None:
    """One line for the banner, or None when there is no gap."""
    if not gaps:
        return None
    parts = []
    short = len({g.start for g in gaps if g.kind == "short"})
    if short:
        parts.append(f"{_plural(short, 'hour')} short")
    by_skill: dict[str, set[datetime]] = {}
    for g in gaps:
        if g.kind == "skill" and g.skill:
            by_skill.setdefault(g.skill, set()).add(g.start)
    for skill, starts in sorted(by_skill.items()):
        parts.append(f"{_plural(len(starts), 'hour')} without a {skill.replace('_', ' ')}")
    no_rota = sorted(g.start for g in gaps if g.kind == "no_rota")
    if no_rota:
        parts.append(f"no published rota from {no_rota[0]:%a %d %b %H:%M}")
    return f"Cover gaps in the next {hours} h: {', '.join(parts)}"


def sees_banner(actor: Actor | None) -> bool:
    """Hub managers and admins; not clinicians, care-home managers or tablets."""
    return (
        actor is not None
        and actor.kind == "staff"
        and actor.role in (Role.MANAGER, Role.ADMIN)
        and actor.home_id is None
    )


async def banner_text(app: web.Application, actor: Actor) -> str | None:
    ctx = app[CTX]
    cache = app[CACHE]
    now = ctx.clock.now()
    if cache.expires is None or not now < cache.expires:
        hours = ctx.settings.rota.gap_banner_hours
        cache.text = summarise(await cover_gaps(ctx, actor, hours), hours)
        cache.expires = now + TTL
    return cache.text


@web.middleware
async def cover_banner_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    actor = optional_actor(request)
    if (
        request.method in ("GET", "HEAD")
        and sees_banner(actor)
        and not request.path.startswith(SKIPPED_PREFIXES)
    ):
        assert actor is not None
        try:
            text = await banner_text(request.app, actor)
        except Exception:  # a broken banner must never break the page under it
            log.exception("could not work out the cover-gap banner")
            text = None
        if text:
            request[BANNER] = text
    try:
        return await handler(request)
    finally:
        if request.method in UNSAFE_METHODS and request.path.startswith(ROTA_PREFIXES):
            forget(request.app)


def banner_of(request: web.Request) -> str | None:
    text: str | None = request.get(BANNER)
    return text
