"""A token bucket per connection: short bursts are fine, sustained floods are not."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.clock import Clock


@dataclass
class TokenBucket:
    rate: float  # tokens added per second
    burst: float  # bucket size
    clock: Clock  # its monotonic reading measures the refill
    tokens: float = field(init=False)
    updated: float = field(init=False)
    refused: int = field(default=0, init=False)  # consecutive refusals ("close the abuser")

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.updated = self.clock.monotonic()

    def allow(self) -> bool:
        now = self.clock.monotonic()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return True
        self.refused += 1
        return False
