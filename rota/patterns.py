"""Shift patterns a rota lead picks from; a problem may also define its own shifts.

Two patterns are built in and always available; a hub adds its own in config
(``[rota.shift_patterns]``, parsed by ``hub.settings``) and ``all_patterns`` puts
them together. The built-in two cover a 24/7 hub whose demand peaks 10:00–18:00: the
8-hour pattern has early, day, late and night shifts; the 12-hour one long days and
nights, a late long day for the peak and a short twilight shift for the evening.
"""

from __future__ import annotations

from collections.abc import Mapping

from rota.errors import RotaInputError
from rota.model import ShiftType

EIGHT_HOUR = (
    ShiftType("early", 7, 8),
    ShiftType("day", 10, 8),
    ShiftType("late", 15, 8),
    ShiftType("night", 23, 8),
)

TWELVE_HOUR = (
    ShiftType("long_day", 7, 12),
    ShiftType("long_late", 10, 12),
    ShiftType("twilight", 18, 6),
    ShiftType("night", 19, 12),
)

PATTERNS: dict[str, tuple[ShiftType, ...]] = {"8h": EIGHT_HOUR, "12h": TWELVE_HOUR}


def all_patterns(
    custom: Mapping[str, tuple[ShiftType, ...]],
) -> dict[str, tuple[ShiftType, ...]]:
    """The built-in patterns followed by a hub's own; a hub's pattern may not reuse a
    built-in name (a rota stored as "8h" must mean the same shifts everywhere)."""
    clash = sorted(set(custom) & set(PATTERNS))
    if clash:
        raise RotaInputError(
            f"shift pattern {clash[0]!r} is built in; give the hub's own pattern another name"
        )
    return {**PATTERNS, **custom}
