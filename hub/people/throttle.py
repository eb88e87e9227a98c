"""Back-off for repeated failures from one source (login, tablet enrolment).

A key (an address, or an address with a username) may fail ``threshold`` times
freely; after that each further try must wait ``base_s · 2^(failures − threshold)``
seconds (capped at ``max_s``) from its last failure. Waiting is per key, so a
stranger hammering one account from one address slows only that address: the right
password from anywhere else is never refused. A success clears the key.

State is in memory, per process: bounded (the oldest keys are dropped past
``max_keys``) and forgotten once a key's wait is long over. Time comes from the
injected clock.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.clock import Clock
from hub.errors import LockedOut


@dataclass
class _Failures:
    count: int
    last: datetime


class Throttle:
    def __init__(
        self,
        clock: Clock,
        *,
        threshold: int,
        base_s: int,
        max_s: int,
        what: str = "failed attempts",
        max_keys: int = 100_000,
    ) -> None:
        self._clock = clock
        self.threshold = max(threshold, 1)
        self.base_s = base_s
        self.max_s = max_s
        self.what = what
        self._max_keys = max_keys
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def wait_s(self, key: str) -> int:
        """Seconds ``key`` must still wait before its next try (0: go ahead)."""
        found = self._failures.get(key)
        if found is None or found.count < self.threshold:
            return 0
        remaining = found.last + timedelta(seconds=self._delay_s(found.count)) - self._clock.now()
        if remaining <= timedelta(0):
            return 0
        return int(remaining.total_seconds()) + 1  # whole seconds, rounded up past the end

    def check(self, *keys: str) -> None:
        """Raise LockedOut (HTTP 429 with Retry-After) if any key must still wait."""
        wait = max((self.wait_s(k) for k in keys), default=0)
        if wait:
            raise LockedOut(
                f"too many {self.what}: try again in {_humanise(wait)}", retry_after_s=wait
            )

    def failed(self, *keys: str) -> None:
        now = self._clock.now()
        for key in keys:
            found = self._failures.pop(key, None)
            count = 1 if found is None else found.count + 1
            self._failures[key] = _Failures(count, now)  # newest last
        self._forget(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def failures(self, key: str) -> int:
        found = self._failures.get(key)
        return 0 if found is None else found.count

    def _delay_s(self, count: int) -> int:
        exponent = min(count - self.threshold, 30)
        return int(min(self.base_s * 2**exponent, self.max_s))

    def _forget(self, now: datetime) -> None:
        """Drop keys idle for longer than the longest wait, and the oldest past the cap."""
        horizon = now - timedelta(seconds=self.max_s * 2)
        while self._failures:
            key, oldest = next(iter(self._failures.items()))
            if oldest.last >= horizon and len(self._failures) <= self._max_keys:
                break
            del self._failures[key]


def _humanise(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"
