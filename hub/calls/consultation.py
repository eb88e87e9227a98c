"""The consultation record: one call from a care home to the hub, start to finish.

The live lifecycle (queue, claim, transfer) builds on this record; here is what every
call fills in and what reports are derived from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hub.calls.news2 import Band
from hub.outcomes.avoided import Avoided
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, OutcomeCode


class State(StrEnum):
    REQUESTED = "requested"
    WAITING = "waiting"
    ANSWERED = "answered"
    IN_CALL = "in_call"
    ENDED = "ended"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    State.REQUESTED: "Requested",
    State.WAITING: "Waiting",
    State.ANSWERED: "Answered",
    State.IN_CALL: "In call",
    State.ENDED: "Ended",
    State.CANCELLED: "Cancelled by the home",
    State.ABANDONED: "Closed: the tablet lost its connection",
}


class Reason(StrEnum):
    FALL = "fall"
    BREATHING = "breathing"
    CHEST_PAIN = "chest_pain"
    CONFUSION = "confusion"
    INFECTION = "infection"
    PAIN = "pain"
    SKIN_WOUND = "skin_wound"
    MEDICATION = "medication"
    END_OF_LIFE = "end_of_life"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _REASON_LABELS[self]


_REASON_LABELS = {
    Reason.FALL: "Fall",
    Reason.BREATHING: "Breathing",
    Reason.CHEST_PAIN: "Chest pain",
    Reason.CONFUSION: "Confusion",
    Reason.INFECTION: "Infection signs",
    Reason.PAIN: "Pain",
    Reason.SKIN_WOUND: "Skin / wound",
    Reason.MEDICATION: "Medication",
    Reason.END_OF_LIFE: "End-of-life care",
    Reason.OTHER: "Other",
}

# Soft signs of deterioration (the RESTORE2 / "Stop and Watch" vocabulary).
SOFT_SIGNS = {
    "not_themselves": "Not their usual self",
    "more_confused": "More confused or drowsy",
    "not_eating": "Not eating or drinking",
    "less_mobile": "Less mobile / new falls",
    "breathing_changed": "Breathing has changed",
    "new_pain": "New or worse pain",
    "skin_colour": "Change in skin colour",
    "passing_less_urine": "Passing less urine",
    "agitated": "Agitated or distressed",
    "vomiting_diarrhoea": "Vomiting or diarrhoea",
}


@dataclass(frozen=True)
class Consultation:
    id: int
    home_id: int
    resident_id: int
    device_id: int | None
    state: State
    reason: Reason
    soft_signs: tuple[str, ...]
    observations: Mapping[str, object]
    news2_score: int | None
    news2_band: Band | None
    intention: Intention | None
    requested_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    answered_by: int | None = None
    outcome: OutcomeCode | None = None
    follow_up: FollowUp | None = None
    admission_judgement: AdmissionJudgement | None = None
    security_level: str | None = None
    call_back_at: datetime | None = None
    outcome_at: datetime | None = None
    # The avoided flags as stored: derived when the outcome or a re-presentation was
    # recorded (hub.calls.closure.derive) and read back, so every reader (the call page,
    # the reports) sees the same. None only on a record not yet stored.
    avoided: Avoided | None = None
    state_seq: int = 0  # goes up with every change of state: orders what clients hear
    # The outcome put off with a reason (hub.calls.closure.defer_outcome): still outstanding.
    outcome_deferred_at: datetime | None = None
    outcome_deferred_reason: str | None = None
