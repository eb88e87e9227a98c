from __future__ import annotations

from datetime import date

import pytest

from hub.errors import RowErrors, ValidationError
from hub.people.residents import ResidentDetails, format_nhs_number, parse_csv, parse_nhs_number

TODAY = date(2026, 3, 2)
HEADER = "given_name,family_name,date_of_birth,nhs_number,dnacpr,end_of_life,allergies,alerts\n"


@pytest.mark.parametrize("raw", ["9434765919", "943 476 5919", "943-476-5919"])
def test_valid_nhs_numbers(raw: str) -> None:
    assert parse_nhs_number(raw) == "9434765919"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("9434765918", "NHS number 9434765918 fails its modulus-11 check digit"),
        ("943476591", "NHS number must be 10 digits"),
        ("94347659190", "NHS number must be 10 digits"),
        ("94347659X9", "NHS number must be 10 digits"),
        ("", "NHS number must be 10 digits"),
        # Check digit 10 is never valid: no number has this stem.
        ("1000000010", "fails its modulus-11 check digit"),
    ],
)
def test_invalid_nhs_numbers(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        parse_nhs_number(raw)
    assert err.value.field == "nhs_number"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # In the CHI range with a good check digit, but 30/13/00 is not a date.
        (
            "3013001232",
            "NHS number 3013001232 is in the Scottish CHI range, but its first six digits "
            "(301300) are not a date of birth (DDMMYY)",
        ),
        # 31 February is not a date either.
        (
            "3102990002",
            "NHS number 3102990002 is in the Scottish CHI range, but its first six digits "
            "(310299) are not a date of birth (DDMMYY)",
        ),
        # Both wrong: both said.
        (
            "3013001233",
            "NHS number 3013001233 is in the Scottish CHI range, but its first six digits "
            "(301300) are not a date of birth (DDMMYY), and it fails its modulus-11 check digit",
        ),
        # A real date with a wrong check digit is only a check-digit failure.
        ("0101501235", "NHS number 0101501235 fails its modulus-11 check digit"),
    ],
)
def test_chi_numbers_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_nhs_number(raw)
    assert err.value.message == message
    assert err.value.field == "nhs_number"


@pytest.mark.parametrize("raw", ["0101501234", "2902240015"])
def test_valid_chi_numbers(raw: str) -> None:
    assert parse_nhs_number(raw) == raw


def test_format() -> None:
    assert format_nhs_number("9434765919") == "943 476 5919"


def details(**kw: object) -> ResidentDetails:
    base: dict[str, object] = dict(
        given_name="Edna", family_name="Smith", date_of_birth="1931-04-02", nhs_number="9434765919"
    )
    base.update(kw)
    return ResidentDetails.parse(**base, today=TODAY)  # type: ignore[arg-type]


def test_parse_resident_normalises() -> None:
    d = details(given_name="  Edna   May ", dnacpr="yes", allergies=" Latex ")
    assert d.given_name == "Edna May" and d.dnacpr and d.allergies == "Latex"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"given_name": " "}, "given name is required"),
        ({"date_of_birth": "02/04/1931"}, "date of birth must be a date like 1934-05-21"),
        ({"date_of_birth": "2027-01-01"}, "date of birth is in the future"),
        ({"date_of_birth": "1880-01-01"}, "more than 125 years ago"),
        ({"dnacpr": "maybe"}, "DNACPR must be yes or no"),
        ({"allergies": "x" * 2001}, "allergies must be at most 2000 characters"),
    ],
)
def test_bad_resident_fields(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        details(**kw)


def test_csv_import_parses_all_rows() -> None:
    text = (
        HEADER + "Edna,Smith,1931-04-02,943 476 5919,yes,,Penicillin,\n"
        "Albert,Jones,1940-12-01,4010232137,no,yes,,Deaf left ear\n"
    )
    rows = parse_csv(text, today=TODAY)
    assert [line for line, _ in rows] == [2, 3]
    assert rows[0][1].dnacpr and rows[1][1].end_of_life


def test_csv_bad_rows_are_line_numbered_and_nothing_returned() -> None:
    text = HEADER + (
        "Edna,Smith,1931-04-02,9434765919,,,,\n"
        "Bad,Number,1931-04-02,9434765918,,,,\n"
        ",NoName,1931-04-02,4010232137,,,,\n"
        "Twin,Copy,1931-04-02,9434765919,,,,\n"
        "Bad,Date,31/12/1930,4010232137,,,,\n"
    )
    with pytest.raises(RowErrors) as err:
        parse_csv(text, today=TODAY)
    assert err.value.errors == [
        (3, "NHS number 9434765918 fails its modulus-11 check digit"),
        (4, "given name is required"),
        (5, "NHS number 9434765919 repeats line 2"),
        (6, "date of birth must be a date like 1934-05-21, got '31/12/1930'"),
    ]
    assert "nothing imported" in err.value.message


def test_csv_missing_columns_and_extra_cells() -> None:
    with pytest.raises(RowErrors) as err:
        parse_csv("given_name,family_name\nA,B\n", today=TODAY)
    assert err.value.errors == [(1, "missing column(s): date_of_birth, nhs_number")]
    with pytest.raises(RowErrors) as err:
        parse_csv(HEADER + "Edna,Smith,1931-04-02,9434765919,,,,,surplus\n", today=TODAY)
    assert err.value.errors == [(2, "more cells than columns")]


def test_csv_empty_file() -> None:
    with pytest.raises(RowErrors, match="no resident rows"):
        parse_csv(HEADER, today=TODAY)
