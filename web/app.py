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
from hub.outcomes.tariffs import configured_tariffs
from hub.resources import package_directory
from hub.settings import Settings
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from hub.store.migrate import check_current
from signalling.bus import make_bus
from signalling.switchboard import BusPublisher, Switchboard
from web.calls import consultation, guests, import_page, live, tablet, websocket
from web.http import health, labels, metrics, throttles
from web.http.errors import error_middleware
from web.http.keys import CTX, SETTINGS, SWITCHBOARD, TARIFFS
from web.http.logs import request_id_middleware
from web.http.proxies import trusted_proxy_middleware
from web.http.security import csrf_middleware, headers_middleware, identity_middleware
from web.people import admin, login, residents
from web.reports import dashboard, monthly
from web.rota import cover_banner, pages, routing
from web.rota.jobs import jobs_ctx
from web.rota.routing_watch import routing_watch

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    template_cache: jinja2.BytecodeCache | None = None,
) -> web.Application:
    """The web app. ``template_cache``: compiled templates shared between apps (the
    tests make hundreds of apps in one process; compiling the templates again for each
    took an eighth of their time). A served process makes one app and needs none."""
    settings = resolve_secrets(settings)
    app = web.Application(
        client_max_size=settings.server.max_body_bytes,
        # the request id outermost (on every line and every response, errors included),
        # then headers: error pages carry the security headers too
        middlewares=[
            request_id_middleware,
            trusted_proxy_middleware,  # the client's address behind a trusted proxy
            headers_middleware,
            error_middleware,
            identity_middleware,
            csrf_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[metrics.METRICS] = metrics.Metrics()  # this app's own registry (no globals)
    app[health.READINESS] = health.Readiness()  # /readyz: attached once the database opens
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
        bytecode_cache=template_cache,
    )
    labels.install(env)  # labels for coded values, UK times (web/http/labels.py)
    app.on_shutdown.append(_close_websockets)
    for module in (  # every area's routes, each handler with its access rule
        login,
        tablet,
        admin,
        import_page,
        residents,
        live,
        websocket,
        dashboard,
        monthly,
        consultation,
        guests,
        routing,
        pages,
    ):
        app.router.add_routes(module.routes)
    app.router.add_routes(health.routes)  # /healthz, /readyz
    app.router.add_routes(metrics.routes)  # /metrics, for the operators' Prometheus
    static_dir = package_directory("web", "static")  # a package resource, as a directory
    static = app.router.add_static("/static", static_dir, name="static", append_version=True)
    env.globals["static"] = lambda path: str(static.url_for(filename=path))
    return app


def _database(settings: Settings, clock: Clock) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        db = settings.database
        engine = create_engine(
            db.url,
            echo=db.echo,
            pool=(db.pool_size, db.pool_overflow, db.pool_timeout_s),
            sqlite_cache_mb=db.sqlite_cache_mb,
        )
        try:
            await check_current(engine)
            keyring = keyring_from(settings)
            bus = make_bus(settings.signalling.bus_url)
            ctx = HubContext(
                make_uow_factory(engine, keyring, wait_s=db.pool_timeout_s),
                clock,
                keyring,
                settings,
                events=BusPublisher(bus),
            )
            board = Switchboard(ctx, bus, settings.signalling, meter=app[metrics.METRICS])
            app[CTX] = ctx
            app[SWITCHBOARD] = board
            await board.start()
            app[health.READINESS].attach(engine, bus)
            try:
                yield
            finally:
                app[health.READINESS].detach()  # shutting down: not ready
                await board.stop()
                await bus.close()
        finally:
            await engine.dispose()

    return ctx


async def _close_websockets(app: web.Application) -> None:
    """Tell every client we are going away (1001) so it reconnects, perhaps elsewhere."""
    if SWITCHBOARD in app:
        await app[SWITCHBOARD].close_all()
