"""The event bus between telehub processes: in-memory (one process) or Redis pub/sub.

Everything a process must tell a connection that may live on another process goes
through the bus as an ``Envelope``: domain events ("call 7 changed") and addressed
messages ("relay this SDP to device:3"). Every process subscribes and delivers what
is addressed to its own connections. With one process, the in-memory bus is the same
interface with no network in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from signalling.json_text import compact_json

CHANNEL = "telehub:bus"
#: Yielded by a subscription that came back after the bus was away: state may be stale.
RESYNC = "resync"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Envelope:
    kind: str  # "event" (a hub event) or "deliver" (a message for an address)
    body: dict[str, Any]
    to: str = ""  # for "deliver": "staff:<id>", "device:<id>" or "clinicians"

    def encode(self) -> str:
        return compact_json({"kind": self.kind, "to": self.to, "body": self.body})

    @classmethod
    def decode(cls, raw: str | bytes) -> Envelope:
        data = json.loads(raw)
        return cls(kind=data["kind"], body=data["body"], to=data.get("to", ""))


class Bus(Protocol):
    local_only: ClassVar[bool]

    async def publish(self, envelope: Envelope) -> None: ...
    def subscribe(self, subscribed: asyncio.Event | None = None) -> AsyncIterator[Envelope]:
        """Every envelope published from now on. ``subscribed`` is set once the
        subscription is live (on Redis: once its SUBSCRIBE is answered), so that what is
        published after it is never missed."""
        ...

    async def ping(self) -> None:
        """Raise unless the bus answers (readiness checks and the bus latency metric)."""
        ...

    async def close(self) -> None: ...


@dataclass
class MemoryBus:
    """One process: every subscriber gets every envelope, in order."""

    # Everyone who could be addressed is in this process: the switchboard may deliver
    # addressed messages directly instead of queueing them behind hub events.
    local_only: ClassVar[bool] = True
    _queues: set[asyncio.Queue[Envelope | None]] = field(default_factory=set)

    async def publish(self, envelope: Envelope) -> None:
        for queue in list(self._queues):
            queue.put_nowait(envelope)

    async def subscribe(self, subscribed: asyncio.Event | None = None) -> AsyncIterator[Envelope]:
        queue: asyncio.Queue[Envelope | None] = asyncio.Queue()
        self._queues.add(queue)
        if subscribed is not None:
            subscribed.set()
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            self._queues.discard(queue)

    async def ping(self) -> None:
        """Always there: it is this process."""

    async def close(self) -> None:
        for queue in list(self._queues):
            queue.put_nowait(None)


class RedisBus:
    """Several processes: one Redis pub/sub channel shared by all of them.

    Redis may go away (restarted, network cut). Then:

    - ``publish`` delivers the envelope to this process's own subscribers and logs a
      warning instead of failing the request that caused it (whatever that request wrote
      is committed already; the users on this process still hear of it; other processes
      miss it until they resynchronise);
    - ``subscribe`` keeps trying to subscribe again (with back-off, capped at
      ``RETRY_MAX_S``) and, once back, yields a ``resync`` envelope so the switchboard
      can send its clients fresh state for what they missed.
    """

    local_only: ClassVar[bool] = False
    RETRY_MAX_S: ClassVar[float] = 5.0

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        # A dead Redis must not hold a request for long: connecting gives up after 3 s.
        self._redis = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=10)
        self._closing = asyncio.Event()
        self._local: set[asyncio.Queue[Envelope]] = set()  # while Redis is away

    async def publish(self, envelope: Envelope) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.publish(CHANNEL, envelope.encode())
        except (RedisError, OSError) as err:
            log.warning(
                "bus unreachable (%s): %s delivered on this process only",
                type(err).__name__,
                envelope.kind,
            )
            for queue in list(self._local):
                queue.put_nowait(envelope)

    async def subscribe(self, subscribed: asyncio.Event | None = None) -> AsyncIterator[Envelope]:
        from redis.exceptions import RedisError

        local: asyncio.Queue[Envelope] = asyncio.Queue()
        self._local.add(local)
        delay, lost = 0.2, False
        try:
            while not self._closing.is_set():
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                try:
                    await pubsub.subscribe(CHANNEL)
                    if subscribed is not None:
                        subscribed.set()
                    if lost:
                        log.warning("bus reachable again: resynchronising")
                        yield Envelope(RESYNC, {})
                    lost, delay = False, 0.2
                    while not self._closing.is_set():
                        while not local.empty():
                            yield local.get_nowait()
                        message = await pubsub.get_message(timeout=0.5)
                        if message is not None:
                            yield Envelope.decode(message["data"])
                except (RedisError, OSError) as err:
                    if not lost:
                        log.warning("bus subscription lost (%s): retrying", type(err).__name__)
                    lost = True
                    if subscribed is not None:
                        # Redis is away: the subscriber carries on with this process's own
                        # envelopes, and a resync once it is back; waiting longer for it
                        # would hold up a start.
                        subscribed.set()
                    # Until the next try, pass on at once what this process publishes.
                    loop = asyncio.get_running_loop()
                    until = loop.time() + delay
                    while (left := until - loop.time()) > 0 and not self._closing.is_set():
                        try:
                            yield await asyncio.wait_for(local.get(), left)
                        except TimeoutError:
                            break
                    delay = min(self.RETRY_MAX_S, delay * 2)
                finally:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # typed from redis 8
        finally:
            self._local.discard(local)

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        self._closing.set()
        await self._redis.aclose()


def make_bus(url: str) -> Bus:
    """``memory://`` (the default) or ``redis://host:port/db``."""
    if url.startswith("memory:"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url)
    raise ValueError(f"unknown bus URL {url!r}: use memory:// or redis://host:port/0")
