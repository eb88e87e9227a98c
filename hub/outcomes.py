"""Coded outcomes of a consultation, and what the home would have done without the hub.

Before the call the home records its *intention* (what it would otherwise have done);
at the end the clinician records the *outcome* from this coded list. Avoided events are
derived from the two (``hub/avoided.py``), never typed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from hub.errors import ValidationError


class OutcomeError(ValidationError):
    """An outcome or re-presentation that cannot be recorded as given."""


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


class OutcomeCode(StrEnum):
    MANAGED_ADVICE = "managed_advice"
    MANAGED_MEDICATION = "managed_medication"
    MANAGED_MONITORING = "managed_monitoring"
    GP_IN_HOURS = "gp_in_hours"
    GP_OUT_OF_HOURS = "gp_out_of_hours"
    COMMUNITY_TEAM = "community_team"
    CALLED_999_CONVEYED = "called_999_conveyed"
    CALLED_999_NOT_CONVEYED = "called_999_not_conveyed"
    SENT_TO_AE = "sent_to_ae"
    ADMITTED_DIRECT = "admitted_direct"
    END_OF_LIFE_SUPPORT = "end_of_life_support"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self][0]

    @property
    def snomed(self) -> tuple[str, str] | None:
        """(SNOMED CT concept id, preferred term) where a fitting concept exists."""
        return _OUTCOME_LABELS[self][1]

    @property
    def managed_in_home(self) -> bool:
        return self in MANAGED_IN_HOME


MANAGED_IN_HOME = frozenset(
    {OutcomeCode.MANAGED_ADVICE, OutcomeCode.MANAGED_MEDICATION, OutcomeCode.MANAGED_MONITORING}
)
CALLED_999 = frozenset({OutcomeCode.CALLED_999_CONVEYED, OutcomeCode.CALLED_999_NOT_CONVEYED})

# Only concepts we are sure of are coded; the rest say so (docs/outcomes.md).
_OUTCOME_LABELS: dict[OutcomeCode, tuple[str, tuple[str, str] | None]] = {
    OutcomeCode.MANAGED_ADVICE: ("Managed in the home: advice", None),
    OutcomeCode.MANAGED_MEDICATION: ("Managed in the home: medication change", None),
    OutcomeCode.MANAGED_MONITORING: ("Managed in the home: monitoring plan", None),
    OutcomeCode.GP_IN_HOURS: ("GP (in hours)", None),
    OutcomeCode.GP_OUT_OF_HOURS: ("Out-of-hours GP", None),
    OutcomeCode.COMMUNITY_TEAM: (
        "Community or rapid-response team",
        ("306206005", "Referral to service"),
    ),
    OutcomeCode.CALLED_999_CONVEYED: ("999 called, conveyed to hospital", None),
    OutcomeCode.CALLED_999_NOT_CONVEYED: ("999 called, not conveyed", None),
    OutcomeCode.SENT_TO_AE: ("Sent to A&E", ("50849002", "Emergency room admission")),
    OutcomeCode.ADMITTED_DIRECT: (
        "Admitted directly",
        ("183452005", "Emergency hospital admission"),
    ),
    OutcomeCode.END_OF_LIFE_SUPPORT: ("End-of-life support", ("103735009", "Palliative care")),
    OutcomeCode.OTHER: ("Other", None),
}


class FollowUp(StrEnum):
    NONE = "none"
    CALL_BACK = "call_back"
    HOME_TO_CALL_IF_WORSE = "home_to_call_if_worse"


class AdmissionJudgement(StrEnum):
    """Would admission likely have followed without the consultation?"""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class RepresentationKind(StrEnum):
    """What the home may record happened after the call, within the follow-up window."""

    AE_ATTENDANCE = "ae_attendance"
    ADMISSION = "admission"
    CALL_999 = "call_999"
    CONVEYANCE = "conveyance"


@dataclass(frozen=True)
class Outcome:
    code: OutcomeCode
    follow_up: FollowUp
    admission_judgement: AdmissionJudgement
    call_back_at: datetime | None = None


@dataclass(frozen=True)
class Representation:
    kind: RepresentationKind
    at: datetime


def parse_outcome(data: Mapping[str, Any]) -> Outcome:
    code = _choice(OutcomeCode, data.get("outcome"), "outcome", "the coded list")
    follow_up = _choice(
        FollowUp,
        data.get("follow_up") or "none",
        "follow_up",
        "none, call_back, home_to_call_if_worse",
    )
    judgement = _choice(
        AdmissionJudgement,
        data.get("admission_judgement"),
        "admission_judgement",
        "yes, no or unsure",
    )
    raw_at = data.get("call_back_at")
    call_back_at = None
    if follow_up is FollowUp.CALL_BACK:
        if not raw_at:
            raise OutcomeError("a call back needs a time", field="call_back_at")
        try:
            call_back_at = datetime.fromisoformat(str(raw_at))
        except ValueError:
            raise OutcomeError(
                f"call back time {raw_at!r} is not a date and time", field="call_back_at"
            ) from None
        if call_back_at.tzinfo is None:
            raise OutcomeError("call back time needs a time zone", field="call_back_at")
    elif raw_at:
        raise OutcomeError(
            "a call back time is only for follow-up 'call_back'", field="call_back_at"
        )
    return Outcome(code, follow_up, judgement, call_back_at)


def validate_representation(
    call_ended_at: datetime, window: timedelta, rep: Representation
) -> None:
    """Refuse a re-presentation dated before the call ended or after the window closed."""
    if rep.at < call_ended_at:
        raise OutcomeError("a re-presentation cannot be dated before the call ended", field="at")
    if rep.at > call_ended_at + window:
        hours = int(window.total_seconds() // 3600)
        raise OutcomeError(f"a re-presentation must be within {hours} h of the call", field="at")


def _choice(enum: Any, raw: Any, field: str, allowed: str) -> Any:
    try:
        return enum(raw)
    except ValueError:
        raise OutcomeError(
            f"{field.replace('_', ' ')} {raw!r} is not in {allowed}", field=field
        ) from None
