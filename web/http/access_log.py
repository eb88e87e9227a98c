"""The access log: one line per request, without query strings.

Query strings carry what people typed: a carer's search for a resident by name
(``/tablet?q=...``), a hub nurse's search of a home's residents, report filters. None
of that belongs in a log, so the line names the path only — with a ``?`` when a query
was there, so that "the same page, searched" still shows.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from web.http.logs import REQUEST_ID_KEY

ACCESS_LOG = logging.getLogger("telehub.access")
# Paths that carry a secret: a guest's invitation link is /join/<its token>.
SECRET_PATHS = ("/join/",)


def loggable_path(request: web.BaseRequest) -> str:
    """The request's path for the log: the query string (personal data) and any secret
    in the path left out."""
    path = request.rel_url.path
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            path = f"{prefix}<token>"
    return f"{path}?" if request.rel_url.query_string else path


class AccessLogger(AbstractAccessLogger):
    """``remote "METHOD path" status bytes duration_ms`` — no query, no referrer."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        self.logger.info(
            '%s "%s %s" %s %s %.1fms',
            request.remote or "-",
            request.method,
            loggable_path(request),
            response.status,
            response.body_length,
            time * 1000,
            # written after the request's own context ended: its id comes from the request
            extra={"request_id": request.get(REQUEST_ID_KEY, "-")},
        )
