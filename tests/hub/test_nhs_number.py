"""NHS numbers are stored as ASCII digits, whatever digits were typed, so one person
is one resident; never-issued numbers are refused."""

from __future__ import annotations

import pytest

from hub.errors import Conflict, RowErrors, ValidationError
from hub.people import admin
from hub.people.access import SYSTEM
from hub.people.residents import ResidentDetails, parse_csv, parse_nhs_number

ASCII = "9434765919"
FULL_WIDTH = "９４３４７６５９１９"
ARABIC_INDIC = "٩٤٣٤٧٦٥٩١٩"
EXTENDED_ARABIC_INDIC = "۹۴۳۴۷۶۵۹۱۹"


@pytest.mark.parametrize(
    "typed",
    [ASCII, "943 476 5919", "943-476-5919", FULL_WIDTH, ARABIC_INDIC, EXTENDED_ARABIC_INDIC],
)
def test_any_decimal_digits_become_ascii(typed: str) -> None:
    assert parse_nhs_number(typed) == ASCII


@pytest.mark.parametrize("typed", ["94347659¹9", "943476591⑨", "9434765919x", "943.476.5919"])
def test_digit_lookalikes_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError, match=r"^NHS number must be 10 digits$"):
        parse_nhs_number(typed)


@pytest.mark.parametrize("typed", ["0000000000", "9999999999", "1111111111", "000 000 0000"])
def test_never_issued_numbers_are_refused(typed: str) -> None:
    digits = "".join(typed.split())
    with pytest.raises(ValidationError) as e:
        parse_nhs_number(typed)
    assert e.value.message == f"NHS number {digits} is never issued to a person: check it"


def details(clock, nhs: str, given: str = "Edna") -> ResidentDetails:  # type: ignore[no-untyped-def]
    return ResidentDetails.parse(
        given_name=given,
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number=nhs,
        today=clock.now().date(),
    )


async def test_one_person_typed_in_three_scripts_is_one_resident(ctx, clock, home) -> None:
    await admin.add_resident(ctx, SYSTEM, home.id, details(clock, ASCII))
    for typed in (FULL_WIDTH, ARABIC_INDIC):
        with pytest.raises(Conflict) as e:
            await admin.add_resident(ctx, SYSTEM, home.id, details(clock, typed))
        assert e.value.message == f"a resident with NHS number {ASCII} already exists"


def test_a_csv_repeating_a_number_in_another_script_is_refused(clock) -> None:  # type: ignore[no-untyped-def]
    csv_text = (
        "given_name,family_name,date_of_birth,nhs_number\n"
        f"Edna,Smith,1931-04-02,{ASCII}\n"
        f"Edna,Smith,1931-04-02,{FULL_WIDTH}\n"
    )
    with pytest.raises(RowErrors) as e:
        parse_csv(csv_text, today=clock.now().date())
    assert e.value.errors == [(3, f"NHS number {ASCII} repeats line 2")]


async def test_searching_in_full_width_digits_finds_the_resident(ctx, clock, home) -> None:
    from hub.people.resident_records import residents_of_home

    await admin.add_resident(ctx, SYSTEM, home.id, details(clock, ASCII))
    found = await residents_of_home(ctx, SYSTEM, home.id, "９４３ ４７６")
    assert [r.details.nhs_number for r in found] == [ASCII]
