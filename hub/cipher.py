"""Encryption at rest for clinical free text (notes, resident flags, TOTP secrets).

AES-256-GCM from ``cryptography``. Each ciphertext is stored as
``"<key id>:<base64(nonce || ciphertext+tag)>"`` so keys can rotate: new text is
sealed with the current key, old text opens with whichever key id it names.
The associated data binds a ciphertext to the row and column it belongs to, so a
value copied into another record does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import ValidationError

NONCE_BYTES = 12


class CipherError(Exception):
    """A stored ciphertext cannot be opened (unknown key id, tampered, corrupt)."""


class Keyring:
    """The keys kept outside the database: notes keys by id, and the audit chain's
    HMAC key (``audit_key``; None only where no audit event is ever written)."""

    def __init__(
        self, keys: Mapping[str, bytes], current: str, audit_key: bytes | None = None
    ) -> None:
        if current not in keys:
            raise ValidationError(f"notes key id {current!r} is not among the configured keys")
        for key_id, key in keys.items():
            if ":" in key_id or not key_id:
                raise ValidationError(f"notes key id {key_id!r} must be non-empty without ':'")
            if len(key) != 32:
                raise ValidationError(f"notes key {key_id!r} must be 32 bytes, got {len(key)}")
        if audit_key is not None and len(audit_key) < 32:
            raise ValidationError(f"the audit key must be 32 bytes, got {len(audit_key)}")
        self._keys = {k: AESGCM(v) for k, v in keys.items()}
        self.current = current
        self._audit_key = audit_key

    @property
    def audit_key(self) -> bytes:
        if self._audit_key is None:
            raise ValidationError("crypto.audit_key is not configured: the audit chain needs it")
        return self._audit_key

    @classmethod
    def from_b64(cls, keys: Mapping[str, str], current: str, audit_key: str = "") -> Keyring:
        decoded = {}
        for key_id, text in keys.items():
            try:
                decoded[key_id] = base64.b64decode(text, validate=True)
            except binascii.Error:
                raise ValidationError(f"notes key {key_id!r} is not valid base64") from None
        try:
            audit = base64.b64decode(audit_key, validate=True) if audit_key else None
        except binascii.Error:
            raise ValidationError("crypto.audit_key is not valid base64") from None
        return cls(decoded, current, audit)

    @staticmethod
    def new_key_b64() -> str:
        return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.current}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, context: str) -> str:
        key_id, sep, body = stored.partition(":")
        if not sep:
            raise CipherError("ciphertext has no key id")
        aead = self._keys.get(key_id)
        if aead is None:
            raise CipherError(f"ciphertext names unknown key id {key_id!r}")
        try:
            raw = base64.b64decode(body, validate=True)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (binascii.Error, InvalidTag, ValueError):
            raise CipherError("ciphertext does not open: tampered, corrupt or wrong row") from None

    def seal_optional(self, plaintext: str | None, context: str) -> str | None:
        return None if plaintext is None or plaintext == "" else self.seal(plaintext, context)

    def open_optional(self, stored: str | None, context: str) -> str:
        return "" if stored is None else self.open(stored, context)
