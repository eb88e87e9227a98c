"""The audit trail: every access to a resident record and every state change.

Events are hash-chained: each stores the SHA-256 of its canonical form together with
the previous event's hash, so changing, removing or reordering any stored event
breaks verification from that point on (``telehub audit verify``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


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


def event_hash(prev_hash: str, seq: int, at: datetime, record: AuditRecord) -> str:
    canonical = json.dumps(
        {
            "prev": prev_hash,
            "seq": seq,
            "at": at.isoformat(),
            "action": record.action,
            "actor": record.actor,
            "subject_type": record.subject_type,
            "subject_id": record.subject_id,
            "detail": record.detail,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify(events: Iterable[AuditEvent]) -> ChainReport:
    """Walk the chain in sequence order and report the first broken link."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for ev in events:
        if ev.seq != expected_seq:
            return ChainReport(checked, ev.seq, f"expected event {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev:
            return ChainReport(checked, ev.seq, "previous-hash link does not match")
        record = AuditRecord(ev.action, ev.actor, ev.subject_type, ev.subject_id, ev.detail)
        if event_hash(prev, ev.seq, ev.at, record) != ev.hash:
            return ChainReport(checked, ev.seq, "event content does not match its hash")
        prev = ev.hash
        expected_seq += 1
        checked += 1
    return ChainReport(checked, None, None)
