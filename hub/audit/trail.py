"""The audit trail: every access to a resident record and every state change.

Events are hash-chained: each stores an HMAC-SHA256, under a key kept outside the
database (``crypto.audit_key``), of its canonical form together with the previous
event's hash, so changing, removing or reordering any stored event breaks
verification from that point on (``telehub audit verify``), and someone who can write
the database but lacks the key cannot recompute the chain after an edit. The newest
event must be the head recorded in ``audit_head``; a head exported earlier
(``telehub audit head``) shows a truncation even if that row was rewritten too.

Events written before the chain was keyed (migration 0011 records the switch point)
keep their plain SHA-256 and are checked as such. See docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.errors import ValidationError

GENESIS = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class AuditRecord:
    """What a service asks to be audited; the store adds sequence and hashes."""

    action: str
    actor: str
    subject_type: str
    subject_id: str
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: datetime
    action: str
    actor: str
    subject_type: str
    subject_id: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


def _canonical(prev_hash: str, seq: int, at: datetime, record: AuditRecord, **extra: Any) -> bytes:
    return json.dumps(
        {
            "prev": prev_hash,
            "seq": seq,
            "at": at.isoformat(),
            "action": record.action,
            "actor": record.actor,
            "subject_type": record.subject_type,
            "subject_id": record.subject_id,
            "detail": record.detail,
            **extra,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def event_hash(
    key: bytes, keyed_from: int, prev_hash: str, seq: int, at: datetime, record: AuditRecord
) -> str:
    """HMAC-SHA256 under the audit key of the event's canonical form, which includes the
    previous hash and the chain's switch point (so moving the switch point breaks
    every keyed event after it)."""
    message = _canonical(prev_hash, seq, at, record, keyed_from=keyed_from)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def legacy_hash(prev_hash: str, seq: int, at: datetime, record: AuditRecord) -> str:
    """The unkeyed SHA-256 of events written before the chain was keyed (migration 0011)."""
    return hashlib.sha256(_canonical(prev_hash, seq, at, record)).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    """The newest event's sequence number and hash: what ``telehub audit head`` prints
    and an operator keeps elsewhere, so that a later truncation or rewrite shows."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        seq, sep, digest = text.strip().partition(":")
        if not (sep and seq.isdigit() and _HEX64.fullmatch(digest)):
            raise ValidationError(
                f"a chain head is SEQ:HASH as `telehub audit head` prints it, got {text!r}"
            )
        return cls(int(seq), digest)


@dataclass(frozen=True)
class ChainState:
    """The audit_head row: the newest event, and the first event that is keyed."""

    head: ChainHead
    keyed_from: int


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None
    problem: str | None
    head: ChainHead | None = None
    keyed_from: int = 1

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def unkeyed(self) -> int:
        """Events written before the chain was keyed (checked with plain SHA-256)."""
        return min(self.keyed_from - 1, self.checked)


def verify(
    events: Iterable[AuditEvent],
    key: bytes,
    state: ChainState | None = None,
    expected: ChainHead | None = None,
) -> ChainReport:
    """Walk the chain in sequence order and report the first broken link.

    ``state`` is the stored head row: its switch point decides which events are
    unkeyed, and the last event must be the head it names (deleting the newest events
    shows). ``expected`` is a head exported earlier (``telehub audit head``): the chain
    must still hold that event with that hash, so a truncation or rewrite since shows
    even when the head row was rewritten with it."""
    keyed_from = state.keyed_from if state is not None else 1
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last: ChainHead | None = None

    def report(bad: int | None, problem: str | None) -> ChainReport:
        return ChainReport(checked, bad, problem, last, keyed_from)

    for ev in events:
        if ev.seq != expected_seq:
            return report(ev.seq, f"expected event {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev:
            return report(ev.seq, "previous-hash link does not match")
        record = AuditRecord(ev.action, ev.actor, ev.subject_type, ev.subject_id, ev.detail)
        if ev.seq < keyed_from:
            digest = legacy_hash(prev, ev.seq, ev.at, record)
        else:
            digest = event_hash(key, keyed_from, prev, ev.seq, ev.at, record)
        if not hmac.compare_digest(digest, ev.hash):
            return report(ev.seq, "event content does not match its hash")
        if expected is not None and ev.seq == expected.seq and ev.hash != expected.hash:
            return report(ev.seq, f"event {ev.seq} is not the exported head {expected}")
        prev = ev.hash
        last = ChainHead(ev.seq, ev.hash)
        expected_seq += 1
        checked += 1
    if state is not None and (last or ChainHead(0, GENESIS)) != state.head:
        return report(
            checked + 1,
            f"the chain ends at event {checked} but its head row names event "
            f"{state.head.seq}: the newest events were removed",
        )
    if expected is not None and checked < expected.seq:
        return report(
            checked + 1,
            f"the chain ends at event {checked}, before the exported head {expected.seq}: "
            "events were removed",
        )
    return report(None, None)
