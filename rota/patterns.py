"""Shift patterns a rota lead picks from; a problem may also define its own shifts.

Both cover a 24/7 hub whose demand peaks 10:00–18:00: the 8-hour pattern has early,
day, late and night shifts; the 12-hour one long days and nights, a late long day for
the peak and a short twilight shift for the evening.
"""

from __future__ import annotations

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
