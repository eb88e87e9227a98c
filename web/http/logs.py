"""Logging: JSON lines for machines, readable lines for people, an id on every line.

- Every HTTP request — and the WebSocket it may upgrade to, for as long as it lives —
  gets an id (``X-Request-ID`` from a trusted proxy when it is a plain token, else a new
  one), sent back in the response's ``X-Request-ID`` header and put on every log line
  written while serving it (a ``contextvars`` variable: tasks started meanwhile inherit
  it). Lines written outside a request carry ``-``.
- ``configure()`` writes JSON lines (``time``, ``level``, ``logger``, ``message``,
  ``request_id``, ``error``) when the stream is not a terminal — what a log shipper
  wants — and ``time level [id] logger: message`` when it is.
- What must never be logged is kept out where it is produced: the access log drops
  query strings and invitation tokens (web/http/access_log.py), no code logs a request
  body, a note, a password or a cookie. As a last net, ``Redact`` masks anything shaped
  like an NHS number (ten digits, spaced 3-3-4 or not) in every line.
  tests/browser/test_logs_browser.py greps a whole browser call's server log for each
  secret.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import IO

from aiohttp import web

__all__ = ["REQUEST_ID", "REQUEST_ID_KEY", "configure", "request_id_middleware"]

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
REQUEST_ID_KEY = web.RequestKey("request_id", str)  # the same id, on the request itself
HEADER = "X-Request-ID"
_FROM_PROXY = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# A standalone number: not part of a longer word (a hex id may hold ten digits in a row).
_NHS_NUMBER = re.compile(r"(?<![\w-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\w-])")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get(HEADER, "")
    rid = given if _FROM_PROXY.match(given) else secrets.token_hex(8)
    request[REQUEST_ID_KEY] = rid
    token = REQUEST_ID.set(rid)
    try:
        response = await handler(request)
    except web.HTTPException as err:
        err.headers[HEADER] = rid
        raise
    finally:
        REQUEST_ID.reset(token)
    if not response.prepared:  # a WebSocket or stream already sent its headers
        response.headers[HEADER] = rid
    return response


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class Redact(logging.Filter):
    """Masks NHS-number-shaped digits in the formatted message (a last net, see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _NHS_NUMBER.sub("<number>", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


READABLE = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure(stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Log to ``stream`` (stderr): JSON lines unless it is a terminal."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.addFilter(_WithRequestId())
    handler.addFilter(Redact())
    handler.setFormatter(JsonLines() if not stream.isatty() else logging.Formatter(READABLE))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
