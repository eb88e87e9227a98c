"""``telehub media``: a media relay process of its own, for deployments that separate it.

It needs the same configuration as the hub processes (the bus URL, and the database URL
that names the telehub's scope on a shared Redis server; it never opens the database)
and ``media.relay = "processes"`` on the hubs. It serves relayed calls until SIGTERM or
SIGINT, then says it is stopping (the hubs pick another process for new calls) and
closes its calls' connections.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from hub.clock import SystemClock
from hub.errors import ValidationError
from hub.settings import Settings
from signalling.bus import make_bus
from signalling.presence import scope_of
from web.cli.bootstrap import settings_from

__all__ = ["add_command"]

log = logging.getLogger(__name__)


def add_command(sub: Any) -> None:
    s = sub.add_parser("media", help='run a media relay process (media.relay = "processes")')
    s.set_defaults(func=cmd_media)


def cmd_media(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if settings.signalling.bus_url.startswith("memory:"):
        raise ValidationError(
            "telehub media needs the hub's shared bus: set signalling.bus_url to redis://…"
        )
    asyncio.run(_run(settings))
    return 0


async def _run(settings: Settings) -> None:
    # aiortc is loaded by the command that relays, not by every ``telehub`` command.
    from media.relay.server import MediaServer
    from signalling import media_link

    bus = make_bus(settings.signalling.bus_url)
    server = MediaServer(SystemClock(), media_link.publisher(bus), scope_of(settings.database.url))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("media process %s serving relayed calls", server.id)
    try:
        await media_link.serve(bus, server, settings.media.announce_s, stop)
    finally:
        await bus.close()
        log.info("media process %s stopped", server.id)
