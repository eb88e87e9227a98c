"""The per-connection token bucket, driven by an injected clock (no real time passes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.clock import FixedClock
from signalling.ratelimit import TokenBucket


def _bucket(rate: float = 2, burst: float = 3) -> tuple[TokenBucket, FixedClock]:
    clock = FixedClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    return TokenBucket(rate, burst, clock), clock


def test_a_burst_passes_then_the_next_message_is_refused() -> None:
    bucket, _ = _bucket(burst=3)
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]
    assert bucket.refused == 1


def test_refusals_count_up_while_the_flood_goes_on_and_reset_once_one_passes() -> None:
    bucket, clock = _bucket(rate=2, burst=1)
    assert bucket.allow()
    assert [bucket.allow() for _ in range(5)] == [False] * 5
    assert bucket.refused == 5
    clock.advance(timedelta(seconds=0.5))  # one token at 2 per second
    assert bucket.allow() and bucket.refused == 0


def test_the_bucket_refills_at_its_rate_and_never_above_its_size() -> None:
    bucket, clock = _bucket(rate=2, burst=3)
    for _ in range(3):
        assert bucket.allow()
    clock.advance(timedelta(seconds=1))  # two tokens back
    assert [bucket.allow() for _ in range(3)] == [True, True, False]
    clock.advance(timedelta(hours=1))  # a long quiet spell fills it to the brim only
    assert [bucket.allow() for _ in range(4)] == [True, True, True, False]


def test_no_time_passing_means_no_refill() -> None:
    bucket, _ = _bucket(rate=1000, burst=2)
    assert [bucket.allow() for _ in range(3)] == [True, True, False]
