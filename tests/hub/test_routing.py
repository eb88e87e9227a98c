"""The routing rules on plain values: who may answer, what a call needs, which waiting
calls raise alerts, and the clinician's shift line."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.calls.consultation import Reason, State
from hub.calls.queue import QueueEntry
from hub.rostering import routing_rules
from hub.rostering.cover import OnShift
from hub.rostering.problem import ShiftRecord
from hub.settings import RotaSettings, load

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
BASE = load().rota
LOOSE = dataclasses.replace(BASE, enforce_on_shift=False)

NURSE, PRESCRIBER, OFF_PRESCRIBER, OFF_NURSE = 1, 2, 3, 4
SKILLS = {
    NURSE: {"clinician"},
    PRESCRIBER: {"clinician", "prescriber"},
    OFF_PRESCRIBER: {"clinician", "prescriber"},
    OFF_NURSE: {"clinician"},
}


def cover(*on: int, in_force: bool = True) -> OnShift:
    return OnShift(NOW, in_force, {u: frozenset(SKILLS[u]) for u in on})


DAY = cover(NURSE, PRESCRIBER)  # a prescriber is on shift
NO_PRESCRIBER = cover(NURSE)
NOBODY = cover()  # a published rota whose hour has nobody (left) on it
NO_ROTA = cover(in_force=False)

NEEDS = "this call needs a prescriber"
OFF = routing_rules.NOT_ON_SHIFT


@pytest.mark.parametrize(
    ("settings", "who", "reason", "cover_", "expected"),
    [
        # Enforced: a published rota is in force.
        (BASE, NURSE, "fall", DAY, None),
        (BASE, OFF_NURSE, "fall", DAY, OFF),
        (BASE, OFF_PRESCRIBER, "medication", DAY, OFF),  # the skill does not beat the shift
        (BASE, NURSE, "medication", DAY, NEEDS),
        (BASE, PRESCRIBER, "medication", DAY, None),
        (BASE, NURSE, "medication", NO_PRESCRIBER, None),  # nobody on shift has it: any on shift
        (BASE, OFF_NURSE, "medication", NO_PRESCRIBER, OFF),
        (BASE, OFF_NURSE, "fall", NOBODY, None),  # nobody on shift: never unanswerable
        (BASE, OFF_NURSE, "medication", NOBODY, None),
        # No published rota in force: as before routing existed.
        (BASE, OFF_NURSE, "fall", NO_ROTA, None),
        (BASE, OFF_NURSE, "medication", NO_ROTA, None),
        # Enforcement switched off: shifts do not gate; skills do while a holder is on shift.
        (LOOSE, OFF_NURSE, "fall", DAY, None),
        (LOOSE, OFF_NURSE, "medication", DAY, NEEDS),
        (LOOSE, OFF_PRESCRIBER, "medication", DAY, None),
        (LOOSE, OFF_NURSE, "medication", NO_PRESCRIBER, None),
        (LOOSE, OFF_NURSE, "medication", NO_ROTA, None),
    ],
)
def test_who_may_answer(
    settings: RotaSettings, who: int, reason: str, cover_: OnShift, expected: str | None
) -> None:
    assert routing_rules.refusal(who, SKILLS[who], reason, cover_, settings) == expected


@pytest.mark.parametrize(
    ("who", "reason", "cover_", "expected"),
    [
        (OFF_NURSE, "fall", DAY, "Nurse Four is not on shift, so cannot take this call"),
        (NURSE, "medication", DAY, "this call needs a prescriber, and Nurse Four is not one"),
        (PRESCRIBER, "medication", DAY, None),
        (OFF_NURSE, "fall", NO_ROTA, None),
    ],
)
def test_a_transfer_target_is_named(
    who: int, reason: str, cover_: OnShift, expected: str | None
) -> None:
    got = routing_rules.refusal(who, SKILLS[who], reason, cover_, BASE, who="Nurse Four")
    assert got == expected


def test_skills_come_from_settings() -> None:
    assert routing_rules.needed_skill("medication", BASE) == "prescriber"
    assert routing_rules.needed_skill("fall", BASE) is None
    custom = dataclasses.replace(BASE, skill_for_reason={"end_of_life": "senior_clinician"})
    assert routing_rules.needed_skill("medication", custom) is None
    senior = cover(NURSE, PRESCRIBER)
    # Nobody on shift is a senior clinician: the call is still answerable, and says why.
    assert routing_rules.refusal(NURSE, SKILLS[NURSE], "end_of_life", senior, custom) is None
    assert (
        routing_rules.shortfall("end_of_life", senior, custom) == "no senior clinician is on shift"
    )


@pytest.mark.parametrize(
    ("settings", "cover_", "is_enforced", "nurse_read_only", "off_read_only"),
    [
        (BASE, DAY, True, False, True),
        (BASE, NOBODY, False, False, False),
        (BASE, NO_ROTA, False, False, False),
        (LOOSE, DAY, False, False, False),
    ],
)
def test_enforced_and_read_only(
    settings: RotaSettings,
    cover_: OnShift,
    is_enforced: bool,
    nurse_read_only: bool,
    off_read_only: bool,
) -> None:
    assert routing_rules.enforced(cover_, settings) is is_enforced
    assert routing_rules.read_only(NURSE, cover_, settings) is nurse_read_only
    assert routing_rules.read_only(OFF_NURSE, cover_, settings) is off_read_only


@pytest.mark.parametrize(
    ("reason", "cover_", "expected"),
    [
        ("medication", DAY, None),
        ("medication", NO_PRESCRIBER, "no prescriber is on shift"),
        ("fall", NO_PRESCRIBER, None),
        ("fall", NOBODY, "nobody is on shift"),
        ("medication", NO_ROTA, None),  # no rota is the banner's business, not each call's
    ],
)
def test_shortfall(reason: str, cover_: OnShift, expected: str | None) -> None:
    assert routing_rules.shortfall(reason, cover_, BASE) == expected


def entry(call_id: int, reason: str, waited_s: int, state: str = "waiting") -> QueueEntry:
    return QueueEntry(
        call_id=call_id,
        home_id=1,
        home_name="Rose Court",
        resident_id=call_id,
        resident_name=f"Resident {call_id}",
        reason=Reason(reason),
        news2_score=None,
        news2_band=None,
        news2_missing=(),
        state=State(state),
        requested_at=NOW - timedelta(seconds=waited_s),
    )


def test_alerts_for_waiting_calls() -> None:
    target = BASE.answer_target_s
    entries = [
        entry(1, "medication", 10),
        entry(2, "fall", target),  # exactly at the target: not longer than it
        entry(3, "fall", target + 1),
        entry(4, "medication", target + 120, state="answered"),  # taken: no alert
    ]
    got = [
        (a.call_id, a.kind, a.why) for a in routing_rules.alerts(entries, NO_PRESCRIBER, BASE, NOW)
    ]
    assert got == [  # in queue order: the longest wait first at equal priority
        (3, "over_target", "waiting 5 min 1 s, over the 5 min answer target"),
        (1, "unanswerable", "no prescriber is on shift"),
    ]
    quick = dataclasses.replace(BASE, answer_target_s=4)
    (alert,) = routing_rules.alerts([entry(5, "fall", 10)], DAY, quick, NOW)
    assert alert.why == "waiting 10 s, over the 4 s answer target"
    # With a prescriber on shift only the wait is left; with no rota too.
    assert [a.key for a in routing_rules.alerts(entries, DAY, BASE, NOW)] == [(3, "over_target")]
    assert [a.key for a in routing_rules.alerts(entries, NO_ROTA, BASE, NOW)] == [
        (3, "over_target")
    ]


def shift(start: datetime, hours: int = 8) -> ShiftRecord:
    return ShiftRecord(1, start.date(), "early", start, start + timedelta(hours=hours))


@pytest.mark.parametrize(
    ("shifts", "expected"),
    [
        ([shift(datetime(2026, 3, 2, 7, tzinfo=UTC))], "On shift until 15:00"),
        ([shift(datetime(2026, 3, 1, 23, tzinfo=UTC), 12)], "On shift until 11:00"),
        ([shift(datetime(2026, 3, 2, 9, tzinfo=UTC), 22)], "On shift until Tue 07:00"),
        (
            [
                shift(datetime(2026, 3, 3, 7, tzinfo=UTC)),
                shift(datetime(2026, 3, 5, 7, tzinfo=UTC)),
            ],
            "Next shift: Tue 07:00",
        ),
        ([shift(datetime(2026, 3, 10, 7, tzinfo=UTC))], "Next shift: Tue 10 Mar 07:00"),
        ([shift(datetime(2026, 3, 1, 7, tzinfo=UTC))], None),  # only past shifts
        ([], None),
    ],
)
def test_shift_note(shifts: list[ShiftRecord], expected: str | None) -> None:
    assert routing_rules.shift_note(shifts, NOW, LONDON) == expected


def test_shift_note_in_summer_time() -> None:
    # 06:00 UTC in June is 07:00 in London.
    start = datetime(2026, 6, 2, 6, tzinfo=UTC)
    note = routing_rules.shift_note([shift(start)], start - timedelta(hours=20), LONDON)
    assert note == "Next shift: Tue 07:00"
