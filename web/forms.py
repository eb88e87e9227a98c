"""Small helpers for reading submitted forms."""

from __future__ import annotations

from typing import Any

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
    """Only same-site relative paths: no open redirects via ``?next=``."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def int_param(request: web.Request, name: str) -> int:
    raw = request.match_info.get(name, "")
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)
