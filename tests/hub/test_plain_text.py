"""Names people read refuse bidi controls and other invisible characters."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hub.errors import ValidationError
from hub.people.devices import parse_label
from hub.people.homes import NewHome
from hub.people.plain_text import plain_name
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from web.calls.call_log import parse_row  # the call-log reader, at the edge

RLO = "\u202e"


@pytest.mark.parametrize(
    ("ch", "named"),
    [
        (RLO, "U+202E, right-to-left override"),
        ("\u2066", "U+2066, left-to-right isolate"),
        ("\u200b", "U+200B, zero width space"),
        ("\x00", "U+0000, a control character"),
        ("\x1b", "U+001B, a control character"),
        ("\u200f", "U+200F, right-to-left mark"),
        ("\ue000", "U+E000, an unnamed character"),  # private use
    ],
)
def test_invisible_characters_are_refused_and_named(ch: str, named: str) -> None:
    with pytest.raises(ValidationError) as e:
        plain_name(f"Edna{ch}Smith", field="given_name", label="given name")
    assert e.value.message == (
        f"given name must not contain invisible control or formatting characters "
        f"(found {named}): retype it"
    )
    assert e.value.field == "given_name"


def test_ordinary_names_in_any_script_pass_and_whitespace_folds() -> None:
    for name in ("Siobhán Ó Briain", "محمد", "Zoë  d'Arcy-Smith", "李 小龙", "Ngā\tTāngata"):
        assert plain_name(name, field="f", label="name") == " ".join(name.split())


def test_every_person_and_home_name_field_refuses_them() -> None:
    with pytest.raises(ValidationError, match=r"given name must not contain .*U\+202E"):
        ResidentDetails.parse(
            given_name=f"Edna{RLO}",
            family_name="Smith",
            date_of_birth="1931-04-02",
            nhs_number="9434765919",
            today=date(2026, 3, 2),
        )
    with pytest.raises(ValidationError, match=r"family name must not contain .*U\+202E"):
        ResidentDetails.parse(
            given_name="Edna",
            family_name=f"{RLO}htimS",
            date_of_birth="1931-04-02",
            nhs_number="9434765919",
            today=date(2026, 3, 2),
        )
    with pytest.raises(ValidationError, match=r"display name must not contain .*U\+202E"):
        NewStaff.parse("cleo", f"Cleo{RLO} Clinician", "clinician", [])
    with pytest.raises(ValidationError, match=r"home name must not contain .*U\+202E"):
        NewHome.parse("AB123", f"Rose{RLO} Court", "1 Lane", 40)
    with pytest.raises(ValidationError, match=r"address must not contain .*U\+202E"):
        NewHome.parse("AB123", "Rose Court", f"1 Lane\n{RLO}Leeds", 40)
    assert NewHome.parse("AB123", "Rose Court", "1 Lane\nLeeds", 40).address == "1 Lane\nLeeds"
    with pytest.raises(ValidationError, match=r"tablet label must not contain .*U\+202E"):
        parse_label(f"Trolley{RLO}")
    row = {
        "home_code": "AB123",
        "resident_name": f"Edna{RLO} Smith",
        "requested_at": "2026-02-01T10:00:00Z",
        "answered_at": "",
        "ended_at": "",
    }
    with pytest.raises(ValidationError, match=r"resident_name must not contain .*U\+202E"):
        parse_row(2, row, datetime(2026, 3, 2, tzinfo=UTC))
