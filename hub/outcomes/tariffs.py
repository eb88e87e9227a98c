"""Unit costs for "cost avoided", loaded from a TOML file (``config/tariffs.toml``, or
a deployment's own file named by ``outcomes.tariffs_file``).

Each avoided event (``hub.outcomes.avoided.EVENTS``) has one table with ``cost`` (a number,
not negative), ``source`` and ``year`` (non-empty text): a figure nobody can trace
is not accepted. Costs are ``Decimal``, read exactly as written (no float rounding).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from hub.errors import ValidationError
from hub.outcomes.avoided import EVENTS, AvoidedCounts
from hub.resources import config_file

DEFAULT_TARIFFS_FILE = config_file("tariffs.toml")  # shipped as a package resource

_TABLE_KEYS = ("cost", "source", "year")
_CURRENCY = re.compile(r"[A-Z]{3}")


class TariffError(ValidationError, ValueError):
    """A tariffs file that cannot be used as given."""


@dataclass(frozen=True)
class Citation:
    """Where a unit cost comes from, and the year (prices) of the figure."""

    source: str
    year: str


@dataclass(frozen=True)
class Tariffs:
    """Unit cost of each avoided event, in ``currency``; ``sources`` cites each one."""

    currency: str
    ae_attendance: Decimal
    call_999: Decimal
    conveyance: Decimal
    admission: Decimal
    urgent_gp: Decimal
    sources: Mapping[str, Citation]  # keyed by event name

    def unit_cost(self, event: str) -> Decimal:
        if event not in EVENTS:
            raise KeyError(event)
        value: Decimal = getattr(self, event)
        return value


def load_tariffs(path: Path | Traversable = DEFAULT_TARIFFS_FILE) -> Tariffs:
    """Read and check a tariffs file; raise ``TariffError`` saying what is wrong."""
    try:
        with path.open("rb") as f:
            data = tomllib.load(f, parse_float=Decimal)
    except FileNotFoundError:
        raise TariffError(f"tariffs file {path} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise TariffError(f"tariffs file {path} is not valid TOML: {e}") from None
    return parse_tariffs(data, origin=str(path))


def configured_tariffs(tariffs_file: str) -> Tariffs:
    """The tariffs a deployment uses: its own file (``outcomes.tariffs_file``) or, when
    that is empty, the packaged ``config/tariffs.toml``. Called once at start-up, so a
    bad file stops telehub with a ``TariffError`` naming the setting and the problem."""
    if not tariffs_file.strip():
        return load_tariffs()
    try:
        return load_tariffs(Path(tariffs_file).expanduser())
    except TariffError as err:
        raise TariffError(f"config key outcomes.tariffs_file: {err.message}") from None


def parse_tariffs(data: Mapping[str, Any], *, origin: str = "tariffs") -> Tariffs:
    """Check already-parsed tariffs (floats should be ``Decimal``: parse_float=Decimal)."""
    for key in data:
        if key != "currency" and key not in EVENTS:
            raise TariffError(
                f"{origin}: unknown tariff [{key}] (expected currency and {', '.join(EVENTS)})"
            )
    currency = data.get("currency")
    if currency is None:
        raise TariffError(f"{origin}: currency is missing")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise TariffError(
            f"{origin}: currency {currency!r} is not a three-letter ISO 4217 code like 'GBP'"
        )
    costs: dict[str, Decimal] = {}
    sources: dict[str, Citation] = {}
    for event in EVENTS:
        costs[event], sources[event] = _entry(data, event, origin)
    return Tariffs(
        currency=currency,
        ae_attendance=costs["ae_attendance"],
        call_999=costs["call_999"],
        conveyance=costs["conveyance"],
        admission=costs["admission"],
        urgent_gp=costs["urgent_gp"],
        sources=MappingProxyType(sources),
    )


def cost_avoided(counts: AvoidedCounts, tariffs: Tariffs) -> Decimal:
    """Sum over events of (number avoided x unit cost), in ``tariffs.currency``."""
    return sum(cost_by_event(counts, tariffs).values(), Decimal(0))


def cost_by_event(counts: AvoidedCounts, tariffs: Tariffs) -> dict[str, Decimal]:
    """Cost avoided per event, in ``EVENTS`` order (for a report's breakdown)."""
    return {event: getattr(counts, event) * tariffs.unit_cost(event) for event in EVENTS}


def _entry(data: Mapping[str, Any], event: str, origin: str) -> tuple[Decimal, Citation]:
    table = data.get(event)
    if table is None:
        raise TariffError(f"{origin}: [{event}] is missing")
    if not isinstance(table, Mapping):
        raise TariffError(f"{origin}: [{event}] must be a table with {', '.join(_TABLE_KEYS)}")
    for key in table:
        if key not in _TABLE_KEYS:
            raise TariffError(f"{origin}: [{event}] has unknown key {key!r}")
    for key in _TABLE_KEYS:
        if key not in table:
            raise TariffError(f"{origin}: [{event}] {key} is missing")
    cost = _cost(table["cost"], event, origin)
    texts = []
    for key in ("source", "year"):
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise TariffError(f"{origin}: [{event}] {key} must be non-empty text")
        texts.append(value.strip())
    return cost, Citation(source=texts[0], year=texts[1])


def _cost(raw: object, event: str, origin: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        raise TariffError(f"{origin}: [{event}] cost must be a number, not {raw!r}")
    value = Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)
    if not value.is_finite():
        raise TariffError(f"{origin}: [{event}] cost {raw} is not a finite number")
    if value < 0:
        raise TariffError(f"{origin}: [{event}] cost {raw} is negative")
    return value
