"""The composition root: one function builds the whole application from settings.

Long-lived resources (the database engine) live in ``cleanup_ctx`` so they open on
start-up and close on shutdown; nothing is opened at import time.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import aiohttp_jinja2
import jinja2
from aiohttp import web

from hub.clock import Clock, SystemClock
from hub.context import HubContext
from hub.resources import package_directory
from hub.settings import Settings
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import check_current
from hub.tariffs import configured_tariffs
from signalling.bus import make_bus
from signalling.switchboard import BusPublisher, Switchboard
from web import (
    admin_views,
    auth_views,
    call_import_views,
    call_views,
    consultation_views,
    cover_banner,
    hub_views,
    labels,
    monthly_report_views,
    report_views,
    rota_views,
    routing_views,
    tablet_views,
    throttles,
    ws_views,
)
from web.errors import error_middleware
from web.keys import CTX, SETTINGS, SWITCHBOARD, TARIFFS
from web.rota_jobs import jobs_ctx
from web.route_access import public
from web.routing_watch import routing_watch
from web.security import csrf_middleware, headers_middleware, identity_middleware

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    settings = resolve_secrets(settings)
    app = web.Application(
        client_max_size=settings.server.max_body_bytes,
        # headers outermost: error pages carry the security headers too
        middlewares=[headers_middleware, error_middleware, identity_middleware, csrf_middleware],
    )
    app[SETTINGS] = settings
    app[TARIFFS] = configured_tariffs(settings.outcomes.tariffs_file)  # a bad file stops here
    clock = clock or SystemClock()
    throttles.setup(app, settings, clock)  # login and enrolment back-off per address
    app.cleanup_ctx.append(_database(settings, clock))
    app.cleanup_ctx.append(routing_watch)  # needs the database context above
    app.cleanup_ctx.append(jobs_ctx)  # rota jobs: cancelled before the database closes
    cover_banner.setup(app)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("web", "templates"),  # a package resource
        autoescape=jinja2.select_autoescape(default=True),
    )
    labels.install(env)  # labels for coded values, UK times (web/labels.py)
    app.on_shutdown.append(_close_websockets)
    for module in (
        auth_views,
        tablet_views,
        admin_views,
        call_import_views,
        hub_views,
        call_views,
        ws_views,
        report_views,
        monthly_report_views,
        consultation_views,
        routing_views,
        rota_views,
    ):
        app.router.add_routes(module.routes)
    app.router.add_get("/healthz", _health)
    static_dir = package_directory("web", "static")  # a package resource, as a directory
    static = app.router.add_static("/static", static_dir, name="static", append_version=True)
    env.globals["static"] = lambda path: str(static.url_for(filename=path))
    return app


def _database(settings: Settings, clock: Clock) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        db = settings.database
        engine = create_engine(
            db.url, echo=db.echo, pool=(db.pool_size, db.pool_overflow, db.pool_timeout_s)
        )
        try:
            await check_current(engine)
            keyring = keyring_from(settings)
            bus = make_bus(settings.signalling.bus_url)
            ctx = HubContext(
                make_uow_factory(engine, keyring),
                clock,
                keyring,
                settings,
                events=BusPublisher(bus),
            )
            board = Switchboard(ctx, bus, settings.signalling)
            app[CTX] = ctx
            app[SWITCHBOARD] = board
            await board.start()
            try:
                yield
            finally:
                await board.stop()
                await bus.close()
        finally:
            await engine.dispose()

    return ctx


async def _close_websockets(app: web.Application) -> None:
    """Tell every client we are going away (1001) so it reconnects, perhaps elsewhere."""
    if SWITCHBOARD in app:
        await app[SWITCHBOARD].close_all()


@public
async def _health(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})
