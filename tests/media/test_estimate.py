"""The relay's cheaper bandwidth estimate (media/relay/estimate.py) gives exactly what
aiortc's gives, frame for frame."""

from __future__ import annotations

from aiortc.rate import RateCounter, RemoteBitrateEstimator
from hypothesis import given, settings
from hypothesis import strategies as st

from media.relay.estimate import SliceRateCounter, faster

# A frame: milliseconds since the last one at the sender and at the receiver, its size.
frames = st.lists(
    st.tuples(st.integers(0, 120), st.integers(0, 3_000), st.integers(0, 60_000)),
    min_size=1,
    max_size=300,
)


@settings(max_examples=200)
@given(frames=frames)
def test_the_estimate_is_aiortcs_frame_for_frame(
    frames: list[tuple[int, int, int]],
) -> None:
    theirs, ours = RemoteBitrateEstimator(), faster(RemoteBitrateEstimator())
    sent = arrived = 0
    for send_gap, arrival_gap, size in frames:
        sent += send_gap
        arrived += arrival_gap
        abs_send_time = (sent * (1 << 18) // 1000) & 0xFFFFFF
        now_ms = 1_000_000 + arrived
        expected = theirs.add(now_ms, abs_send_time, size, 7)
        assert ours.add(now_ms, abs_send_time, size, 7) == expected
        assert ours.incoming_bitrate.rate(now_ms) == theirs.incoming_bitrate.rate(now_ms)
        assert ours.estimator.offset() == theirs.estimator.offset()


@settings(max_examples=300)
@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.integers(-5, 2_500), st.integers(0, 2_000)), max_size=200
    ),
    window=st.sampled_from([1, 2, 7, 1000]),
)
def test_the_rate_counter_is_aiortcs(steps: list[tuple[bool, int, int]], window: int) -> None:
    theirs, ours = RateCounter(window, 8000), SliceRateCounter(window, 8000)
    now = 10_000
    for is_add, gap, value in steps:
        now += gap
        if is_add:
            theirs.add(value, now)
            ours.add(value, now)
        else:
            assert ours.rate(now) == theirs.rate(now)
    assert ours.rate(now) == theirs.rate(now)
