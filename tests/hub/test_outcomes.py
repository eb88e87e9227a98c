"""Coded outcomes, their parsing and the re-presentation window (docs/outcomes.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from hub.errors import ValidationError
from hub.outcomes.codes import (
    DEFAULT_FOLLOW_UP_WINDOW,
    AdmissionJudgement,
    FollowUp,
    Intention,
    Outcome,
    OutcomeCode,
    OutcomeError,
    Representation,
    RepresentationKind,
    follow_up_window,
    parse_outcome,
    parse_representation,
    validate_representation,
)

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
END = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
WINDOW = timedelta(hours=72)
NAIVE = datetime(2026, 3, 2, 16, 0)


# -- the coded lists ----------------------------------------------------------------


def test_intention_values_and_labels() -> None:
    assert [i.value for i in Intention] == ["call_999", "ae", "urgent_gp", "call_111", "manage"]
    assert Intention.AE.label == "Take or send to A&E"
    assert Intention.MANAGE.label == "Manage ourselves"


@pytest.mark.parametrize(
    "enum", [Intention, OutcomeCode, FollowUp, AdmissionJudgement, RepresentationKind]
)
def test_every_member_has_a_label(enum: Any) -> None:
    labels = [m.label for m in enum]
    assert all(labels) and len(set(labels)) == len(labels)


def test_outcome_codes() -> None:
    assert [c.value for c in OutcomeCode] == [
        "managed_advice",
        "managed_medication",
        "managed_monitoring",
        "gp_in_hours",
        "gp_out_of_hours",
        "community_team",
        "called_999_conveyed",
        "called_999_not_conveyed",
        "sent_to_ae",
        "admitted_direct",
        "end_of_life_support",
        "other",
    ]


def test_only_the_three_managed_codes_are_managed_in_the_home() -> None:
    assert {c for c in OutcomeCode if c.managed_in_home} == {
        OutcomeCode.MANAGED_ADVICE,
        OutcomeCode.MANAGED_MEDICATION,
        OutcomeCode.MANAGED_MONITORING,
    }


def test_snomed_codes_only_where_a_concept_fits() -> None:
    coded = {c.value: (s.code, s.term) for c in OutcomeCode if (s := c.snomed)}
    assert coded == {
        "gp_in_hours": ("306206005", "Referral to service"),
        "gp_out_of_hours": ("306206005", "Referral to service"),
        "community_team": ("306206005", "Referral to service"),
        "sent_to_ae": ("50849002", "Emergency room admission"),
        "admitted_direct": ("183452005", "Emergency hospital admission"),
        "end_of_life_support": ("103735009", "Palliative care"),
    }


def test_other_enums() -> None:
    assert [f.value for f in FollowUp] == ["none", "call_back", "home_to_call_if_worse"]
    assert [j.value for j in AdmissionJudgement] == ["yes", "no", "unsure"]
    assert [k.value for k in RepresentationKind] == [
        "ae_attendance",
        "admission",
        "call_999",
        "conveyance",
        "gp_visit",
    ]
    assert RepresentationKind.GP_VISIT.label == "A GP came to see them"


def test_default_window_is_72_hours() -> None:
    assert DEFAULT_FOLLOW_UP_WINDOW == timedelta(hours=72)


def test_the_error_is_a_validation_error_and_a_value_error() -> None:
    assert issubclass(OutcomeError, ValidationError) and issubclass(OutcomeError, ValueError)


# -- Outcome ------------------------------------------------------------------------


def test_parse_a_full_outcome() -> None:
    o = parse_outcome(
        {
            "outcome": "managed_medication",
            "follow_up": "call_back",
            "call_back_at": "2026-03-02T16:00:00+00:00",
            "admission_judgement": "yes",
            "csrf": "ignored",
        }
    )
    assert o == Outcome(
        OutcomeCode.MANAGED_MEDICATION,
        FollowUp.CALL_BACK,
        datetime(2026, 3, 2, 16, tzinfo=UTC),
        AdmissionJudgement.YES,
    )


def test_call_back_time_keeps_its_offset() -> None:
    o = parse_outcome(
        {
            "outcome": "other",
            "follow_up": "call_back",
            "call_back_at": "2026-06-02T17:00:00+01:00",
            "admission_judgement": "no",
        }
    )
    assert o.call_back_at == datetime(2026, 6, 2, 16, tzinfo=UTC)


@pytest.mark.parametrize("empty", [None, ""])
def test_no_call_back_time_without_a_call_back(empty: str | None) -> None:
    o = parse_outcome(
        {
            "outcome": "sent_to_ae",
            "follow_up": "home_to_call_if_worse",
            "call_back_at": empty,
            "admission_judgement": "unsure",
        }
    )
    assert o.call_back_at is None and o.follow_up is FollowUp.HOME_TO_CALL_IF_WORSE


OK = {"outcome": "other", "follow_up": "none", "admission_judgement": "no"}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"outcome": None}, "outcome", "outcome is required"),
        ({"outcome": ""}, "outcome", "outcome is required"),
        ({"outcome": "cured"}, "outcome", "outcome 'cured' is not in the coded list"),
        ({"outcome": 3}, "outcome", "outcome must be text, not int"),
        ({"follow_up": None}, "follow_up", "follow-up is required"),
        (
            {"follow_up": "later"},
            "follow_up",
            "follow-up 'later' is not one of none, call_back, home_to_call_if_worse",
        ),
        ({"admission_judgement": None}, "admission_judgement", "admission judgement is required"),
        (
            {"admission_judgement": "maybe"},
            "admission_judgement",
            "admission judgement 'maybe' is not one of yes, no, unsure",
        ),
        ({"follow_up": "call_back"}, "call_back_at", "a call back needs a time"),
        (
            {"follow_up": "call_back", "call_back_at": "tomorrow"},
            "call_back_at",
            "call back time 'tomorrow' is not an ISO 8601 date and time",
        ),
        (
            {"follow_up": "call_back", "call_back_at": "2026-03-02T16:00:00"},
            "call_back_at",
            "call back time 2026-03-02T16:00:00 has no time zone",
        ),
        (
            {"follow_up": "call_back", "call_back_at": 1700000000},
            "call_back_at",
            "call back time must be text, not int",
        ),
        (
            {"call_back_at": "2026-03-02T16:00:00+00:00"},
            "call_back_at",
            "a call back time is only recorded when the follow-up is call_back",
        ),
    ],
)
def test_bad_outcomes(changes: dict[str, Any], field: str, message: str) -> None:
    data = {**OK, **changes}
    with pytest.raises(OutcomeError) as err:
        parse_outcome({k: v for k, v in data.items() if v is not None})
    assert err.value.message == message
    assert err.value.field == field


def test_outcome_checks_its_own_invariants() -> None:
    with pytest.raises(OutcomeError, match="a call back needs a time"):
        Outcome(OutcomeCode.OTHER, FollowUp.CALL_BACK, None, AdmissionJudgement.NO)
    with pytest.raises(OutcomeError, match="call back time has no time zone"):
        Outcome(OutcomeCode.OTHER, FollowUp.CALL_BACK, NAIVE, AdmissionJudgement.NO)
    with pytest.raises(OutcomeError, match="only recorded when the follow-up is call_back"):
        Outcome(OutcomeCode.OTHER, FollowUp.NONE, END, AdmissionJudgement.NO)


def test_outcome_is_frozen() -> None:
    o = Outcome(OutcomeCode.OTHER, FollowUp.NONE, None, AdmissionJudgement.NO)
    with pytest.raises(AttributeError):
        o.code = OutcomeCode.SENT_TO_AE  # type: ignore[misc]


# -- Representation -----------------------------------------------------------------


def test_parse_representation() -> None:
    rep = parse_representation({"kind": "conveyance", "at": "2026-03-03T09:15:00+00:00"})
    assert rep == Representation(
        RepresentationKind.CONVEYANCE, datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"at": "2026-03-03T09:15:00+00:00"}, "re-presentation kind is required"),
        (
            {"kind": "walk_in_centre", "at": "2026-03-03T09:15:00+00:00"},
            "re-presentation kind 'walk_in_centre' is not one of ae_attendance, admission, "
            "call_999, conveyance, gp_visit",
        ),
        ({"kind": "admission"}, "re-presentation time is required"),
        ({"kind": "admission", "at": "soon"}, "re-presentation time 'soon' is not an ISO 8601"),
        ({"kind": "admission", "at": "2026-03-03T09:15:00"}, "has no time zone"),
    ],
)
def test_bad_representations(data: dict[str, str], message: str) -> None:
    with pytest.raises(OutcomeError) as err:
        parse_representation(data)
    assert message in err.value.message


def test_a_representation_needs_an_aware_time() -> None:
    with pytest.raises(OutcomeError, match="re-presentation time has no time zone"):
        Representation(RepresentationKind.ADMISSION, NAIVE)


# -- the window ---------------------------------------------------------------------


def rep_at(at: datetime) -> Representation:
    return Representation(RepresentationKind.ADMISSION, at)


def check(at: datetime, window: timedelta = WINDOW) -> None:
    validate_representation(END, window, rep_at(at), call_requested_at=START)


def test_window_is_call_start_to_call_end_plus_window() -> None:
    assert follow_up_window(START, END, WINDOW) == (START, END + WINDOW)


@pytest.mark.parametrize(
    "at",
    [START, START + timedelta(minutes=10), END, END + timedelta(hours=30), END + WINDOW],
    ids=["call-start", "during-call", "call-end", "in-window", "window-edge"],
)
def test_representations_inside_the_window_are_accepted(at: datetime) -> None:
    check(at)


def test_a_representation_at_the_edge_in_another_zone_is_accepted() -> None:
    check((END + WINDOW).astimezone(timezone(timedelta(hours=1))))


def test_a_representation_before_the_call_is_refused() -> None:
    with pytest.raises(OutcomeError) as err:
        check(START - timedelta(seconds=1))
    assert err.value.message == (
        "a re-presentation at 2026-03-02T09:59:59+00:00 is before the call started "
        "at 2026-03-02T10:00:00+00:00"
    )
    assert err.value.field == "at"


def test_a_representation_after_the_window_is_refused() -> None:
    with pytest.raises(OutcomeError) as err:
        check(END + WINDOW + timedelta(seconds=1))
    assert err.value.message == (
        "a re-presentation at 2026-03-05T10:30:01+00:00 is outside the 72 h follow-up "
        "window, which closed at 2026-03-05T10:30:00+00:00"
    )


def test_the_window_is_configurable() -> None:
    check(END + timedelta(hours=24), timedelta(hours=24))
    with pytest.raises(OutcomeError, match="outside the 24 h follow-up window"):
        check(END + timedelta(hours=24, seconds=1), timedelta(hours=24))
    with pytest.raises(OutcomeError, match=r"outside the 1 day, 0:30:00 follow-up window"):
        check(END + timedelta(hours=25), timedelta(hours=24, minutes=30))


@pytest.mark.parametrize(
    ("start", "end", "window", "message"),
    [
        (START, END, -timedelta(seconds=1), "the follow-up window cannot be negative"),
        (END, START, WINDOW, "the call cannot end (2026-03-02T10:00:00+00:00) before it started"),
        (START.replace(tzinfo=None), END, WINDOW, "call times need a time zone"),
        (START, END.replace(tzinfo=None), WINDOW, "call times need a time zone"),
    ],
)
def test_bad_call_times(start: datetime, end: datetime, window: timedelta, message: str) -> None:
    with pytest.raises(OutcomeError) as err:
        follow_up_window(start, end, window)
    assert err.value.message.startswith(message)
