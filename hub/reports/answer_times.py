"""How quickly calls were answered over a range: the figure reports and their storage
share. A value type with no dependencies, so the ports can name it without importing
the report service (which needs the context, which needs the ports)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnswerTimes:
    answered: int
    p50_s: float | None
    p90_s: float | None
    p95_s: float | None
    within_target: int

    @property
    def within_target_pct(self) -> float | None:
        return None if not self.answered else 100 * self.within_target / self.answered
