"""Reading the CSV call-log format (``web.calls.call_log``): the header, typed rows,
and bad rows with every problem in column order. What the import then does with the
rows is tested in tests/hub/test_call_import.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.calls.consultation import Reason
from hub.calls.imports import BadRow, CallRow
from hub.errors import RowErrors
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, OutcomeCode
from tests.hub.test_call_import import GOOD, HEADER, log

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def rows(text: str) -> list[CallRow | BadRow]:
    return list(log(text).rows(NOW))


def test_header_problems_refuse_the_log_as_line_1() -> None:
    with pytest.raises(RowErrors) as err:
        rows("home_code,when,reason\n")
    assert err.value.errors == [
        (
            1,
            "missing column(s): requested_at; unknown column(s): "
            "when; give nhs_number or resident_name",
        )
    ]


def test_a_good_row_is_typed() -> None:
    first, second = rows(HEADER + GOOD)
    assert first == CallRow(
        line=2,
        home_code="AB123",
        nhs_number="9434765919",
        resident_name=None,
        requested_at=datetime(2026, 2, 1, 10, tzinfo=UTC),
        answered_at=datetime(2026, 2, 1, 10, 3, tzinfo=UTC),
        ended_at=datetime(2026, 2, 1, 10, 20, tzinfo=UTC),
        reason=Reason.FALL,
        intention=Intention.CALL_999,
        outcome=OutcomeCode.MANAGED_ADVICE,
        follow_up=FollowUp.NONE,
        admission_judgement=AdmissionJudgement.YES,
    )
    assert isinstance(second, CallRow) and second.line == 3
    assert (second.nhs_number, second.resident_name) == (None, "Edna Smith")


def test_columns_in_any_order_short_rows_and_cells_past_the_header() -> None:
    text = "reason,requested_at,resident_name,home_code\nfall,2026-02-01T10:00:00,Edna,ab123,x\n"
    text += "other,2026-02-01T11:00:00Z,Edna,AB123\n"
    first, second = rows(text)
    assert isinstance(first, CallRow) and isinstance(second, CallRow)
    assert first.home_code == "AB123"  # codes are upper-cased
    assert first.requested_at == datetime(2026, 2, 1, 10, tzinfo=UTC)  # no zone: UTC
    assert (first.answered_at, first.outcome, first.intention) == (None, None, None)
    assert second.line == 3 and second.reason is Reason.OTHER


def test_a_bad_row_carries_its_home_and_every_problem_in_column_order() -> None:
    """The import names an unknown home before these problems (tests/hub/test_call_import.py
    checks the message people see); here, what the reader finds on its own."""
    bad = (
        "zz999,,,2026-02-01T10:00:00Z,soon,2026-02-01T09:00:00Z,,,cured,sometime,\n"
        "AB123,9434765919,,2026-03-02T10:00:00Z,,,fall,,managed_advice,,\n"
    )
    assert rows(HEADER + bad) == [
        BadRow(
            2,
            "ZZ999",
            "give the resident's NHS number or name; "
            "answered_at 'soon' is not a date and time like 2026-03-01T14:05:00+00:00; "
            "ended_at is before the call was answered; "
            "outcome 'cured' is not in the coded list; "
            "follow_up 'sometime' is not in none, home_to_call_if_worse",
        ),
        BadRow(
            3,
            "AB123",
            "requested_at is in the future; a call with an outcome needs answered_at and ended_at",
        ),
    ]
