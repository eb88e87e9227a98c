"""The keyed audit chain: HMAC under a key outside the database, head checks, and the
unkeyed events from before the switch (pure functions; the store is in
tests/store/test_audit_chain.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from hub.audit.trail import (
    GENESIS,
    AuditEvent,
    AuditRecord,
    ChainHead,
    ChainState,
    event_hash,
    legacy_hash,
    verify,
)
from hub.errors import ValidationError

KEY = b"k" * 32


def chain(n: int, keyed_from: int = 1, key: bytes = KEY) -> list[AuditEvent]:
    events, prev = [], GENESIS
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(1, n + 1):
        rec = AuditRecord("resident.viewed", "staff:1", "resident", str(i), {"home_id": 1})
        at = t0 + timedelta(minutes=i)
        if i < keyed_from:
            h = legacy_hash(prev, i, at, rec)
        else:
            h = event_hash(key, keyed_from, prev, i, at, rec)
        events.append(
            AuditEvent(
                i, at, rec.action, rec.actor, rec.subject_type, rec.subject_id, rec.detail, prev, h
            )
        )
        prev = h
    return events


def state_of(events: list[AuditEvent], keyed_from: int = 1) -> ChainState:
    last = events[-1]
    return ChainState(ChainHead(last.seq, last.hash), keyed_from)


def test_intact_chain_verifies() -> None:
    events = chain(5)
    report = verify(events, KEY, state_of(events))
    assert report.ok and report.checked == 5 and report.unkeyed == 0
    assert report.head == ChainHead(5, events[-1].hash)


def test_edited_event_is_found() -> None:
    events = chain(5)
    events[2] = dataclasses.replace(events[2], actor="staff:2")
    report = verify(events, KEY)
    assert report.first_bad_seq == 3
    assert report.problem == "event content does not match its hash"


def test_deleted_event_is_found() -> None:
    events = chain(5)
    del events[1]
    report = verify(events, KEY)
    assert report.first_bad_seq == 3 and "expected event 2" in (report.problem or "")


def test_an_edit_rehashed_without_the_key_is_found() -> None:
    """Whoever can write the database but lacks the key cannot recompute the chain: an
    edited event rehashed (unkeyed, or under any other key), with every later link
    rewritten, still fails at the edited event."""
    events = chain(4)
    e = events[1]
    rec = AuditRecord(e.action, "staff:9", e.subject_type, e.subject_id, e.detail)
    for forged in (
        legacy_hash(e.prev_hash, e.seq, e.at, rec),
        event_hash(b"x" * 32, 1, *_at(e, rec)),
    ):
        events[1] = dataclasses.replace(e, actor="staff:9", hash=forged)
        report = verify(events, KEY)
        assert report.first_bad_seq == 2
        assert report.problem == "event content does not match its hash"


def _at(e: AuditEvent, rec: AuditRecord) -> tuple[str, int, datetime, AuditRecord]:
    return e.prev_hash, e.seq, e.at, rec


def test_deleting_the_newest_events_shows_against_the_head_row() -> None:
    events = chain(5)
    state = state_of(events)
    report = verify(events[:3], KEY, state)
    assert not report.ok and report.first_bad_seq == 4
    assert report.problem == (
        "the chain ends at event 3 but its head row names event 5: the newest events were removed"
    )


def test_an_exported_head_shows_a_truncation_even_with_the_head_row_rewritten() -> None:
    events = chain(5)
    exported = ChainHead(5, events[-1].hash)
    truncated = events[:3]
    report = verify(truncated, KEY, state_of(truncated), exported)
    assert not report.ok and report.first_bad_seq == 4
    assert report.problem == (
        "the chain ends at event 3, before the exported head 5: events were removed"
    )
    assert verify(events, KEY, state_of(events), exported).ok


def test_an_exported_head_that_no_longer_matches_shows_a_rewrite() -> None:
    events = chain(5)
    exported = ChainHead(3, "f" * 64)
    report = verify(events, KEY, state_of(events), exported)
    assert report.first_bad_seq == 3
    assert report.problem == f"event 3 is not the exported head 3:{'f' * 64}"


def test_events_before_the_switch_point_are_checked_unkeyed() -> None:
    events = chain(6, keyed_from=4)
    report = verify(events, KEY, state_of(events, keyed_from=4))
    assert report.ok and report.unkeyed == 3 and report.keyed_from == 4
    # An unkeyed event after the switch point is refused.
    assert not verify(chain(6, keyed_from=6), KEY, state_of(events, keyed_from=4)).ok


def test_moving_the_switch_point_breaks_the_keyed_events_after_it() -> None:
    """Pretending more events predate the key (to rewrite them unkeyed) fails: the
    switch point is inside every keyed event's MAC."""
    events = chain(6, keyed_from=2)
    moved = verify(events, KEY, state_of(events, keyed_from=3))
    assert moved.first_bad_seq == 2  # now checked unkeyed: no longer matches
    rewritten = chain(2, keyed_from=3) + events[2:]
    report = verify(rewritten, KEY, state_of(events, keyed_from=3))
    assert report.first_bad_seq == 3 and report.problem == "previous-hash link does not match"


@pytest.mark.parametrize(
    "text", ["12", "x:" + "a" * 64, "12:" + "a" * 63, "12:" + "A" * 64, "-1:" + "a" * 64]
)
def test_a_malformed_exported_head_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="a chain head is SEQ:HASH"):
        ChainHead.parse(text)
    assert ChainHead.parse(f" 12:{'a' * 64}\n") == ChainHead(12, "a" * 64)
