"""NEWS2: the National Early Warning Score 2 (Royal College of Physicians, 2017).

Pure scoring, no IO. Each parameter scores 0–3, the aggregate is 0–20 and the clinical
response band follows from the aggregate and from any single parameter scoring 3.

A parameter that was not measured is *missing*: it gets no score, is listed in
``Result.missing`` and never counts as normal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import TypeVar

from hub.errors import ValidationError


class ObservationError(ValidationError, ValueError):
    """A physiologically impossible (or wrongly typed) observation."""


class Consciousness(StrEnum):
    """ACVPU."""

    ALERT = "A"
    NEW_CONFUSION = "C"
    VOICE = "V"
    PAIN = "P"
    UNRESPONSIVE = "U"

    @property
    def label(self) -> str:
        return _CONSCIOUSNESS_LABELS[self]


_CONSCIOUSNESS_LABELS = {
    Consciousness.ALERT: "alert",
    Consciousness.NEW_CONFUSION: "new confusion",
    Consciousness.VOICE: "responds to voice",
    Consciousness.PAIN: "responds to pain",
    Consciousness.UNRESPONSIVE: "unresponsive",
}


class SpO2Scale(IntEnum):
    """Scale 2 only for confirmed hypercapnic respiratory failure, prescribed by a clinician."""

    ONE = 1
    TWO = 2


class Band(StrEnum):
    """Clinical response band; ``rank`` grows with urgency (HIGH is most urgent)."""

    LOW = "low"
    LOW_MEDIUM = "low-medium"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return BANDS_BY_URGENCY[::-1].index(self)


#: Most urgent first: ``sorted(items, key=lambda i: i.band.rank, reverse=True)`` agrees.
BANDS_BY_URGENCY: tuple[Band, ...] = (Band.HIGH, Band.MEDIUM, Band.LOW_MEDIUM, Band.LOW)

#: Result parameter names, in chart order.
PARAMETERS: tuple[str, ...] = (
    "respiration_rate",
    "spo2",
    "air_or_oxygen",
    "systolic_bp",
    "pulse",
    "consciousness",
    "temperature",
)

# name -> (lowest, highest, unit) of values accepted as physiologically possible.
_INT_RANGES: dict[str, tuple[int, int, str]] = {
    "respiration_rate": (0, 80, " breaths/min"),
    "spo2": (50, 100, "%"),
    "systolic_bp": (40, 300, " mmHg"),
    "pulse": (20, 300, " bpm"),
}
_TEMP_MIN, _TEMP_MAX = Decimal("25.0"), Decimal("45.0")
_TENTH = Decimal("0.1")
_N = TypeVar("_N", int, Decimal)


def round_temperature(celsius: float) -> Decimal:
    """Round to one decimal, half up (38.05 -> 38.1), via ``Decimal(str(celsius))``.

    ``str`` gives the shortest repr, so 38.05 is rounded as typed, not as its binary
    approximation (38.04999...); banker's rounding (``round``) is never used.
    """
    return Decimal(str(celsius)).quantize(_TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, kw_only=True)
class Observations:
    """One set of observations; ``None`` means "not measured".

    ``consciousness`` and ``spo2_scale`` also accept their raw values ("A", 2).
    """

    respiration_rate: int | None = None  # breaths/min
    spo2: int | None = None  # %
    spo2_scale: SpO2Scale = SpO2Scale.ONE
    on_oxygen: bool | None = None
    systolic_bp: int | None = None  # mmHg
    pulse: int | None = None  # bpm
    consciousness: Consciousness | None = None
    temperature: float | None = None  # °C, one decimal

    def __post_init__(self) -> None:
        for name, (lo, hi, unit) in _INT_RANGES.items():
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ObservationError(f"{name} must be a whole number, got {value!r}", field=name)
            if not lo <= value <= hi:
                raise ObservationError(
                    f"{name} must be between {lo} and {hi}{unit}, got {value}", field=name
                )
        _check_temperature(self.temperature)
        if self.on_oxygen is not None and not isinstance(self.on_oxygen, bool):
            raise ObservationError(
                f"on_oxygen must be true, false or not recorded, got {self.on_oxygen!r}",
                field="on_oxygen",
            )
        try:
            object.__setattr__(self, "spo2_scale", SpO2Scale(self.spo2_scale))
        except ValueError:
            raise ObservationError(
                f"spo2_scale must be 1 or 2, got {self.spo2_scale!r}", field="spo2_scale"
            ) from None
        if self.consciousness is not None:
            try:
                object.__setattr__(self, "consciousness", Consciousness(self.consciousness))
            except ValueError:
                raise ObservationError(
                    f"consciousness must be one of A, C, V, P, U, got {self.consciousness!r}",
                    field="consciousness",
                ) from None


def _check_temperature(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ObservationError(f"temperature must be a number, got {value!r}", field="temperature")
    try:
        rounded = round_temperature(value)
        ok = _TEMP_MIN <= rounded <= _TEMP_MAX
    except InvalidOperation:  # inf / nan cannot be quantized
        ok = False
    if not ok:
        raise ObservationError(
            f"temperature must be between 25.0 and 45.0 °C, got {value}", field="temperature"
        )


@dataclass(frozen=True, kw_only=True)
class Result:
    """A NEWS2 score.

    When ``complete`` is False the ``aggregate`` (and so the ``band``) is a lower bound
    over the parameters that were scored: it must never be read as "normal". The
    names in ``missing`` are to be shown as missing.
    """

    parameters: Mapping[str, int | None] = field(hash=False)
    missing: tuple[str, ...]
    aggregate: int
    complete: bool
    single_parameter_3: bool
    band: Band


def score(obs: Observations) -> Result:
    """Score ``obs`` on the RCP 2017 NEWS2 chart.

    On SpO2 scale 2 a saturation of 93% or more scores 0 on air but 1–3 on oxygen, so
    when ``on_oxygen`` is not recorded such a reading cannot be scored: ``spo2`` is
    then reported as missing (as is ``air_or_oxygen``).
    """
    scores: dict[str, int | None] = {
        "respiration_rate": _row(obs.respiration_rate, _RR_ROWS, 3),
        "spo2": _spo2(obs.spo2, obs.spo2_scale, obs.on_oxygen),
        "air_or_oxygen": None if obs.on_oxygen is None else (2 if obs.on_oxygen else 0),
        "systolic_bp": _row(obs.systolic_bp, _SBP_ROWS, 3),
        "pulse": _row(obs.pulse, _PULSE_ROWS, 3),
        "consciousness": (
            None
            if obs.consciousness is None
            else (0 if obs.consciousness is Consciousness.ALERT else 3)
        ),
        "temperature": _row(
            None if obs.temperature is None else round_temperature(obs.temperature), _TEMP_ROWS, 2
        ),
    }
    missing = tuple(name for name in PARAMETERS if scores[name] is None)
    aggregate = sum(s for s in scores.values() if s is not None)
    single_3 = any(s == 3 for s in scores.values())
    if aggregate >= 7:
        band = Band.HIGH
    elif aggregate >= 5:
        band = Band.MEDIUM
    elif single_3:
        band = Band.LOW_MEDIUM
    else:
        band = Band.LOW
    return Result(
        parameters=MappingProxyType(scores),
        missing=missing,
        aggregate=aggregate,
        complete=not missing,
        single_parameter_3=single_3,
        band=band,
    )


# Chart rows as (highest value in the row, score); a value above every row scores `above`.
_RR_ROWS = ((8, 3), (11, 1), (20, 0), (24, 2))
_SPO2_1_ROWS = ((91, 3), (93, 2), (95, 1))
_SPO2_2_ROWS = ((83, 3), (85, 2), (87, 1), (92, 0))
_SPO2_2_OXYGEN_ROWS = ((94, 1), (96, 2))
_SBP_ROWS = ((90, 3), (100, 2), (110, 1), (219, 0))
_PULSE_ROWS = ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2))
_TEMP_ROWS = (
    (Decimal("35.0"), 3),
    (Decimal("36.0"), 1),
    (Decimal("38.0"), 0),
    (Decimal("39.0"), 1),
)


def _row(value: _N | None, rows: tuple[tuple[_N, int], ...], above: int) -> int | None:
    if value is None:
        return None
    for upper, points in rows:
        if value <= upper:
            return points
    return above


def _spo2(spo2: int | None, scale: SpO2Scale, on_oxygen: bool | None) -> int | None:
    if spo2 is None:
        return None
    if scale is SpO2Scale.ONE:
        return _row(spo2, _SPO2_1_ROWS, 0)
    if spo2 <= 92:
        return _row(spo2, _SPO2_2_ROWS, 0)
    if on_oxygen is None:  # >= 93% on scale 2 scores by air vs oxygen, which is unknown
        return None
    return _row(spo2, _SPO2_2_OXYGEN_ROWS, 3) if on_oxygen else 0


def missing_from(stored: Mapping[str, object]) -> tuple[str, ...]:
    """The parameters missing from a stored observation set (all of them if none was
    taken), read from what was stored without scoring it again (the score and band are
    stored when the observations are taken; readers such as the live queue must not
    re-score). The same rule as ``score``: a parameter is missing when it was not
    measured, and so is SpO2 on scale 2 at 93 % or more with air/oxygen not recorded."""
    if not stored:
        return PARAMETERS
    return tuple(name for name in PARAMETERS if _unmeasured(name, stored))


def _unmeasured(name: str, stored: Mapping[str, object]) -> bool:
    value = stored.get("on_oxygen" if name == "air_or_oxygen" else name)
    if value is None:
        return True
    if name == "spo2" and stored.get("spo2_scale", SpO2Scale.ONE) == SpO2Scale.TWO:
        return stored.get("on_oxygen") is None and isinstance(value, int) and value > 92
    return False
