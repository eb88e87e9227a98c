"""Which events the hub avoided for one consultation: the one function reports aggregate.

The rules (docs/outcomes.md, tested row by row in tests/hub/test_avoided.py):

- **A&E attendance** avoided: the home intended 999 or A&E; the outcome is not
  999-conveyed, A&E or admitted; and no A&E attendance, conveyance or admission was
  recorded in the follow-up window (each of those means the resident reached hospital).
- **999 call** avoided: the home intended 999; no 999 call was made (outcome or window).
- **Ambulance conveyance** avoided: the home intended 999; the resident was not conveyed
  (outcome or window).
- **Admission** avoided: the home intended 999 or A&E, the clinician judged that
  admission would likely have followed without the consultation (only "yes" counts),
  the outcome is not a direct admission, and no admission was recorded in the window.
- **Urgent GP visit** avoided: the home intended an urgent GP visit and the outcome was
  managed in the home.
- No recorded intention: not attributable, never avoided. No outcome yet: nothing is
  avoided (yet) but the call is attributable if an intention was recorded.

Re-presentations count only inside [end of call, end of call + window]; those outside
are ignored here (and refused when recorded, see ``validate_representation``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.outcomes import (
    CALLED_999,
    AdmissionJudgement,
    Intention,
    Outcome,
    OutcomeCode,
    Representation,
    RepresentationKind,
)

HOSPITAL_OUTCOMES = frozenset(
    {OutcomeCode.CALLED_999_CONVEYED, OutcomeCode.SENT_TO_AE, OutcomeCode.ADMITTED_DIRECT}
)
REACHED_HOSPITAL = frozenset(
    {RepresentationKind.AE_ATTENDANCE, RepresentationKind.CONVEYANCE, RepresentationKind.ADMISSION}
)


@dataclass(frozen=True)
class Avoided:
    attributable: bool
    ae_attendance: bool = False
    call_999: bool = False
    conveyance: bool = False
    admission: bool = False
    urgent_gp: bool = False


def avoided(
    intention: Intention | None,
    outcome: Outcome | None,
    representations: Sequence[Representation],
    call_ended_at: datetime | None,
    window: timedelta,
) -> Avoided:
    if intention is None:
        return Avoided(attributable=False)
    if outcome is None or call_ended_at is None:
        return Avoided(attributable=True)
    seen = {r.kind for r in representations if call_ended_at <= r.at <= call_ended_at + window}
    to_hospital = intention in (Intention.CALL_999, Intention.AE)
    by_999 = intention is Intention.CALL_999
    return Avoided(
        attributable=True,
        ae_attendance=to_hospital
        and outcome.code not in HOSPITAL_OUTCOMES
        and not (seen & REACHED_HOSPITAL),
        call_999=by_999
        and outcome.code not in CALLED_999
        and RepresentationKind.CALL_999 not in seen,
        conveyance=by_999
        and outcome.code is not OutcomeCode.CALLED_999_CONVEYED
        and RepresentationKind.CONVEYANCE not in seen,
        admission=to_hospital
        and outcome.admission_judgement is AdmissionJudgement.YES
        and outcome.code is not OutcomeCode.ADMITTED_DIRECT
        and RepresentationKind.ADMISSION not in seen,
        urgent_gp=intention is Intention.URGENT_GP and outcome.code.managed_in_home,
    )


@dataclass(frozen=True)
class AvoidedCounts:
    calls: int = 0
    attributable: int = 0
    ae_attendance: int = 0
    call_999: int = 0
    conveyance: int = 0
    admission: int = 0
    urgent_gp: int = 0

    @property
    def not_attributable(self) -> int:
        return self.calls - self.attributable


def tally(results: Iterable[Avoided]) -> AvoidedCounts:
    counts = dict.fromkeys(
        (
            "calls",
            "attributable",
            "ae_attendance",
            "call_999",
            "conveyance",
            "admission",
            "urgent_gp",
        ),
        0,
    )
    for r in results:
        counts["calls"] += 1
        counts["attributable"] += r.attributable
        for name in ("ae_attendance", "call_999", "conveyance", "admission", "urgent_gp"):
            counts[name] += getattr(r, name)
    return AvoidedCounts(**counts)
