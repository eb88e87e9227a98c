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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

CHANNEL = "telehub:bus"


@dataclass(frozen=True)
class Envelope:
    kind: str  # "event" (a hub event) or "deliver" (a message for an address)
    body: dict[str, Any]
    to: str = ""  # for "deliver": "staff:<id>", "device:<id>" or "clinicians"

    def encode(self) -> str:
        return json.dumps(
            {"kind": self.kind, "to": self.to, "body": self.body}, separators=(",", ":")
        )

    @classmethod
    def decode(cls, raw: str | bytes) -> Envelope:
        data = json.loads(raw)
        return cls(kind=data["kind"], body=data["body"], to=data.get("to", ""))


class Bus(Protocol):
    local_only: ClassVar[bool]

    async def publish(self, envelope: Envelope) -> None: ...
    def subscribe(self) -> AsyncIterator[Envelope]: ...
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

    async def subscribe(self) -> AsyncIterator[Envelope]:
        queue: asyncio.Queue[Envelope | None] = asyncio.Queue()
        self._queues.add(queue)
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
    """Several processes: one Redis pub/sub channel shared by all of them."""

    local_only: ClassVar[bool] = False

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._closing = asyncio.Event()

    async def publish(self, envelope: Envelope) -> None:
        await self._redis.publish(CHANNEL, envelope.encode())

    async def subscribe(self) -> AsyncIterator[Envelope]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        try:
            while not self._closing.is_set():
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    yield Envelope.decode(message["data"])
        finally:
            with contextlib.suppress(Exception):
                await pubsub.unsubscribe(CHANNEL)
                await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # typed from redis 8

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
