"""Which events the hub avoided for one consultation; reports only add the results up.

The rules (docs/outcomes.md states them in a table; tests/hub/test_avoided.py tests
every row and its negations). "In the window" means a re-presentation dated in
[call requested, call ended + window], both ends inclusive; ones outside are ignored.

- **A&E attendance** avoided: the home intended ``call_999`` or ``ae``; the outcome
  is not ``called_999_conveyed``, ``sent_to_ae`` or ``admitted_direct``; and no A&E
  attendance, admission or conveyance is in the window (an admission or an ambulance
  conveyance means the resident reached hospital, so it cancels this too).
- **999 call** avoided: the home intended ``call_999``; the outcome is not
  ``called_999_conveyed``/``called_999_not_conveyed``; no 999 call in the window.
- **Ambulance conveyance** avoided: the home intended ``call_999``; the outcome is not
  ``called_999_conveyed``; no conveyance in the window.
- **Admission** avoided: the home intended ``call_999`` or ``ae``; the clinician judged
  that admission would likely have followed (only ``yes`` counts); the outcome is not
  ``admitted_direct``; no admission in the window.
- **Urgent GP visit** avoided: the home intended ``urgent_gp``; the outcome is one
  of the ``managed_*`` codes; no GP visit in the window.

No intention recorded: the call is *not attributable* and avoids nothing. No outcome
yet (call still open): it avoids nothing yet, and is attributable iff an intention
was recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from hub.outcomes.codes import (
    CALLED_999,
    AdmissionJudgement,
    Intention,
    Outcome,
    OutcomeCode,
    OutcomeError,
    Representation,
    RepresentationKind,
    follow_up_window,
)


@dataclass(frozen=True)
class AvoidedEvent:
    """One kind of avoided event under every name it goes by, so that no list of them
    is spelled out anywhere else."""

    name: str  # field of ``Avoided``, ``AvoidedCounts`` and ``hub.outcomes.tariffs.Tariffs``
    column: str  # flag column on ``consultations``, count column of the report rollup
    export: str  # count column of the CSV / JSON report exports
    label: str  # in words a carer would use ("an avoided A&E attendance")
    short: str  # as the call page lists what one call avoided


#: The avoided events, in report order.
AVOIDED_EVENTS: tuple[AvoidedEvent, ...] = (
    AvoidedEvent(
        "ae_attendance", "avoided_ae", "avoided_ae_attendances", "A&E attendance", "A&E attendance"
    ),
    AvoidedEvent("call_999", "avoided_999", "avoided_999_calls", "999 call", "999 call"),
    AvoidedEvent(
        "conveyance",
        "avoided_conveyance",
        "avoided_conveyances",
        "ambulance trip to hospital",
        "conveyance",
    ),
    AvoidedEvent(
        "admission", "avoided_admission", "avoided_admissions", "hospital admission", "admission"
    ),
    AvoidedEvent(
        "urgent_gp", "avoided_gp", "avoided_urgent_gp_visits", "urgent GP visit", "urgent GP visit"
    ),
)

#: The event names (fields of ``Avoided``, ``AvoidedCounts`` and ``Tariffs``), in order.
EVENTS: tuple[str, ...] = tuple(e.name for e in AVOIDED_EVENTS)

#: Each avoided event in words a carer would use ("an avoided A&E attendance").
EVENT_LABELS: Mapping[str, str] = {e.name: e.label for e in AVOIDED_EVENTS}

#: Every stored flag of one consultation, field of ``Avoided`` -> its column: whether the
#: call is attributable, then the events. The same names count them in the rollup.
FLAG_COLUMNS: Mapping[str, str] = {
    "attributable": "attributable",
    **{e.name: e.column for e in AVOIDED_EVENTS},
}

#: Outcomes in which the resident went to hospital (so no A&E attendance was avoided).
HOSPITAL_OUTCOMES = frozenset(
    {OutcomeCode.CALLED_999_CONVEYED, OutcomeCode.SENT_TO_AE, OutcomeCode.ADMITTED_DIRECT}
)
#: Re-presentations that mean the resident reached hospital (cancel avoided A&E).
REACHED_HOSPITAL = frozenset(
    {RepresentationKind.AE_ATTENDANCE, RepresentationKind.ADMISSION, RepresentationKind.CONVEYANCE}
)
_TO_HOSPITAL = frozenset({Intention.CALL_999, Intention.AE})


@dataclass(frozen=True)
class Avoided:
    """What one consultation avoided. All False when not attributable or not closed."""

    attributable: bool
    ae_attendance: bool = False
    call_999: bool = False
    conveyance: bool = False
    admission: bool = False
    urgent_gp: bool = False

    @property
    def events(self) -> tuple[AvoidedEvent, ...]:
        """The events this consultation avoided, in report order."""
        return tuple(e for e in AVOIDED_EVENTS if getattr(self, e.name))

    def flags(self) -> dict[str, bool]:
        """Every stored flag by its column (``FLAG_COLUMNS``)."""
        return {column: getattr(self, name) for name, column in FLAG_COLUMNS.items()}

    @classmethod
    def from_flags(cls, flags: Mapping[Any, object]) -> Avoided:
        """Read back what ``flags`` stored (a row keyed by column)."""
        return cls(**{name: bool(flags[column]) for name, column in FLAG_COLUMNS.items()})


def avoided(
    intention: Intention | None,
    outcome: Outcome | None,
    representations: Sequence[Representation],
    call_requested_at: datetime,
    call_ended_at: datetime | None,
    window: timedelta,
) -> Avoided:
    """Derive the avoided events of one consultation (rules in the module docstring).

    ``call_ended_at`` may be None only while there is no outcome. Raises
    ``OutcomeError`` for an outcome without an end time, naive times, an end before
    the start, or a negative window.
    """
    if outcome is not None and call_ended_at is None:
        raise OutcomeError("an outcome needs the time the call ended")
    if call_ended_at is None or outcome is None:
        follow_up_window(call_requested_at, call_ended_at or call_requested_at, window)
        return Avoided(attributable=intention is not None)
    start, end = follow_up_window(call_requested_at, call_ended_at, window)
    if intention is None:
        return Avoided(attributable=False)
    seen = {r.kind for r in representations if start <= r.at <= end}
    code = outcome.code
    to_hospital = intention in _TO_HOSPITAL
    by_999 = intention is Intention.CALL_999
    return Avoided(
        attributable=True,
        ae_attendance=to_hospital and code not in HOSPITAL_OUTCOMES and not seen & REACHED_HOSPITAL,
        call_999=by_999 and code not in CALLED_999 and RepresentationKind.CALL_999 not in seen,
        conveyance=by_999
        and code is not OutcomeCode.CALLED_999_CONVEYED
        and RepresentationKind.CONVEYANCE not in seen,
        admission=to_hospital
        and outcome.admission_judgement is AdmissionJudgement.YES
        and code is not OutcomeCode.ADMITTED_DIRECT
        and RepresentationKind.ADMISSION not in seen,
        urgent_gp=intention is Intention.URGENT_GP
        and code.managed_in_home
        and RepresentationKind.GP_VISIT not in seen,
    )


@dataclass(frozen=True)
class AvoidedCounts:
    """Totals over many consultations, for reports (per home, per month...)."""

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

    def add(self, one: Avoided) -> AvoidedCounts:
        """These counts with one more consultation."""
        return replace(
            self,
            calls=self.calls + 1,
            attributable=self.attributable + one.attributable,
            **{name: getattr(self, name) + getattr(one, name) for name in EVENTS},
        )

    def __add__(self, other: AvoidedCounts) -> AvoidedCounts:
        return AvoidedCounts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


def tally(results: Iterable[Avoided]) -> AvoidedCounts:
    """Add up many consultations' results."""
    counts = AvoidedCounts()
    for one in results:
        counts = counts.add(one)
    return counts
