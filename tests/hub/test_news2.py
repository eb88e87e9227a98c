"""NEWS2 against the RCP 2017 chart: both sides of every threshold, bands, missing data."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError, replace
from decimal import Decimal
from typing import Any

import pytest

from hub.calls.news2 import (
    BANDS_BY_URGENCY,
    PARAMETERS,
    Band,
    Consciousness,
    ObservationError,
    Observations,
    Result,
    SpO2Scale,
    round_temperature,
    score,
)
from hub.errors import ValidationError

# Every parameter measured and scoring 0.
NORMAL = Observations(
    respiration_rate=16,
    spo2=97,
    spo2_scale=SpO2Scale.ONE,
    on_oxygen=False,
    systolic_bp=120,
    pulse=70,
    consciousness=Consciousness.ALERT,
    temperature=37.0,
)


def points(name: str, **changes: Any) -> int | None:
    """The score of parameter ``name`` when NORMAL is changed by ``changes``."""
    return score(replace(NORMAL, **changes)).parameters[name]


# --- each parameter: both sides of every threshold ------------------------------------


@pytest.mark.parametrize(
    ("rr", "expected"),
    [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (80, 3)],
)
def test_respiration_rate(rr: int, expected: int) -> None:
    assert points("respiration_rate", respiration_rate=rr) == expected


@pytest.mark.parametrize(
    ("spo2", "expected"),
    [(50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)],
)
@pytest.mark.parametrize("on_oxygen", [False, True, None])
def test_spo2_scale_1_ignores_oxygen(spo2: int, expected: int, on_oxygen: bool | None) -> None:
    assert points("spo2", spo2=spo2, on_oxygen=on_oxygen) == expected


@pytest.mark.parametrize(
    ("spo2", "expected"),
    [(50, 3), (83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0)],
)
@pytest.mark.parametrize("on_oxygen", [False, True, None])
def test_spo2_scale_2_up_to_92_ignores_oxygen(
    spo2: int, expected: int, on_oxygen: bool | None
) -> None:
    assert points("spo2", spo2=spo2, spo2_scale=SpO2Scale.TWO, on_oxygen=on_oxygen) == expected


@pytest.mark.parametrize("spo2", [93, 94, 96, 97, 100])
def test_spo2_scale_2_93_or_more_on_air_scores_0(spo2: int) -> None:
    assert points("spo2", spo2=spo2, spo2_scale=SpO2Scale.TWO, on_oxygen=False) == 0


@pytest.mark.parametrize(
    ("spo2", "expected"), [(92, 0), (93, 1), (94, 1), (95, 2), (96, 2), (97, 3), (100, 3)]
)
def test_spo2_scale_2_on_oxygen(spo2: int, expected: int) -> None:
    assert points("spo2", spo2=spo2, spo2_scale=SpO2Scale.TWO, on_oxygen=True) == expected


@pytest.mark.parametrize("spo2", [93, 97, 100])
def test_spo2_scale_2_93_or_more_with_oxygen_unknown_is_missing(spo2: int) -> None:
    result = score(replace(NORMAL, spo2=spo2, spo2_scale=SpO2Scale.TWO, on_oxygen=None))
    assert result.parameters["spo2"] is None
    assert result.missing == ("spo2", "air_or_oxygen")
    assert not result.complete


def test_spo2_scale_accepts_raw_value() -> None:
    raw: Any = 2
    obs = replace(NORMAL, spo2_scale=raw, spo2=97, on_oxygen=True)
    assert obs.spo2_scale is SpO2Scale.TWO
    assert score(obs).parameters["spo2"] == 3


@pytest.mark.parametrize(("on_oxygen", "expected"), [(False, 0), (True, 2), (None, None)])
def test_air_or_oxygen(on_oxygen: bool | None, expected: int | None) -> None:
    assert points("air_or_oxygen", on_oxygen=on_oxygen) == expected


@pytest.mark.parametrize(
    ("sbp", "expected"),
    [
        (40, 3),
        (90, 3),
        (91, 2),
        (100, 2),
        (101, 1),
        (110, 1),
        (111, 0),
        (219, 0),
        (220, 3),
        (300, 3),
    ],
)
def test_systolic_bp(sbp: int, expected: int) -> None:
    assert points("systolic_bp", systolic_bp=sbp) == expected


@pytest.mark.parametrize(
    ("pulse", "expected"),
    [
        (20, 3),
        (40, 3),
        (41, 1),
        (50, 1),
        (51, 0),
        (90, 0),
        (91, 1),
        (110, 1),
        (111, 2),
        (130, 2),
        (131, 3),
        (300, 3),
    ],
)
def test_pulse(pulse: int, expected: int) -> None:
    assert points("pulse", pulse=pulse) == expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Consciousness.ALERT, 0),
        (Consciousness.NEW_CONFUSION, 3),
        (Consciousness.VOICE, 3),
        (Consciousness.PAIN, 3),
        (Consciousness.UNRESPONSIVE, 3),
    ],
)
def test_consciousness(level: Consciousness, expected: int) -> None:
    assert points("consciousness", consciousness=level) == expected


@pytest.mark.parametrize(("raw", "expected"), [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_consciousness_accepts_acvpu_letters(raw: Any, expected: int) -> None:
    obs = replace(NORMAL, consciousness=raw)
    assert obs.consciousness is Consciousness(raw)
    assert score(obs).parameters["consciousness"] == expected


@pytest.mark.parametrize(
    ("temp", "expected"),
    [
        (25.0, 3),
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (37, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (45.0, 2),
    ],
)
def test_temperature(temp: float, expected: int) -> None:
    assert points("temperature", temperature=temp) == expected


# --- temperature rounding: one decimal, half up -----------------------------------------


@pytest.mark.parametrize(
    ("temp", "rounded"),
    [
        (35.04, "35.0"),
        (35.05, "35.1"),
        (36.05, "36.1"),
        (38.05, "38.1"),
        (39.049, "39.0"),
        (37, "37.0"),
        (36.95, "37.0"),
    ],
)
def test_round_temperature_half_up(temp: float, rounded: str) -> None:
    assert round_temperature(temp) == Decimal(rounded)


@pytest.mark.parametrize(
    ("temp", "expected"),
    [
        (35.04, 3),
        (35.05, 1),
        (36.04, 1),
        (36.05, 0),
        (38.04, 0),
        (38.05, 1),
        (39.04, 1),
        (39.05, 2),
    ],
)
def test_temperature_scored_after_rounding(temp: float, expected: int) -> None:
    assert points("temperature", temperature=temp) == expected


def test_temperature_range_checked_after_rounding() -> None:
    assert points("temperature", temperature=24.95) == 3
    assert points("temperature", temperature=45.04) == 2


# --- aggregate, flags and bands ---------------------------------------------------------


def test_all_normal_is_complete_low() -> None:
    result = score(NORMAL)
    assert result == Result(
        parameters=dict.fromkeys(PARAMETERS, 0),
        missing=(),
        aggregate=0,
        complete=True,
        single_parameter_3=False,
        band=Band.LOW,
    )
    assert tuple(result.parameters) == PARAMETERS


def test_worst_everything_scores_20() -> None:
    result = score(
        Observations(
            respiration_rate=30,
            spo2=85,
            on_oxygen=True,
            systolic_bp=80,
            pulse=140,
            consciousness=Consciousness.UNRESPONSIVE,
            temperature=34.0,
        )
    )
    assert result.aggregate == 20
    assert result.band is Band.HIGH
    assert result.single_parameter_3


@pytest.mark.parametrize(
    ("changes", "aggregate", "band"),
    [
        ({"respiration_rate": 22, "pulse": 111}, 4, Band.LOW),
        ({"respiration_rate": 22, "pulse": 111, "temperature": 38.5}, 5, Band.MEDIUM),
        (
            {"respiration_rate": 22, "pulse": 111, "temperature": 38.5, "systolic_bp": 105},
            6,
            Band.MEDIUM,
        ),
        (
            {"respiration_rate": 22, "pulse": 111, "temperature": 38.5, "systolic_bp": 105}
            | {"spo2": 94},
            7,
            Band.HIGH,
        ),
    ],
)
def test_aggregate_band_boundaries_without_a_3(
    changes: dict[str, Any], aggregate: int, band: Band
) -> None:
    result = score(replace(NORMAL, **changes))
    assert (result.aggregate, result.band, result.single_parameter_3) == (aggregate, band, False)


@pytest.mark.parametrize(
    ("changes", "aggregate", "band"),
    [
        ({"respiration_rate": 30}, 3, Band.LOW_MEDIUM),
        ({"consciousness": Consciousness.NEW_CONFUSION, "temperature": 38.5}, 4, Band.LOW_MEDIUM),
        ({"systolic_bp": 90, "on_oxygen": True}, 5, Band.MEDIUM),
        ({"pulse": 131, "on_oxygen": True, "temperature": 38.5}, 6, Band.MEDIUM),
        ({"temperature": 35.0, "on_oxygen": True, "pulse": 111}, 7, Band.HIGH),
    ],
)
def test_single_parameter_3(changes: dict[str, Any], aggregate: int, band: Band) -> None:
    result = score(replace(NORMAL, **changes))
    assert (result.aggregate, result.band, result.single_parameter_3) == (aggregate, band, True)


def test_aggregate_3_without_a_single_3_is_low() -> None:
    result = score(replace(NORMAL, respiration_rate=22, temperature=38.5))
    assert (result.aggregate, result.band, result.single_parameter_3) == (3, Band.LOW, False)


# --- missing observations ---------------------------------------------------------------


def test_nothing_measured_is_all_missing() -> None:
    result = score(Observations())
    assert result.missing == PARAMETERS
    assert dict(result.parameters) == dict.fromkeys(PARAMETERS)
    assert result.aggregate == 0
    assert not result.complete
    assert not result.single_parameter_3


def test_partial_observations_sum_only_what_was_scored() -> None:
    result = score(Observations(respiration_rate=25, pulse=111))
    assert result.parameters["respiration_rate"] == 3
    assert result.parameters["pulse"] == 2
    assert result.missing == (
        "spo2",
        "air_or_oxygen",
        "systolic_bp",
        "consciousness",
        "temperature",
    )
    assert result.aggregate == 5
    assert not result.complete
    assert result.band is Band.MEDIUM


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("respiration_rate", "respiration_rate"),
        ("spo2", "spo2"),
        ("air_or_oxygen", "on_oxygen"),
        ("systolic_bp", "systolic_bp"),
        ("pulse", "pulse"),
        ("consciousness", "consciousness"),
        ("temperature", "temperature"),
    ],
)
def test_each_missing_parameter_is_reported_and_not_scored(name: str, field: str) -> None:
    changes: dict[str, Any] = {field: None}
    result = score(replace(NORMAL, **changes))
    assert result.parameters[name] is None
    assert result.missing == (name,)
    assert not result.complete
    assert result.aggregate == 0


def test_missing_spo2_on_oxygen_still_scores_oxygen() -> None:
    result = score(replace(NORMAL, spo2=None, on_oxygen=True))
    assert result.missing == ("spo2",)
    assert result.aggregate == 2


# --- band ordering and immutability -----------------------------------------------------


def test_band_rank_orders_by_urgency() -> None:
    assert [b.rank for b in (Band.LOW, Band.LOW_MEDIUM, Band.MEDIUM, Band.HIGH)] == [0, 1, 2, 3]
    assert sorted(Band, key=lambda b: b.rank, reverse=True) == list(BANDS_BY_URGENCY)
    assert BANDS_BY_URGENCY[0] is Band.HIGH
    assert [str(b) for b in BANDS_BY_URGENCY] == ["high", "medium", "low-medium", "low"]


def test_results_are_immutable() -> None:
    result = score(NORMAL)
    with pytest.raises(TypeError):
        result.parameters["pulse"] = 3  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        result.aggregate = 3  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        NORMAL.pulse = 3  # type: ignore[misc]
    assert hash(result) == hash(score(NORMAL))


# --- validation: exact messages ---------------------------------------------------------

OUT_OF_RANGE: list[tuple[dict[str, Any], str]] = [
    ({"respiration_rate": 120}, "respiration_rate must be between 0 and 80 breaths/min, got 120"),
    ({"respiration_rate": 81}, "respiration_rate must be between 0 and 80 breaths/min, got 81"),
    ({"respiration_rate": -1}, "respiration_rate must be between 0 and 80 breaths/min, got -1"),
    ({"spo2": 49}, "spo2 must be between 50 and 100%, got 49"),
    ({"spo2": 101}, "spo2 must be between 50 and 100%, got 101"),
    ({"systolic_bp": 39}, "systolic_bp must be between 40 and 300 mmHg, got 39"),
    ({"systolic_bp": 301}, "systolic_bp must be between 40 and 300 mmHg, got 301"),
    ({"pulse": 19}, "pulse must be between 20 and 300 bpm, got 19"),
    ({"pulse": 301}, "pulse must be between 20 and 300 bpm, got 301"),
    ({"temperature": 24.9}, "temperature must be between 25.0 and 45.0 °C, got 24.9"),
    ({"temperature": 24.94}, "temperature must be between 25.0 and 45.0 °C, got 24.94"),
    ({"temperature": 45.1}, "temperature must be between 25.0 and 45.0 °C, got 45.1"),
    ({"temperature": 45.05}, "temperature must be between 25.0 and 45.0 °C, got 45.05"),
    ({"temperature": math.nan}, "temperature must be between 25.0 and 45.0 °C, got nan"),
    ({"temperature": math.inf}, "temperature must be between 25.0 and 45.0 °C, got inf"),
]

WRONG_TYPE: list[tuple[dict[str, Any], str]] = [
    ({"spo2": 95.5}, "spo2 must be a whole number, got 95.5"),
    ({"pulse": True}, "pulse must be a whole number, got True"),
    ({"respiration_rate": "16"}, "respiration_rate must be a whole number, got '16'"),
    ({"temperature": "37.0"}, "temperature must be a number, got '37.0'"),
    ({"temperature": False}, "temperature must be a number, got False"),
    ({"on_oxygen": "yes"}, "on_oxygen must be true, false or not recorded, got 'yes'"),
    ({"spo2_scale": 3}, "spo2_scale must be 1 or 2, got 3"),
    ({"consciousness": "X"}, "consciousness must be one of A, C, V, P, U, got 'X'"),
]


@pytest.mark.parametrize(("kwargs", "message"), OUT_OF_RANGE + WRONG_TYPE)
def test_invalid_observations_raise_with_exact_message(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ObservationError) as caught:
        Observations(**kwargs)
    assert str(caught.value) == message
    assert caught.value.message == message
    assert caught.value.field == next(iter(kwargs))


def test_observation_error_is_a_validation_and_value_error() -> None:
    assert issubclass(ObservationError, ValidationError)
    assert issubclass(ObservationError, ValueError)
