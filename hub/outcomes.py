"""Coded outcomes of a consultation, and what the home would have done without the hub."""

from __future__ import annotations

from enum import StrEnum


class Intention(StrEnum):
    """What the home would have done without the hub (recorded before the call)."""

    CALL_999 = "call_999"
    AE = "ae"
    URGENT_GP = "urgent_gp"
    CALL_111 = "call_111"
    MANAGE = "manage"

    @property
    def label(self) -> str:
        return _INTENTION_LABELS[self]


_INTENTION_LABELS = {
    Intention.CALL_999: "Call 999",
    Intention.AE: "Take or send to A&E",
    Intention.URGENT_GP: "Ask for an urgent GP visit",
    Intention.CALL_111: "Call 111",
    Intention.MANAGE: "Manage ourselves",
}
