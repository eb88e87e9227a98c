"""SQL implementation of the hash-chained audit log (see ``hub/audit/trail.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping

from hub.audit.trail import AuditEvent, AuditRecord, ChainHead, ChainState, event_hash
from hub.store import tables as t
from hub.store.repositories import Repo


class SqlAudit(Repo):
    async def lock(self) -> None:
        """Hold the chain's head until the transaction ends: appends elsewhere wait, so
        "has this been audited yet?" read after it cannot be overtaken by another
        process's append (appends take this lock too)."""
        await self._head()

    async def _head(self) -> RowMapping | None:
        return await self._one(select(t.audit_head).where(t.audit_head.c.id == 1).with_for_update())

    async def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        head = await self._head()
        if head is None:
            raise RuntimeError("audit_head row missing: the schema was not migrated")
        seq = int(head["seq"]) + 1
        prev = str(head["hash"])
        digest = event_hash(self.keyring.audit_key, int(head["keyed_from"]), prev, seq, at, record)
        await self.conn.execute(
            insert(t.audit_events).values(
                seq=seq,
                at=at,
                action=record.action,
                actor=record.actor,
                subject_type=record.subject_type,
                subject_id=record.subject_id,
                detail=dict(record.detail),
                prev_hash=prev,
                hash=digest,
            )
        )
        await self.conn.execute(
            update(t.audit_head).where(t.audit_head.c.id == 1).values(seq=seq, hash=digest)
        )
        return AuditEvent(
            seq,
            at,
            record.action,
            record.actor,
            record.subject_type,
            record.subject_id,
            record.detail,
            prev,
            digest,
        )

    async def state(self) -> ChainState:
        """The stored head of the chain and its switch point to keyed hashes."""
        row = await self._one(select(t.audit_head).where(t.audit_head.c.id == 1))
        if row is None:
            raise RuntimeError("audit_head row missing: the schema was not migrated")
        return ChainState(ChainHead(int(row["seq"]), str(row["hash"])), int(row["keyed_from"]))

    async def events(self, batch: int = 1000) -> AsyncIterator[AuditEvent]:
        last = 0
        while True:
            rows = await self._all(
                select(t.audit_events)
                .where(t.audit_events.c.seq > last)
                .order_by(t.audit_events.c.seq)
                .limit(batch)
            )
            if not rows:
                return
            for r in rows:
                yield _event(r)
            last = rows[-1]["seq"]

    async def recent(self, limit: int = 100) -> list[AuditEvent]:
        stmt = select(t.audit_events).order_by(t.audit_events.c.seq.desc()).limit(limit)
        return [_event(r) for r in await self._all(stmt)]

    async def for_subject(
        self, subject_type: str, subject_id: str, actions: Collection[str] = ()
    ) -> list[AuditEvent]:
        e = t.audit_events.c
        stmt = (
            select(t.audit_events)
            .where(e.subject_type == subject_type, e.subject_id == subject_id)
            .order_by(e.seq)
        )
        if actions:
            stmt = stmt.where(e.action.in_(list(actions)))
        return [_event(r) for r in await self._all(stmt)]


def _event(r: RowMapping) -> AuditEvent:
    return AuditEvent(
        r["seq"],
        r["at"],
        r["action"],
        r["actor"],
        r["subject_type"],
        r["subject_id"],
        r["detail"],
        r["prev_hash"],
        r["hash"],
    )
