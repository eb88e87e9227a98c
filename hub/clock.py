"""Time as a port: the domain never calls ``datetime.now()`` or ``time.monotonic()``
itself; it asks the clock it was given."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never go backwards: for measuring
        intervals (rate limits, "at most every n seconds"), not for showing a time."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class FixedClock:
    """A clock for tests and simulations: it moves only when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.current.timestamp()

    def advance(self, delta: timedelta) -> None:
        self.current = self.current + delta
