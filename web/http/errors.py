"""The one place where domain errors become HTTP responses.

JSON requests (``/api/``, or ``Accept: application/json``) get a fixed error shape:
``{"error": {"code": "...", "message": "..."}}``; pages get the error template.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from hub.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    LockedOut,
    NotFound,
    TooManyConnections,
    Unavailable,
    ValidationError,
)
from web.http.access_log import loggable_path
from web.http.render import render

log = logging.getLogger(__name__)

STATUS: list[tuple[type[DomainError], int]] = [
    (LockedOut, 429),
    (AuthenticationFailed, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Gone, 410),
    (Conflict, 409),
    (ValidationError, 422),
    (TooManyConnections, 429),
    (Unavailable, 503),
]


def status_for(err: DomainError) -> int:
    for cls, status in STATUS:
        if isinstance(err, cls):
            return status
    return 400


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def error_response(
    request: web.Request, status: int, code: str, message: str
) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response({"error": {"code": code, "message": message}}, status=status)

    response = render("error.html", request, {"status": status, "message": message}, status=status)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as err:
        response = error_response(request, status_for(err), err.code, err.message)
        if isinstance(err, LockedOut | Unavailable):
            response.headers["Retry-After"] = str(err.retry_after_s)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {
            400: "bad_request",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
        }.get(exc.status, "http_error")
        message = (
            exc.text if exc.text and not exc.text.startswith(str(exc.status)) else (exc.reason)
        )
        if exc.status == 413:
            message = "the request is too large"
        return error_response(request, exc.status, code, message or exc.reason)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, loggable_path(request))
        return error_response(
            request, 500, "internal", "something went wrong on our side; it has been logged"
        )
