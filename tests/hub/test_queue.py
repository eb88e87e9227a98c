from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.calls.consultation import Reason, State
from hub.calls.news2 import Band
from hub.calls.queue import QueueEntry, estimated_wait_s, order, position

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def entry(
    call_id: int,
    band: str | None,
    minutes_ago: int,
    *,
    missing: tuple[str, ...] = (),
    state: str = "waiting",
) -> QueueEntry:
    return QueueEntry(
        call_id,
        1,
        "Home",
        call_id,
        f"R{call_id}",
        Reason.FALL,
        None if band is None else 3,
        None if band is None else Band(band),
        missing,
        State(state),
        T0 - timedelta(minutes=minutes_ago),
    )


def test_band_first_then_wait() -> None:
    q = [
        entry(1, "low", 30),
        entry(2, "high", 1),
        entry(3, "medium", 5),
        entry(4, "medium", 10),
        entry(5, "low-medium", 2),
    ]
    assert [e.call_id for e in order(q)] == [2, 4, 3, 5, 1]


def test_missing_observations_never_rank_as_low() -> None:
    q = [
        entry(1, "low", 30),
        entry(2, None, 1),
        entry(3, "low", 20, missing=("pulse",)),
        entry(4, "medium", 0),
    ]
    # Not taken and incomplete both sit above a complete low score, below medium.
    assert [e.call_id for e in order(q)] == [4, 3, 2, 1]


def test_equal_priority_and_time_is_stable_by_id() -> None:
    q = [entry(9, "high", 3), entry(8, "high", 3)]
    assert [e.call_id for e in order(q)] == [8, 9]


def test_position_counts_only_waiting_calls() -> None:
    q = [entry(1, "high", 5, state="answered"), entry(2, "low", 9), entry(3, "medium", 1)]
    assert position(q, 3) == 1 and position(q, 2) == 2 and position(q, 1) is None


def test_estimated_wait() -> None:
    assert estimated_wait_s(1, 2, 600) == 60
    assert estimated_wait_s(3, 2, 600) == 660
    assert estimated_wait_s(3, 0, 600) == 60 + 2 * 600  # nobody free: one at a time
