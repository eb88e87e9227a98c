from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from hub.audit import GENESIS, AuditEvent, AuditRecord, event_hash, verify


def chain(n: int) -> list[AuditEvent]:
    events, prev = [], GENESIS
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        rec = AuditRecord("resident.viewed", "staff:1", "resident", str(i), {"home_id": 1})
        at = t0 + timedelta(minutes=i)
        h = event_hash(prev, i, at, rec)
        events.append(
            AuditEvent(
                i, at, rec.action, rec.actor, rec.subject_type, rec.subject_id, rec.detail, prev, h
            )
        )
        prev = h
    return events


def test_intact_chain_verifies() -> None:
    report = verify(chain(5))
    assert report.ok and report.checked == 5


def test_edited_event_is_found() -> None:
    events = chain(5)
    events[2] = dataclasses.replace(events[2], actor="staff:2")
    report = verify(events)
    assert report.first_bad_seq == 3
    assert report.problem == "event content does not match its hash"


def test_deleted_event_is_found() -> None:
    events = chain(5)
    del events[1]
    report = verify(events)
    assert report.first_bad_seq == 3 and "expected event 2" in (report.problem or "")


def test_rehashed_event_breaks_the_next_link() -> None:
    events = chain(4)
    e = events[1]
    rec = AuditRecord(e.action, "staff:9", e.subject_type, e.subject_id, e.detail)
    events[1] = dataclasses.replace(
        e, actor="staff:9", hash=event_hash(e.prev_hash, e.seq, e.at, rec)
    )
    report = verify(events)
    assert report.first_bad_seq == 3
    assert report.problem == "previous-hash link does not match"
