"""Coded outcomes of a consultation, and what the home would have done without the hub.

Before the call the home records its *intention* (what it would otherwise have done);
at the end the clinician records the *outcome* from a coded list, a follow-up and a
judgement on admission. Within a follow-up window the home may record that the
resident nevertheless reached hospital or needed a GP visit (a *re-presentation*).
Avoided events are derived from these by ``hub.outcomes.avoided.avoided``, never typed in
(docs/outcomes.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from hub.errors import ValidationError

#: Re-presentations up to this long after the end of the call cancel "avoided".
DEFAULT_FOLLOW_UP_WINDOW = timedelta(hours=72)

#: The FHIR ``system`` URI of SNOMED CT.
SNOMED_CT = "http://snomed.info/sct"


class OutcomeError(ValidationError, ValueError):
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
        return INTENTION_LABELS[self]


INTENTION_LABELS: Mapping[Intention, str] = {
    Intention.CALL_999: "Call 999",
    Intention.AE: "Take or send to A&E",
    Intention.URGENT_GP: "Ask for an urgent GP visit",
    Intention.CALL_111: "Call 111",
    Intention.MANAGE: "Manage ourselves",
}


@dataclass(frozen=True)
class SnomedConcept:
    """A SNOMED CT concept: its id and preferred term (system ``SNOMED_CT``)."""

    code: str
    term: str


class OutcomeCode(StrEnum):
    """What did happen, chosen by the clinician at the end of the call."""

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
        return OUTCOME_LABELS[self]

    @property
    def managed_in_home(self) -> bool:
        """The resident stayed in the home with no other service called in."""
        return self in MANAGED_IN_HOME

    @property
    def snomed(self) -> SnomedConcept | None:
        """The SNOMED CT concept for this outcome, or None where there is no fitting one."""
        return OUTCOME_SNOMED[self]


OUTCOME_LABELS: Mapping[OutcomeCode, str] = {
    OutcomeCode.MANAGED_ADVICE: "Managed in the home: advice",
    OutcomeCode.MANAGED_MEDICATION: "Managed in the home: medication",
    OutcomeCode.MANAGED_MONITORING: "Managed in the home: monitoring plan",
    OutcomeCode.GP_IN_HOURS: "Referred to GP (in hours)",
    OutcomeCode.GP_OUT_OF_HOURS: "Referred to out-of-hours GP",
    OutcomeCode.COMMUNITY_TEAM: "Referred to community or rapid-response team",
    OutcomeCode.CALLED_999_CONVEYED: "999 called, conveyed to hospital",
    OutcomeCode.CALLED_999_NOT_CONVEYED: "999 called, not conveyed",
    OutcomeCode.SENT_TO_AE: "Sent to A&E",
    OutcomeCode.ADMITTED_DIRECT: "Admitted directly to hospital",
    OutcomeCode.END_OF_LIFE_SUPPORT: "End-of-life support",
    OutcomeCode.OTHER: "Other",
}

MANAGED_IN_HOME = frozenset(
    {OutcomeCode.MANAGED_ADVICE, OutcomeCode.MANAGED_MEDICATION, OutcomeCode.MANAGED_MONITORING}
)
CALLED_999 = frozenset({OutcomeCode.CALLED_999_CONVEYED, OutcomeCode.CALLED_999_NOT_CONVEYED})

_REFERRAL = SnomedConcept("306206005", "Referral to service")

# Only concepts we are sure of; None means "no fitting concept", never a guess.
# The three referrals share one broader concept (docs/outcomes.md says so).
OUTCOME_SNOMED: Mapping[OutcomeCode, SnomedConcept | None] = {
    OutcomeCode.MANAGED_ADVICE: None,
    OutcomeCode.MANAGED_MEDICATION: None,
    OutcomeCode.MANAGED_MONITORING: None,
    OutcomeCode.GP_IN_HOURS: _REFERRAL,
    OutcomeCode.GP_OUT_OF_HOURS: _REFERRAL,
    OutcomeCode.COMMUNITY_TEAM: _REFERRAL,
    OutcomeCode.CALLED_999_CONVEYED: None,
    OutcomeCode.CALLED_999_NOT_CONVEYED: None,
    OutcomeCode.SENT_TO_AE: SnomedConcept("50849002", "Emergency room admission"),
    OutcomeCode.ADMITTED_DIRECT: SnomedConcept("183452005", "Emergency hospital admission"),
    OutcomeCode.END_OF_LIFE_SUPPORT: SnomedConcept("103735009", "Palliative care"),
    OutcomeCode.OTHER: None,
}


class FollowUp(StrEnum):
    NONE = "none"
    CALL_BACK = "call_back"
    HOME_TO_CALL_IF_WORSE = "home_to_call_if_worse"

    @property
    def label(self) -> str:
        return FOLLOW_UP_LABELS[self]


FOLLOW_UP_LABELS: Mapping[FollowUp, str] = {
    FollowUp.NONE: "None",
    FollowUp.CALL_BACK: "Hub to call back at a set time",
    FollowUp.HOME_TO_CALL_IF_WORSE: "Home to call again if worse",
}


class AdmissionJudgement(StrEnum):
    """The clinician's view: would admission likely have followed without the call?"""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"

    @property
    def label(self) -> str:
        return ADMISSION_JUDGEMENT_LABELS[self]


ADMISSION_JUDGEMENT_LABELS: Mapping[AdmissionJudgement, str] = {
    AdmissionJudgement.YES: "Yes, likely",
    AdmissionJudgement.NO: "No",
    AdmissionJudgement.UNSURE: "Unsure",
}


class RepresentationKind(StrEnum):
    """What the home may record happened after all, within the follow-up window."""

    AE_ATTENDANCE = "ae_attendance"
    ADMISSION = "admission"
    CALL_999 = "call_999"
    CONVEYANCE = "conveyance"
    GP_VISIT = "gp_visit"

    @property
    def label(self) -> str:
        return REPRESENTATION_LABELS[self]


REPRESENTATION_LABELS: Mapping[RepresentationKind, str] = {
    RepresentationKind.AE_ATTENDANCE: "Attended A&E",
    RepresentationKind.ADMISSION: "Admitted to hospital",
    RepresentationKind.CALL_999: "999 was called",
    RepresentationKind.CONVEYANCE: "Taken to hospital by ambulance",
    RepresentationKind.GP_VISIT: "A GP came to see them",
}


@dataclass(frozen=True)
class Outcome:
    """The coded outcome of one consultation.

    ``call_back_at`` is an aware datetime, given exactly when ``follow_up`` is
    ``call_back``.
    """

    code: OutcomeCode
    follow_up: FollowUp
    call_back_at: datetime | None
    admission_judgement: AdmissionJudgement

    def __post_init__(self) -> None:
        if self.follow_up is FollowUp.CALL_BACK:
            if self.call_back_at is None:
                raise OutcomeError("a call back needs a time", field="call_back_at")
            if not _aware(self.call_back_at):
                raise OutcomeError("call back time has no time zone", field="call_back_at")
        elif self.call_back_at is not None:
            raise OutcomeError(
                "a call back time is only recorded when the follow-up is call_back",
                field="call_back_at",
            )


@dataclass(frozen=True)
class Representation:
    """The resident reached an A&E, a 999 call, an ambulance or a ward after all."""

    kind: RepresentationKind
    at: datetime

    def __post_init__(self) -> None:
        if not _aware(self.at):
            raise OutcomeError("re-presentation time has no time zone", field="at")


@dataclass(frozen=True)
class RecordedRepresentation:
    """A stored re-presentation: who recorded it and when, and whether it was undone."""

    id: int
    call_id: int
    kind: RepresentationKind
    at: datetime
    recorded_by: str  # an audit reference, e.g. ``device:7`` or ``staff:3``
    recorded_at: datetime
    undone_at: datetime | None = None
    undone_by: str | None = None

    @property
    def representation(self) -> Representation:
        return Representation(self.kind, self.at)


def parse_outcome(data: Mapping[str, Any]) -> Outcome:
    """Build an ``Outcome`` from submitted fields, or raise ``OutcomeError``.

    Fields: ``outcome`` (a code), ``follow_up``, ``admission_judgement`` (all required)
    and ``call_back_at`` (ISO 8601 with an offset; required iff follow-up is
    ``call_back``; an empty string counts as absent). Other keys are ignored.
    """
    code = _choice(OutcomeCode, data, "outcome", "is not in the coded list")
    follow_up = _choice(
        FollowUp, data, "follow_up", f"is not one of {', '.join(FollowUp)}", name="follow-up"
    )
    judgement = _choice(
        AdmissionJudgement,
        data,
        "admission_judgement",
        f"is not one of {', '.join(AdmissionJudgement)}",
        name="admission judgement",
    )
    raw_at = data.get("call_back_at")
    call_back_at = (
        None if raw_at in (None, "") else _datetime(raw_at, "call back time", "call_back_at")
    )
    return Outcome(code, follow_up, call_back_at, judgement)


def parse_representation(data: Mapping[str, Any]) -> Representation:
    """Build a ``Representation`` from ``kind`` and ``at`` (ISO 8601 with an offset)."""
    kind = _choice(
        RepresentationKind,
        data,
        "kind",
        f"is not one of {', '.join(RepresentationKind)}",
        name="re-presentation kind",
    )
    raw_at = data.get("at")
    if raw_at in (None, ""):
        raise OutcomeError("re-presentation time is required", field="at")
    return Representation(kind, _datetime(raw_at, "re-presentation time", "at"))


def follow_up_window(
    call_requested_at: datetime, call_ended_at: datetime, window: timedelta
) -> tuple[datetime, datetime]:
    """The span in which a re-presentation counts: [call start, call end + window].

    Both ends are inclusive. Raises ``OutcomeError`` for naive times, a call that
    ends before it starts, or a negative window.
    """
    if not _aware(call_requested_at) or not _aware(call_ended_at):
        raise OutcomeError("call times need a time zone")
    if call_ended_at < call_requested_at:
        raise OutcomeError(
            f"the call cannot end ({_iso(call_ended_at)}) before it started "
            f"({_iso(call_requested_at)})"
        )
    if window < timedelta(0):
        raise OutcomeError(f"the follow-up window cannot be negative ({window})")
    return call_requested_at, call_ended_at + window


def validate_representation(
    call_ended_at: datetime,
    window: timedelta,
    rep: Representation,
    *,
    call_requested_at: datetime,
) -> None:
    """Refuse a re-presentation dated before the call started or after the window closed.

    One dated during the call itself (the home called 999 while waiting, say) is
    accepted: it counts against "avoided" like one after the call.
    """
    start, end = follow_up_window(call_requested_at, call_ended_at, window)
    if rep.at < start:
        raise OutcomeError(
            f"a re-presentation at {_iso(rep.at)} is before the call started at {_iso(start)}",
            field="at",
        )
    if rep.at > end:
        raise OutcomeError(
            f"a re-presentation at {_iso(rep.at)} is outside the {_span(window)} follow-up "
            f"window, which closed at {_iso(end)}",
            field="at",
        )


_E = TypeVar("_E", bound=StrEnum)


def _choice(
    enum: type[_E], data: Mapping[str, Any], key: str, wrong: str, *, name: str | None = None
) -> _E:
    name = name or key.replace("_", " ")
    raw = data.get(key)
    if raw is None or raw == "":
        raise OutcomeError(f"{name} is required", field=key)
    if not isinstance(raw, str):
        raise OutcomeError(f"{name} must be text, not {type(raw).__name__}", field=key)
    try:
        return enum(raw)
    except ValueError:
        raise OutcomeError(f"{name} {raw!r} {wrong}", field=key) from None


def _datetime(raw: object, name: str, key: str) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise OutcomeError(
                f"{name} {raw!r} is not an ISO 8601 date and time", field=key
            ) from None
    else:
        raise OutcomeError(f"{name} must be text, not {type(raw).__name__}", field=key)
    if not _aware(value):
        raise OutcomeError(f"{name} {raw!s} has no time zone", field=key)
    return value


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _span(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0 and window.microseconds == 0:
        return f"{seconds // 3600} h"
    return str(window)
