"""Small helpers for reading submitted forms."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web
from multidict import MultiDictProxy


async def form(request: web.Request) -> MultiDictProxy[str | bytes | web.FileField]:
    data: MultiDictProxy[Any] = await request.post()  # aiohttp ≥ 3.13 adds bytearray
    return data


def text(data: MultiDictProxy[str | bytes | web.FileField], name: str, default: str = "") -> str:
    value = data.get(name, default)
    return value if isinstance(value, str) else default


def texts(data: MultiDictProxy[str | bytes | web.FileField], name: str) -> list[str]:
    return [v for v in data.getall(name, []) if isinstance(v, str)]


def checkbox(data: MultiDictProxy[str | bytes | web.FileField], name: str) -> bool:
    return text(data, name) in ("on", "yes", "1", "true")


def safe_next(target: str, default: str = "/") -> str:
    """Only same-site relative paths: no open redirects via ``?next=``.

    The value is checked as given and after every layer of percent-decoding: browsers
    drop tabs and newlines from URLs and treat ``\\`` as ``/``, so ``/%09/evil.example``
    would end as ``//evil.example``. Any control, format or whitespace character, a
    backslash, or a second leading slash refuses the value."""
    seen = target
    for _ in range(4):
        if not _same_site_path(seen):
            return default
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return default  # encoded more deeply than any link of ours


def _same_site_path(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return False
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


def int_param(request: web.Request, name: str) -> int:
    raw = request.match_info.get(name, "")
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)
