"""Every row of the avoided-events table (docs/outcomes.md), and its negations.

The expectations are written out here as literal sets, independently of
``hub/outcomes/avoided.py``, and checked over every intention x outcome x judgement.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hub.outcomes.avoided import EVENTS, Avoided, AvoidedCounts, avoided, tally
from hub.outcomes.codes import AdmissionJudgement as J
from hub.outcomes.codes import (
    FollowUp,
    Intention,
    Outcome,
    OutcomeCode,
    OutcomeError,
    Representation,
)
from hub.outcomes.codes import RepresentationKind as R

I = Intention  # noqa: E741
C = OutcomeCode
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
END = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def out(code: OutcomeCode, judgement: J = J.NO) -> Outcome:
    return Outcome(code, FollowUp.NONE, None, judgement)


def rep(kind: R, at: datetime) -> Representation:
    return Representation(kind, at)


def run(
    intention: Intention | None,
    outcome: Outcome | None,
    reps: tuple[Representation, ...] = (),
    window: timedelta = WINDOW,
) -> Avoided:
    return avoided(intention, outcome, reps, START, END, window)


def fields_true(a: Avoided) -> set[str]:
    return {name for name in EVENTS if getattr(a, name)}


EVERY_CASE = list(itertools.product(Intention, OutcomeCode, J))
MANAGED = {C.MANAGED_ADVICE, C.MANAGED_MEDICATION, C.MANAGED_MONITORING}


# -- each rule over every intention x outcome x judgement, no re-presentations --------


def mismatches(event: str, rule: Callable[[Intention, OutcomeCode, J], bool]) -> list[str]:
    """Every intention x outcome x judgement where ``event`` differs from ``rule``."""
    wrong = []
    for intention, code, judgement in EVERY_CASE:
        got = getattr(run(intention, out(code, judgement)), event)
        if got is not rule(intention, code, judgement):
            wrong.append(f"{intention}/{code}/{judgement}: {event}={got}")
    return wrong


def test_ae_attendance_rule() -> None:
    went = {C.CALLED_999_CONVEYED, C.SENT_TO_AE, C.ADMITTED_DIRECT}
    assert (
        mismatches("ae_attendance", lambda i, c, j: i in {I.CALL_999, I.AE} and c not in went) == []
    )


def test_999_call_rule() -> None:
    called = {C.CALLED_999_CONVEYED, C.CALLED_999_NOT_CONVEYED}
    assert mismatches("call_999", lambda i, c, j: i is I.CALL_999 and c not in called) == []


def test_conveyance_rule() -> None:
    assert (
        mismatches("conveyance", lambda i, c, j: i is I.CALL_999 and c is not C.CALLED_999_CONVEYED)
        == []
    )


def test_admission_rule() -> None:
    assert (
        mismatches(
            "admission",
            lambda i, c, j: i in {I.CALL_999, I.AE} and j is J.YES and c is not C.ADMITTED_DIRECT,
        )
        == []
    )


def test_urgent_gp_rule() -> None:
    assert mismatches("urgent_gp", lambda i, c, j: i is I.URGENT_GP and c in MANAGED) == []


def test_a_closed_call_with_an_intention_is_attributable() -> None:
    assert mismatches("attributable", lambda i, c, j: True) == []


def test_the_rules_hold_true_somewhere_and_false_somewhere() -> None:
    results = [run(i, out(c, j)) for i, c, j in EVERY_CASE]
    for event in EVENTS:
        assert {getattr(r, event) for r in results} == {True, False}


# -- the table's rows and their negations, as named examples -------------------------

H5 = END + timedelta(hours=5)
NAMED = [
    # A&E attendance
    ("ae: 999 intended, managed", I.CALL_999, C.MANAGED_ADVICE, J.NO, (), {"ae", "999", "conv"}),
    ("ae: A&E intended, GP", I.AE, C.GP_OUT_OF_HOURS, J.NO, (), {"ae"}),
    ("ae not: 111 intended", I.CALL_111, C.MANAGED_ADVICE, J.NO, (), set()),
    ("ae not: outcome sent to A&E", I.AE, C.SENT_TO_AE, J.NO, (), set()),
    ("ae not: outcome conveyed", I.AE, C.CALLED_999_CONVEYED, J.NO, (), set()),
    ("ae not: outcome admitted", I.AE, C.ADMITTED_DIRECT, J.NO, (), set()),
    ("ae yes: 999 not conveyed", I.AE, C.CALLED_999_NOT_CONVEYED, J.NO, (), {"ae"}),
    ("ae not: A&E in window", I.AE, C.OTHER, J.NO, ((R.AE_ATTENDANCE, H5),), set()),
    ("ae not: admission in window", I.AE, C.OTHER, J.NO, ((R.ADMISSION, H5),), set()),
    ("ae not: conveyance in window", I.AE, C.OTHER, J.NO, ((R.CONVEYANCE, H5),), set()),
    ("ae yes: 999 call in window", I.AE, C.OTHER, J.NO, ((R.CALL_999, H5),), {"ae"}),
    # 999 call
    ("999 not: A&E intended", I.AE, C.MANAGED_ADVICE, J.NO, (), {"ae"}),
    ("999 not: called, conveyed", I.CALL_999, C.CALLED_999_CONVEYED, J.NO, (), set()),
    (
        "999 not: called, not conveyed",
        I.CALL_999,
        C.CALLED_999_NOT_CONVEYED,
        J.NO,
        (),
        {"ae", "conv"},
    ),
    ("999 not: 999 in window", I.CALL_999, C.OTHER, J.NO, ((R.CALL_999, H5),), {"ae", "conv"}),
    # conveyance
    ("conv not: conveyance in window", I.CALL_999, C.OTHER, J.NO, ((R.CONVEYANCE, H5),), {"999"}),
    ("conv yes: sent to A&E", I.CALL_999, C.SENT_TO_AE, J.NO, (), {"999", "conv"}),
    # admission
    ("adm: 999 intended, yes", I.CALL_999, C.OTHER, J.YES, (), {"ae", "999", "conv", "adm"}),
    ("adm: A&E intended, yes", I.AE, C.COMMUNITY_TEAM, J.YES, (), {"ae", "adm"}),
    ("adm yes: sent to A&E, yes", I.AE, C.SENT_TO_AE, J.YES, (), {"adm"}),
    ("adm not: unsure", I.AE, C.COMMUNITY_TEAM, J.UNSURE, (), {"ae"}),
    ("adm not: no", I.AE, C.COMMUNITY_TEAM, J.NO, (), {"ae"}),
    ("adm not: GP intended", I.URGENT_GP, C.COMMUNITY_TEAM, J.YES, (), set()),
    ("adm not: admitted direct", I.AE, C.ADMITTED_DIRECT, J.YES, (), set()),
    ("adm not: admission in window", I.AE, C.OTHER, J.YES, ((R.ADMISSION, H5),), set()),
    ("adm yes: A&E in window", I.AE, C.OTHER, J.YES, ((R.AE_ATTENDANCE, H5),), {"adm"}),
    # urgent GP visit
    ("gp: managed, advice", I.URGENT_GP, C.MANAGED_ADVICE, J.NO, (), {"gp"}),
    ("gp: managed, medication", I.URGENT_GP, C.MANAGED_MEDICATION, J.NO, (), {"gp"}),
    ("gp: managed, monitoring", I.URGENT_GP, C.MANAGED_MONITORING, J.NO, (), {"gp"}),
    ("gp not: referred to GP", I.URGENT_GP, C.GP_IN_HOURS, J.NO, (), set()),
    ("gp not: community team", I.URGENT_GP, C.COMMUNITY_TEAM, J.NO, (), set()),
    ("gp not: end of life", I.URGENT_GP, C.END_OF_LIFE_SUPPORT, J.NO, (), set()),
    ("gp not: 999 intended", I.CALL_999, C.MANAGED_ADVICE, J.NO, (), {"ae", "999", "conv"}),
    ("gp not: manage intended", I.MANAGE, C.MANAGED_ADVICE, J.NO, (), set()),
]
SHORT = {
    "ae": "ae_attendance",
    "999": "call_999",
    "conv": "conveyance",
    "adm": "admission",
    "gp": "urgent_gp",
}


@pytest.mark.parametrize(
    ("intention", "code", "judgement", "reps", "expected"),
    [case[1:] for case in NAMED],
    ids=[case[0] for case in NAMED],
)
def test_named_rows(
    intention: Intention,
    code: OutcomeCode,
    judgement: J,
    reps: tuple[tuple[R, datetime], ...],
    expected: set[str],
) -> None:
    result = run(intention, out(code, judgement), tuple(rep(k, at) for k, at in reps))
    assert fields_true(result) == {SHORT[e] for e in expected}
    assert result.attributable


def test_unsure_and_no_never_count_as_admission_avoided() -> None:
    for judgement in (J.NO, J.UNSURE):
        assert not run(I.CALL_999, out(C.MANAGED_ADVICE, judgement)).admission
    assert run(I.CALL_999, out(C.MANAGED_ADVICE, J.YES)).admission


def test_intending_111_or_to_manage_avoids_nothing() -> None:
    for intention in (I.CALL_111, I.MANAGE):
        for code in OutcomeCode:
            assert run(intention, out(code, J.YES)) == Avoided(attributable=True)


# -- re-presentations in the window ------------------------------------------------

# Which recorded re-presentation cancels which avoided event (docs/outcomes.md).
CANCELS = {
    R.AE_ATTENDANCE: {"ae_attendance"},
    R.ADMISSION: {"ae_attendance", "admission"},
    R.CALL_999: {"call_999"},
    R.CONVEYANCE: {"ae_attendance", "conveyance"},
    R.GP_VISIT: set(),  # a GP visit cancels only an avoided urgent GP visit (below)
}
ALL_BUT_GP = Avoided(
    attributable=True, ae_attendance=True, call_999=True, conveyance=True, admission=True
)


@pytest.mark.parametrize("kind", list(R))
def test_each_representation_cancels_exactly_its_events(kind: R) -> None:
    base = run(I.CALL_999, out(C.MANAGED_ADVICE, J.YES))
    assert base == ALL_BUT_GP
    after = run(I.CALL_999, out(C.MANAGED_ADVICE, J.YES), (rep(kind, END + timedelta(hours=5)),))
    assert fields_true(after) == fields_true(base) - CANCELS[kind]
    assert after.attributable


@pytest.mark.parametrize("kind", [k for k in R if k is not R.GP_VISIT])
def test_hospital_representations_never_cancel_an_avoided_gp_visit(kind: R) -> None:
    reps = (rep(kind, END + timedelta(hours=1)),)
    assert run(I.URGENT_GP, out(C.MANAGED_MONITORING), reps).urgent_gp


@pytest.mark.parametrize("code", sorted(MANAGED))
def test_a_gp_visit_in_the_window_cancels_an_avoided_gp_visit(code: OutcomeCode) -> None:
    assert run(I.URGENT_GP, out(code)).urgent_gp
    reps = (rep(R.GP_VISIT, END + timedelta(hours=20)),)
    assert run(I.URGENT_GP, out(code), reps) == Avoided(attributable=True)


@pytest.mark.parametrize(
    ("at", "counts"),
    [
        (START - timedelta(seconds=1), False),
        (START, True),
        (END + WINDOW, True),
        (END + WINDOW + timedelta(seconds=1), False),
    ],
    ids=["1s-before-call", "call-start", "exactly-at-edge", "1s-after-edge"],
)
def test_gp_visit_window_edges(at: datetime, counts: bool) -> None:
    result = run(I.URGENT_GP, out(C.MANAGED_ADVICE), (rep(R.GP_VISIT, at),))
    assert result.urgent_gp is not counts


def test_all_representations_together_cancel_everything_hospital() -> None:
    reps = tuple(rep(k, END + timedelta(hours=2)) for k in R)
    assert run(I.CALL_999, out(C.MANAGED_ADVICE, J.YES), reps) == Avoided(attributable=True)


def test_ae_intention_cancelled_by_an_admission() -> None:
    reps = (rep(R.ADMISSION, END + timedelta(days=2)),)
    assert run(I.AE, out(C.GP_IN_HOURS, J.YES), reps) == Avoided(attributable=True)


@pytest.mark.parametrize(
    ("at", "counts"),
    [
        (START - timedelta(seconds=1), False),
        (START, True),
        (START + timedelta(minutes=5), True),
        (END, True),
        (END + WINDOW - timedelta(seconds=1), True),
        (END + WINDOW, True),
        (END + WINDOW + timedelta(seconds=1), False),
        (END + timedelta(days=30), False),
    ],
    ids=[
        "1s-before-call",
        "call-start",
        "during-call",
        "call-end",
        "1s-before-edge",
        "exactly-at-edge",
        "1s-after-edge",
        "a-month-later",
    ],
)
def test_window_edges(at: datetime, counts: bool) -> None:
    reps = tuple(rep(k, at) for k in R)
    result = run(I.CALL_999, out(C.MANAGED_ADVICE, J.YES), reps)
    assert result == (Avoided(attributable=True) if counts else ALL_BUT_GP)


def test_a_representation_outside_the_window_does_not_mask_one_inside() -> None:
    reps = (
        rep(R.ADMISSION, END + WINDOW + timedelta(hours=1)),
        rep(R.ADMISSION, END + timedelta(hours=1)),
    )
    assert not run(I.AE, out(C.OTHER, J.YES), reps).admission


def test_the_window_is_configurable() -> None:
    reps = (rep(R.ADMISSION, END + timedelta(hours=30)),)
    assert not run(I.AE, out(C.OTHER, J.YES), reps).admission
    assert run(I.AE, out(C.OTHER, J.YES), reps, window=timedelta(hours=24)).admission
    assert run(I.AE, out(C.OTHER, J.YES), reps, window=timedelta(0)).admission


# -- not attributable, not closed ----------------------------------------------------


@pytest.mark.parametrize("code", list(OutcomeCode))
def test_no_intention_is_not_attributable_and_avoids_nothing(code: OutcomeCode) -> None:
    assert run(None, out(code, J.YES)) == Avoided(attributable=False)


@pytest.mark.parametrize("intention", list(Intention))
def test_no_outcome_yet_avoids_nothing_but_is_attributable(intention: Intention) -> None:
    assert run(intention, None) == Avoided(attributable=True)
    assert avoided(intention, None, (), START, None, WINDOW) == Avoided(attributable=True)


def test_open_call_without_intention() -> None:
    assert avoided(None, None, (), START, None, WINDOW) == Avoided(attributable=False)


def test_an_outcome_needs_an_end_time() -> None:
    with pytest.raises(OutcomeError, match="an outcome needs the time the call ended"):
        avoided(I.AE, out(C.OTHER), (), START, None, WINDOW)


@pytest.mark.parametrize(
    ("start", "end", "window", "message"),
    [
        (START.replace(tzinfo=None), END, WINDOW, "call times need a time zone"),
        (START, END.replace(tzinfo=None), WINDOW, "call times need a time zone"),
        (END, START, WINDOW, "the call cannot end"),
        (START, END, -WINDOW, "the follow-up window cannot be negative"),
    ],
)
def test_bad_times_are_refused(
    start: datetime, end: datetime, window: timedelta, message: str
) -> None:
    with pytest.raises(OutcomeError, match=message):
        avoided(I.AE, out(C.OTHER), (), start, end, window)


# -- counts --------------------------------------------------------------------------


def test_tally() -> None:
    counts = tally(
        [
            run(I.CALL_999, out(C.MANAGED_ADVICE, J.YES)),
            run(None, out(C.MANAGED_ADVICE)),
            run(I.URGENT_GP, out(C.MANAGED_MEDICATION)),
            run(I.AE, out(C.SENT_TO_AE, J.YES)),
            run(I.MANAGE, None),
        ]
    )
    assert counts == AvoidedCounts(
        calls=5,
        attributable=4,
        ae_attendance=1,
        call_999=1,
        conveyance=1,
        admission=2,
        urgent_gp=1,
    )
    assert counts.not_attributable == 1


def test_empty_tally() -> None:
    assert tally([]) == AvoidedCounts()
    assert tally([]).not_attributable == 0


def test_add_and_merge() -> None:
    one = AvoidedCounts().add(ALL_BUT_GP)
    assert one == AvoidedCounts(1, 1, 1, 1, 1, 1, 0)
    two = one + AvoidedCounts().add(Avoided(attributable=False))
    assert two == AvoidedCounts(2, 1, 1, 1, 1, 1, 0)
    assert two.not_attributable == 1
