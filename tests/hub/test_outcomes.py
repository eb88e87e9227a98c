from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.outcomes import (
    AdmissionJudgement,
    FollowUp,
    OutcomeCode,
    OutcomeError,
    Representation,
    RepresentationKind,
    parse_outcome,
    validate_representation,
)

END = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def test_parse_a_full_outcome() -> None:
    o = parse_outcome(
        {
            "outcome": "managed_medication",
            "follow_up": "call_back",
            "call_back_at": "2026-03-02T16:00:00+00:00",
            "admission_judgement": "yes",
        }
    )
    assert o.code is OutcomeCode.MANAGED_MEDICATION and o.code.managed_in_home
    assert o.follow_up is FollowUp.CALL_BACK and o.admission_judgement is AdmissionJudgement.YES
    assert o.call_back_at == datetime(2026, 3, 2, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"outcome": "cured", "admission_judgement": "no"},
            "outcome 'cured' is not in the coded list",
        ),
        (
            {"outcome": "other", "admission_judgement": "maybe"},
            "admission judgement 'maybe' is not in yes, no or unsure",
        ),
        (
            {"outcome": "other", "admission_judgement": "no", "follow_up": "call_back"},
            "a call back needs a time",
        ),
        (
            {
                "outcome": "other",
                "admission_judgement": "no",
                "follow_up": "call_back",
                "call_back_at": "tomorrow",
            },
            "call back time 'tomorrow' is not a date and time",
        ),
        (
            {
                "outcome": "other",
                "admission_judgement": "no",
                "call_back_at": "2026-03-02T16:00:00+00:00",
            },
            "only for follow-up 'call_back'",
        ),
    ],
)
def test_bad_outcomes(data: dict[str, str], message: str) -> None:
    with pytest.raises(OutcomeError) as err:
        parse_outcome(data)
    assert message in err.value.message


def test_snomed_codes_only_where_known() -> None:
    coded = {c.value: c.snomed[0] for c in OutcomeCode if c.snomed}
    assert coded == {
        "community_team": "306206005",
        "sent_to_ae": "50849002",
        "admitted_direct": "183452005",
        "end_of_life_support": "103735009",
    }


def test_representation_window() -> None:
    window = timedelta(hours=72)
    validate_representation(END, window, Representation(RepresentationKind.ADMISSION, END + window))
    with pytest.raises(OutcomeError, match="before the call ended"):
        validate_representation(
            END, window, Representation(RepresentationKind.ADMISSION, END - timedelta(minutes=1))
        )
    with pytest.raises(OutcomeError, match="within 72 h of the call"):
        validate_representation(
            END,
            window,
            Representation(RepresentationKind.ADMISSION, END + window + timedelta(seconds=1)),
        )
