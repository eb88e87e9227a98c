"""The bus between hub processes and separate media processes (``media.relay = "processes"``).

Both ends of media/relay/wire.py over the telehub bus (signalling/bus.py):

- a hub process relays through ``remote(...)``: a ``RemoteUnit`` whose requests go out
  as ``media.request`` envelopes; the switchboard hands it every ``media.*`` envelope it
  consumes (``RelayCalls.heard``) and checks on its sweep that the processes its calls
  are on still announce themselves;
- a media process (``telehub media``, web/cli/media.py) runs ``serve(...)``: it consumes
  the bus, gives its ``MediaServer`` the requests, and announces itself every
  ``media.announce_s`` until told to stop, then says it is stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from hub.clock import Clock
from hub.settings import MediaSettings
from media.relay import wire
from media.relay.directory import MediaDirectory
from media.relay.remote import RemoteUnit
from media.relay.server import MediaServer, Publish
from signalling.bus import Bus, Envelope
from signalling.relay_calls import MakeUnit

__all__ = ["publisher", "remote", "serve"]

log = logging.getLogger(__name__)

#: A media process silent for this many announcement intervals is taken for dead.
MISSED_ANNOUNCEMENTS = 3
#: A starting media process's check that it hears the bus (nobody else acts on it).
PROBE, PROBE_EVERY_S, PROBES = "media.probe", 0.2, 150


def publisher(bus: Bus) -> Publish:
    async def publish(kind: str, body: dict[str, Any]) -> None:
        await bus.publish(Envelope(kind, body))

    return publish


def remote(bus: Bus, clock: Clock, scope: str, settings: MediaSettings) -> MakeUnit:
    """The relay in separate media processes, for ``RelayCalls``."""
    expire = timedelta(seconds=MISSED_ANNOUNCEMENTS * settings.announce_s)
    return lambda send_offer, on_lost: RemoteUnit(
        publisher(bus),
        scope,
        MediaDirectory(clock, expire),
        send_offer,
        on_lost,
        settings.request_timeout_s,
    )


async def serve(bus: Bus, server: MediaServer, announce_s: float, stop: asyncio.Event) -> None:
    """Run a media process until ``stop`` is set: serve requests, announce the load.

    It announces itself only once it hears its own probe come back over the bus: from
    then on its subscription is live, so no request sent on hearing it is lost."""
    stream: AsyncIterator[Envelope] = bus.subscribe()
    subscribed = asyncio.Event()
    consuming = asyncio.create_task(_consume(stream, server, subscribed), name="media-bus")
    try:
        for _ in range(PROBES):
            await bus.publish(Envelope(PROBE, {"media": server.id}))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(subscribed.wait(), PROBE_EVERY_S)
            if subscribed.is_set() or consuming.done():
                break
        if not subscribed.is_set():
            raise ConnectionError("this media process cannot hear the bus")
        while not stop.is_set():
            await server.announce()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), announce_s)
            if consuming.done():  # the bus connection failed: stop, loudly
                consuming.result()
                raise ConnectionError("the bus subscription ended")
    finally:
        consuming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consuming
        await server.close()


async def _consume(
    stream: AsyncIterator[Envelope], server: MediaServer, subscribed: asyncio.Event
) -> None:
    async for envelope in stream:
        if envelope.kind == wire.REQUEST:
            server.heard(envelope.kind, envelope.body)
        elif envelope.kind == PROBE and envelope.body.get("media") == server.id:
            subscribed.set()
