"""The relay's bandwidth estimate for each publisher, at a lower cost per frame.

aiortc's ``RemoteBitrateEstimator`` (libwebrtc's abs-send-time estimator) gives the
REMB the relay sends each publishing browser: on a care home's congested Wi-Fi it is
what keeps a tablet's uplink from queueing. It runs once per forwarded frame (the C
path feeds it a frame at a time; media/relay/passthrough.py) and, in Python, cost
about 19 µs a frame, more than half of it in two loops: the incoming-rate counter
clears its one-millisecond buckets one by one (about 33 a frame at 30 frames/s), and
the minimum frame period is found by calling ``min`` once per remembered delta.

``faster`` swaps those two parts of a new estimator for versions that compute the same
numbers with slices and one ``min`` (tests/media/test_estimate.py feeds both the same
frames and compares every result); everything else is aiortc's.
"""

from __future__ import annotations

from aiortc.rate import (
    MIN_FRAME_PERIOD_HISTORY_LENGTH,
    OveruseEstimator,
    RateCounter,
    RemoteBitrateEstimator,
)

__all__ = ["SliceOveruseEstimator", "SliceRateCounter", "faster"]


def faster(estimator: RemoteBitrateEstimator) -> RemoteBitrateEstimator:
    """Give a new estimator (no packet seen yet) the cheaper rate counter and overuse
    estimator; the same object is returned."""
    estimator.incoming_bitrate = SliceRateCounter(1000, 8000)
    estimator.estimator = SliceOveruseEstimator()
    return estimator


class SliceRateCounter(RateCounter):
    """aiortc's ``RateCounter`` (amounts in one-millisecond buckets over a window),
    with old buckets cleared a slice at a time instead of one per millisecond."""

    def __init__(self, window_size: int, scale: int = 8000) -> None:
        self._window_size = window_size
        self._scale = scale
        self.reset()

    def reset(self) -> None:
        self._counts = [0] * self._window_size
        self._values = [0] * self._window_size
        self._origin_index = 0
        self._origin_ms: int | None = None
        self._count = 0
        self._value = 0

    def add(self, value: int, now_ms: int) -> None:
        if self._origin_ms is None:
            self._origin_ms = now_ms
        else:
            self._erase_old(now_ms)
        index = (self._origin_index + now_ms - self._origin_ms) % self._window_size
        self._counts[index] += 1
        self._values[index] += value
        self._count += 1
        self._value += value

    def rate(self, now_ms: int) -> int | None:
        if self._origin_ms is not None:
            self._erase_old(now_ms)
            active_window_size = now_ms - self._origin_ms + 1
            if self._count > 0 and active_window_size > 1:
                return round(self._scale * self._value / active_window_size)
        return None

    def _erase_old(self, now_ms: int) -> None:
        assert self._origin_ms is not None
        gone = now_ms - self._window_size + 1 - self._origin_ms
        if gone <= 0:
            return
        size = self._window_size
        start = self._origin_index
        if gone >= size:
            self._counts = [0] * size
            self._values = [0] * size
            self._count = self._value = 0
        else:
            end = start + gone
            spans = [(start, end)] if end <= size else [(start, size), (0, end - size)]
            for a, b in spans:
                self._count -= sum(self._counts[a:b])
                self._value -= sum(self._values[a:b])
                self._counts[a:b] = [0] * (b - a)
                self._values[a:b] = [0] * (b - a)
        self._origin_index = (start + gone) % size
        self._origin_ms += gone


class SliceOveruseEstimator(OveruseEstimator):
    """aiortc's ``OveruseEstimator`` with the minimum frame period taken by one ``min``
    over the remembered deltas (the same value: the smallest of them and this one)."""

    def update_min_frame_period(self, ts_delta: float) -> float:
        history = self.ts_delta_hist
        if len(history) >= MIN_FRAME_PERIOD_HISTORY_LENGTH:
            history.pop(0)
        min_frame_period = min(ts_delta, min(history)) if history else ts_delta
        history.append(ts_delta)
        return min_frame_period
