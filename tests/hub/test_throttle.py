"""Back-off per key (hub/people/throttle.py), on an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.clock import FixedClock
from hub.errors import LockedOut
from hub.people.throttle import Throttle


def make(clock: FixedClock, **kw: int) -> Throttle:
    return Throttle(clock, **{"threshold": 3, "base_s": 30, "max_s": 3600, **kw})


def test_free_tries_then_doubling_waits(clock: FixedClock) -> None:
    t = make(clock)
    for _ in range(2):
        t.failed("a")
        t.check("a")
    t.failed("a")  # 3rd: wait 30 s
    with pytest.raises(LockedOut, match="too many failed attempts: try again in 31 seconds") as e:
        t.check("a")
    assert e.value.retry_after_s == 31
    t.check("b")  # other keys are not slowed
    clock.advance(timedelta(seconds=30))
    t.check("a")
    t.failed("a")  # 4th: 60 s
    clock.advance(timedelta(seconds=59))
    assert t.wait_s("a") == 2
    clock.advance(timedelta(seconds=1))
    assert t.wait_s("a") == 0


def test_waits_are_capped_and_said_in_minutes(clock: FixedClock) -> None:
    t = make(clock, max_s=600)
    for _ in range(40):
        t.failed("a")
    with pytest.raises(LockedOut, match="try again in 11 minutes"):
        t.check("a")


def test_success_clears_only_its_key(clock: FixedClock) -> None:
    t = make(clock)
    for _ in range(3):
        t.failed("a", "b")
    t.succeeded("a")
    t.check("a")
    with pytest.raises(LockedOut):
        t.check("a", "b")


def test_memory_is_bounded(clock: FixedClock) -> None:
    t = make(clock, max_keys=100)
    for i in range(1000):
        t.failed(f"k{i}")
    assert t.failures("k999") == 1 and t.failures("k0") == 0
    clock.advance(timedelta(hours=3))  # long past the longest wait: forgotten
    t.failed("new")
    assert t.failures("k999") == 0
