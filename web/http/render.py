"""Rendering pages: every template gets the actor, the CSRF token, the path, whether
test hooks are on (server.test_hooks), and (for hub managers and admins) the cover-gap
banner."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from web.http.identity import csrf_token, optional_actor
from web.http.keys import SETTINGS
from web.rota.cover_banner import banner_of


def render(
    template: str, request: web.Request, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    full = {
        "actor": optional_actor(request),
        "csrf_token": csrf_token(request),
        "path": request.path,
        "cover_banner": banner_of(request),
        # server.test_hooks: base.html then tells web/static/js/test_hooks.js to expose
        # the page's objects to the browser tests and benchmarks (never in production).
        "test_hooks": request.app[SETTINGS].server.test_hooks,
        **context,
    }
    return aiohttp_jinja2.render_template(template, request, full, status=status)
