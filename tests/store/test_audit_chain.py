"""The keyed audit chain on a real database: what someone with database access but
without the audit key can and cannot do unseen, and the switch from the unkeyed chain
(migration 0011)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, event, insert, select, update

from hub.audit import chain
from hub.audit.trail import GENESIS, AuditRecord, ChainHead, legacy_hash
from hub.cipher import Keyring
from hub.clock import FixedClock
from hub.context import HubContext
from hub.people.access import SYSTEM
from hub.people.admin import create_home
from hub.people.homes import NewHome
from hub.store import tables as t
from hub.store.bootstrap import make_uow_factory
from hub.store.db import create_engine
from hub.store.migrate import upgrade


async def three_events(ctx: HubContext) -> None:
    for code in ("AA111", "BB222", "CC333"):
        await create_home(ctx, SYSTEM, NewHome.parse(code, f"Home {code}", "1 Lane", 10))


async def test_the_chain_verifies_and_names_its_head(ctx, engine) -> None:
    await three_events(ctx)
    report = await chain.check(ctx)
    assert report.ok and report.checked == 3 and report.unkeyed == 0
    async with engine.connect() as conn:
        last = (
            await conn.execute(select(t.audit_events.c.hash).where(t.audit_events.c.seq == 3))
        ).scalar_one()
    assert await chain.head(ctx) == ChainHead(3, last)
    assert report.head == ChainHead(3, last)


async def test_deleting_the_newest_rows_no_longer_verifies(ctx, engine) -> None:
    await three_events(ctx)
    async with engine.begin() as conn:
        await conn.execute(delete(t.audit_events).where(t.audit_events.c.seq > 1))
    report = await chain.check(ctx)
    assert report.problem == (
        "the chain ends at event 1 but its head row names event 3: the newest events were removed"
    )


async def test_a_truncation_with_the_head_row_rewritten_shows_against_an_exported_head(
    ctx, engine
) -> None:
    await three_events(ctx)
    exported = await chain.head(ctx)
    async with engine.begin() as conn:
        first = (
            (await conn.execute(select(t.audit_events).where(t.audit_events.c.seq == 1)))
            .mappings()
            .one()
        )
        await conn.execute(delete(t.audit_events).where(t.audit_events.c.seq > 1))
        await conn.execute(update(t.audit_head).values(seq=1, hash=first["hash"]))
    assert (await chain.check(ctx)).ok  # consistent as far as the database goes
    report = await chain.check(ctx, exported)
    assert (
        report.problem
        == "the chain ends at event 1, before the exported head 3: events were removed"
    )


async def test_an_edit_with_every_later_hash_recomputed_unkeyed_is_found(ctx, engine) -> None:
    """The old weakness: edit a row, recompute the SHA-256 chain from there, fix the head."""
    await three_events(ctx)
    async with engine.begin() as conn:
        rows = (
            (await conn.execute(select(t.audit_events).order_by(t.audit_events.c.seq)))
            .mappings()
            .all()
        )
        prev = GENESIS
        for r in rows:
            actor = "staff:99" if r["seq"] == 2 else r["actor"]
            rec = AuditRecord(r["action"], actor, r["subject_type"], r["subject_id"], r["detail"])
            h = legacy_hash(prev, r["seq"], r["at"], rec)
            await conn.execute(
                update(t.audit_events)
                .where(t.audit_events.c.seq == r["seq"])
                .values(actor=actor, prev_hash=prev, hash=h)
            )
            prev = h
        await conn.execute(update(t.audit_head).values(hash=prev))
    report = await chain.check(ctx)
    assert report.first_bad_seq == 1
    assert report.problem == "event content does not match its hash"


@pytest.mark.empty_database
async def test_events_from_before_the_key_stay_verifiable_after_migration_0011(
    database_url, settings
) -> None:
    """A database at 0010 with an unkeyed chain: the migration marks the switch point,
    new events are keyed on top, and the whole chain verifies."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, "0010")
        at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        prev = GENESIS
        async with engine.begin() as conn:
            for seq in (1, 2):
                rec = AuditRecord("home.created", "system", "home", str(seq), {"n": seq})
                h = legacy_hash(prev, seq, at, rec)
                await conn.execute(
                    insert(t.audit_events).values(
                        seq=seq,
                        at=at,
                        action=rec.action,
                        actor=rec.actor,
                        subject_type=rec.subject_type,
                        subject_id=rec.subject_id,
                        detail=dict(rec.detail),
                        prev_hash=prev,
                        hash=h,
                    )
                )
                prev = h
            await conn.execute(_head_update(2, prev))
        await upgrade(engine)
        c = settings.crypto
        keyring = Keyring.from_b64(c.notes_keys, c.notes_key_id, c.audit_key)
        ctx = HubContext(make_uow_factory(engine, keyring), FixedClock(at), keyring, settings)
        await three_events(ctx)
        report = await chain.check(ctx)
        assert report.ok and report.checked == 5
        assert report.unkeyed == 2 and report.keyed_from == 3
    finally:
        await engine.dispose()


def _head_update(seq: int, digest: str):  # type: ignore[no-untyped-def]
    # At revision 0010 the head row has no keyed_from column yet: name only what exists.
    from sqlalchemy import text

    return text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE id = 1").bindparams(
        seq=seq, hash=digest
    )


async def test_appends_of_one_transaction_are_chained_and_written_together(
    ctx: HubContext, engine
) -> None:
    """Events appended in one unit of work are written when it commits, in one insert
    and one update of the head (three statements an event before); what the
    transaction reads of the log includes them; a rollback writes none; the chain
    verifies across transactions."""
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    statements: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if "audit_" in statement:
            table = "audit_head" if "audit_head" in statement else "audit_events"
            statements.append(f"{statement.split()[0]} {table}")

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with ctx.uow() as uow:
            for i in range(3):
                await uow.audit.append(AuditRecord(f"test.{i}", "system", "test", str(i), {}), at)
            assert [e.action for e in await uow.audit.recent()] == ["test.2", "test.1", "test.0"]
            await uow.commit()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert statements == [
        "SELECT audit_head",  # the head, locked for the transaction, read once
        "INSERT audit_events",  # the three events in one statement: recent() wrote them
        "UPDATE audit_head",  # the head they end at
        "SELECT audit_events",  # recent() itself; the commit had nothing left to write
    ]

    async with ctx.uow() as uow:  # rolled back: nothing of it is written
        await uow.audit.append(AuditRecord("test.lost", "system", "test", "x", {}), at)
    async with ctx.uow() as uow:
        await uow.audit.append(AuditRecord("test.3", "system", "test", "3", {}), at)
        await uow.commit()
    report = await chain.check(ctx)
    assert report.ok and report.checked == 4
    async with ctx.uow() as uow:
        assert [e.action for e in await uow.audit.recent()] == [
            "test.3",
            "test.2",
            "test.1",
            "test.0",
        ]
