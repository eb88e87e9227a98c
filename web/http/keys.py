"""Typed application keys (aiohttp ``AppKey``): no module-level state anywhere."""

from __future__ import annotations

from aiohttp import web

from hub.context import HubContext
from hub.outcomes.tariffs import Tariffs
from hub.settings import Settings
from signalling.switchboard import Switchboard

CTX = web.AppKey("ctx", HubContext)
SETTINGS = web.AppKey("settings", Settings)
SWITCHBOARD = web.AppKey("switchboard", Switchboard)
TARIFFS = web.AppKey("tariffs", Tariffs)  # loaded and checked once, at start-up
