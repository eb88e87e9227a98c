"""Staff passwords: long, not the username, and not guessable (zxcvbn)."""

from __future__ import annotations

import pytest

from hub.errors import ValidationError
from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff, check_password_strength


@pytest.mark.parametrize(
    ("password", "why"),
    [
        (
            "passwordpassword",
            'repeats like "abcabcabc" are only slightly harder to guess than "abc"',
        ),
        ("Password1234", "this is similar to a commonly used password"),
        ("qwertyuiop123", "this is a very common password"),
        ("abcdefghijklmnop", 'sequences like "abc" or "6543" are easy to guess'),
    ],
)
def test_common_and_guessable_passwords_are_refused(password: str, why: str) -> None:
    with pytest.raises(ValidationError) as e:
        check_password_strength(password, "cleo")
    assert e.value.field == "password"
    assert e.value.message == (
        f"that password is too easy to guess ({why}): use three or four unrelated words"
    )


def test_the_persons_own_name_makes_a_password_guessable() -> None:
    check_password_strength("zorbakovathimblewick", "nurse7")
    with pytest.raises(ValidationError, match="too easy to guess"):
        check_password_strength("zorbakovathimblewick", "nurse7", "Zorbakova Thimblewick")


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "a long enough password", "kq8-mara-lune-pivot"]
)
def test_passphrases_pass(password: str) -> None:
    check_password_strength(password, "cleo")


def test_very_long_passwords_are_judged_quickly_by_their_start() -> None:
    check_password_strength("correct horse battery staple " * 8, "cleo")
    with pytest.raises(ValidationError, match="too easy to guess"):
        check_password_strength("a" * 200, "cleo")


async def test_creating_staff_refuses_a_common_password(ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="too easy to guess"):
        await create_staff(
            ctx, SYSTEM, NewStaff.parse("cleo", "Cleo", "clinician", []), "Password1234"
        )
