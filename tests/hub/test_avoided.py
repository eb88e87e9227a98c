"""Every row of the avoided-events table (docs/outcomes.md), and its negations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.avoided import Avoided, avoided, tally
from hub.outcomes import (
    AdmissionJudgement as J,
)
from hub.outcomes import (
    FollowUp,
    Intention,
    Outcome,
    OutcomeCode,
    Representation,
)
from hub.outcomes import (
    RepresentationKind as R,
)

END = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
WINDOW = timedelta(hours=72)
Code = OutcomeCode


def out(code: OutcomeCode, judgement: J = J.NO) -> Outcome:
    return Outcome(code, FollowUp.NONE, judgement)


def rep(kind: R, after: timedelta) -> Representation:
    return Representation(kind, END + after)


def run(
    intention: Intention | None, outcome: Outcome | None, reps: tuple[Representation, ...] = ()
) -> Avoided:
    return avoided(intention, outcome, reps, END, WINDOW)


# -- A&E attendance ---------------------------------------------------------------------


@pytest.mark.parametrize("intention", [Intention.CALL_999, Intention.AE])
@pytest.mark.parametrize(
    "code",
    [
        Code.MANAGED_ADVICE,
        Code.GP_IN_HOURS,
        Code.COMMUNITY_TEAM,
        Code.CALLED_999_NOT_CONVEYED,
        Code.END_OF_LIFE_SUPPORT,
        Code.OTHER,
    ],
)
def test_ae_avoided(intention: Intention, code: OutcomeCode) -> None:
    assert run(intention, out(code)).ae_attendance


@pytest.mark.parametrize("code", [Code.CALLED_999_CONVEYED, Code.SENT_TO_AE, Code.ADMITTED_DIRECT])
def test_ae_not_avoided_when_the_outcome_went_to_hospital(code: OutcomeCode) -> None:
    assert not run(Intention.AE, out(code)).ae_attendance


@pytest.mark.parametrize("kind", [R.AE_ATTENDANCE, R.CONVEYANCE, R.ADMISSION])
def test_ae_cancelled_by_reaching_hospital_in_the_window(kind: R) -> None:
    assert not run(
        Intention.AE, out(Code.MANAGED_ADVICE), (rep(kind, timedelta(hours=5)),)
    ).ae_attendance


@pytest.mark.parametrize("intention", [Intention.URGENT_GP, Intention.CALL_111, Intention.MANAGE])
def test_ae_not_avoided_when_never_intended(intention: Intention) -> None:
    assert not run(intention, out(Code.MANAGED_ADVICE)).ae_attendance


# -- 999 call -------------------------------------------------------------------------


def test_999_avoided() -> None:
    assert run(Intention.CALL_999, out(Code.GP_OUT_OF_HOURS)).call_999


@pytest.mark.parametrize("code", [Code.CALLED_999_CONVEYED, Code.CALLED_999_NOT_CONVEYED])
def test_999_not_avoided_when_called(code: OutcomeCode) -> None:
    assert not run(Intention.CALL_999, out(code)).call_999


def test_999_cancelled_by_a_999_call_in_the_window() -> None:
    assert not run(
        Intention.CALL_999, out(Code.MANAGED_ADVICE), (rep(R.CALL_999, timedelta(hours=30)),)
    ).call_999


def test_999_only_when_intended() -> None:
    assert not run(Intention.AE, out(Code.MANAGED_ADVICE)).call_999


# -- conveyance -----------------------------------------------------------------------


def test_conveyance_avoided_even_if_999_was_called_but_not_conveyed() -> None:
    result = run(Intention.CALL_999, out(Code.CALLED_999_NOT_CONVEYED))
    assert result.conveyance and not result.call_999


def test_conveyance_not_avoided() -> None:
    assert not run(Intention.CALL_999, out(Code.CALLED_999_CONVEYED)).conveyance
    assert not run(
        Intention.CALL_999, out(Code.MANAGED_ADVICE), (rep(R.CONVEYANCE, timedelta(hours=1)),)
    ).conveyance
    assert not run(Intention.AE, out(Code.MANAGED_ADVICE)).conveyance


# -- admission ------------------------------------------------------------------------


@pytest.mark.parametrize("intention", [Intention.CALL_999, Intention.AE])
def test_admission_avoided_only_on_a_yes(intention: Intention) -> None:
    assert run(intention, out(Code.MANAGED_MONITORING, J.YES)).admission
    assert not run(intention, out(Code.MANAGED_MONITORING, J.NO)).admission
    assert not run(intention, out(Code.MANAGED_MONITORING, J.UNSURE)).admission


def test_admission_not_avoided() -> None:
    assert not run(Intention.AE, out(Code.ADMITTED_DIRECT, J.YES)).admission
    assert not run(
        Intention.AE, out(Code.MANAGED_ADVICE, J.YES), (rep(R.ADMISSION, timedelta(hours=71)),)
    ).admission
    assert not run(Intention.URGENT_GP, out(Code.MANAGED_ADVICE, J.YES)).admission


def test_sent_to_ae_but_not_admitted_can_still_avoid_admission() -> None:
    result = run(Intention.AE, out(Code.SENT_TO_AE, J.YES))
    assert result.admission and not result.ae_attendance


# -- urgent GP ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", [Code.MANAGED_ADVICE, Code.MANAGED_MEDICATION, Code.MANAGED_MONITORING]
)
def test_urgent_gp_avoided_when_managed_in_home(code: OutcomeCode) -> None:
    assert run(Intention.URGENT_GP, out(code)).urgent_gp


@pytest.mark.parametrize("code", [Code.GP_IN_HOURS, Code.GP_OUT_OF_HOURS, Code.COMMUNITY_TEAM])
def test_urgent_gp_not_avoided_otherwise(code: OutcomeCode) -> None:
    assert not run(Intention.URGENT_GP, out(code)).urgent_gp


# -- attribution and the window ---------------------------------------------------------


def test_no_intention_is_not_attributable_and_never_avoided() -> None:
    assert run(None, out(Code.MANAGED_ADVICE, J.YES)) == Avoided(attributable=False)


def test_no_outcome_yet_avoids_nothing() -> None:
    assert run(Intention.CALL_999, None) == Avoided(attributable=True)


def test_window_edges() -> None:
    at_edge = (rep(R.AE_ATTENDANCE, WINDOW),)
    just_after = (rep(R.AE_ATTENDANCE, WINDOW + timedelta(seconds=1)),)
    before_call = (rep(R.AE_ATTENDANCE, -timedelta(seconds=1)),)
    assert not run(Intention.AE, out(Code.MANAGED_ADVICE), at_edge).ae_attendance
    assert run(Intention.AE, out(Code.MANAGED_ADVICE), just_after).ae_attendance
    assert run(Intention.AE, out(Code.MANAGED_ADVICE), before_call).ae_attendance


def test_tally() -> None:
    counts = tally(
        [
            run(Intention.CALL_999, out(Code.MANAGED_ADVICE, J.YES)),
            run(None, out(Code.MANAGED_ADVICE)),
            run(Intention.URGENT_GP, out(Code.MANAGED_MEDICATION)),
        ]
    )
    assert (counts.calls, counts.attributable, counts.not_attributable) == (3, 2, 1)
    assert (
        counts.ae_attendance,
        counts.call_999,
        counts.conveyance,
        counts.admission,
        counts.urgent_gp,
    ) == (1, 1, 1, 1, 1)
    assert tally([]).calls == 0
