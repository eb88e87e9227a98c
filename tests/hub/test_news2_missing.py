"""``news2.missing_from``: what the queue shows as missing, read from stored observations
without scoring them again, agrees with ``score`` on every kind of observation set."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from hub.calls import news2

PRESENT = {
    "respiration_rate": 18,
    "systolic_bp": 120,
    "pulse": 80,
    "consciousness": "A",
    "temperature": 37.2,
}
SPO2 = [None, 88, 92, 93, 97]
SCALE = [None, 1, 2]
OXYGEN = [None, True, False]


def stored_sets() -> list[dict[str, Any]]:
    """Observation sets as a call stores them (None values dropped, JSON types)."""
    out = []
    names = list(PRESENT)
    for taken in itertools.product([False, True], repeat=len(names)):
        base = {n: PRESENT[n] for n, keep in zip(names, taken, strict=True) if keep}
        for spo2, scale, oxygen in itertools.product(SPO2, SCALE, OXYGEN):
            extra = {"spo2": spo2, "spo2_scale": scale, "on_oxygen": oxygen}
            out.append(base | {k: v for k, v in extra.items() if v is not None})
    return out


@pytest.mark.parametrize(
    "stored", stored_sets(), ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items())
)
def test_missing_from_stored_agrees_with_scoring(stored: dict[str, Any]) -> None:
    expected = news2.score(news2.Observations(**stored)).missing if stored else news2.PARAMETERS
    assert news2.missing_from(stored) == expected


def test_nothing_taken_is_all_missing() -> None:
    assert news2.missing_from({}) == news2.PARAMETERS


def test_spo2_on_scale_2_at_93_or_more_without_air_or_oxygen_is_missing() -> None:
    stored = {"spo2": 95, "spo2_scale": 2}
    assert news2.missing_from(stored)[:3] == ("respiration_rate", "spo2", "air_or_oxygen")
    assert "spo2" not in news2.missing_from({"spo2": 92, "spo2_scale": 2})
    assert "spo2" not in news2.missing_from({"spo2": 95, "spo2_scale": 2, "on_oxygen": False})
