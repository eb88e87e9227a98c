from __future__ import annotations

import pytest

from hub.cipher import CipherError, Keyring
from hub.errors import ValidationError


def ring(current: str = "k1", **keys: str) -> Keyring:
    return Keyring.from_b64(keys or {"k1": Keyring.new_key_b64()}, current)


def test_round_trip_and_key_id_prefix() -> None:
    k = ring()
    sealed = k.seal("Fell in the lounge; no head injury", "consultations:1:notes")
    assert sealed.startswith("k1:")
    assert "lounge" not in sealed
    assert k.open(sealed, "consultations:1:notes") == "Fell in the lounge; no head injury"


def test_same_text_seals_differently_each_time() -> None:
    k = ring()
    assert k.seal("x", "c") != k.seal("x", "c")


def test_ciphertext_bound_to_its_row() -> None:
    k = ring()
    sealed = k.seal("allergic to penicillin", "residents:1:allergies")
    with pytest.raises(CipherError, match="wrong row"):
        k.open(sealed, "residents:2:allergies")


def test_tampering_detected() -> None:
    k = ring()
    sealed = k.seal("hello", "c")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(CipherError):
        k.open(flipped, "c")


def test_rotation_old_text_still_opens() -> None:
    old_key, new_key = Keyring.new_key_b64(), Keyring.new_key_b64()
    sealed_old = ring("k1", k1=old_key).seal("old note", "c")
    rotated = ring("k2", k1=old_key, k2=new_key)
    assert rotated.open(sealed_old, "c") == "old note"
    assert rotated.seal("new", "c").startswith("k2:")


def test_unknown_key_id() -> None:
    sealed = ring().seal("x", "c")
    with pytest.raises(CipherError, match="unknown key id"):
        ring().open("k9" + sealed[2:], "c")


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        ({"k1": "AAAA"}, "k1", "must be 32 bytes"),
        ({"k1": "not base64!"}, "k1", "not valid base64"),
        ({"k1": Keyring.new_key_b64()}, "k2", "not among the configured keys"),
    ],
)
def test_bad_key_configuration(keys: dict[str, str], current: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Keyring.from_b64(keys, current)


def test_empty_text_is_not_stored() -> None:
    k = ring()
    assert k.seal_optional("", "c") is None
    assert k.open_optional(None, "c") == ""
