"""SQL implementation of the hash-chained audit log (see ``hub/audit/trail.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.audit.trail import AuditEvent, AuditRecord, ChainHead, ChainState, event_hash
from hub.cipher import Keyring
from hub.store import tables as t
from hub.store.repositories import Repo


@dataclass(frozen=True)
class _Tip:
    """The chain's head as this transaction will leave it."""

    seq: int
    hash: str
    keyed_from: int


class SqlAudit(Repo):
    """The audit chain in SQL. Appends are chained as they come (each event's hash from
    the one before) but written together when the unit of work commits (``flush``):
    one read of the head (locked until the transaction ends), one insert of all the
    events and one update of the head per transaction, instead of three statements an
    event. A rollback writes none of them. Reads of the log write what is pending first."""

    def __init__(self, conn: AsyncConnection, keyring: Keyring) -> None:
        super().__init__(conn, keyring)
        self._tip: _Tip | None = None
        self._pending: list[dict[str, Any]] = []

    async def lock(self) -> None:
        """Hold the chain's head until the transaction ends: appends elsewhere wait, so
        "has this been audited yet?" read after it cannot be overtaken by another
        process's append (appends take this lock too)."""
        await self._locked_tip()

    async def _locked_tip(self) -> _Tip:
        if self._tip is None:
            head = await self._one(_LOCK_HEAD)
            if head is None:
                raise RuntimeError("audit_head row missing: the schema was not migrated")
            self._tip = _Tip(int(head["seq"]), str(head["hash"]), int(head["keyed_from"]))
        return self._tip

    async def append(self, record: AuditRecord, at: datetime) -> AuditEvent:
        tip = await self._locked_tip()
        seq = tip.seq + 1
        digest = event_hash(self.keyring.audit_key, tip.keyed_from, tip.hash, seq, at, record)
        self._pending.append(
            {
                "seq": seq,
                "at": at,
                "action": record.action,
                "actor": record.actor,
                "subject_type": record.subject_type,
                "subject_id": record.subject_id,
                "detail": dict(record.detail),
                "prev_hash": tip.hash,
                "hash": digest,
            }
        )
        self._tip = _Tip(seq, digest, tip.keyed_from)
        return AuditEvent(
            seq,
            at,
            record.action,
            record.actor,
            record.subject_type,
            record.subject_id,
            record.detail,
            tip.hash,
            digest,
        )

    async def flush(self) -> None:
        """Write the events appended since the last flush, and the head they end at."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        assert self._tip is not None
        await self.conn.execute(_INSERT_EVENTS, rows)
        await self.conn.execute(_MOVE_HEAD, {"new_seq": self._tip.seq, "new_hash": self._tip.hash})

    def transaction_ended(self) -> None:
        """After a commit the head may move under other writers: read it again."""
        self._tip = None

    async def state(self) -> ChainState:
        """The stored head of the chain and its switch point to keyed hashes."""
        await self.flush()
        row = await self._one(select(t.audit_head).where(t.audit_head.c.id == 1))
        if row is None:
            raise RuntimeError("audit_head row missing: the schema was not migrated")
        return ChainState(ChainHead(int(row["seq"]), str(row["hash"])), int(row["keyed_from"]))

    async def events(self, batch: int = 1000) -> AsyncIterator[AuditEvent]:
        await self.flush()
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
        await self.flush()
        stmt = select(t.audit_events).order_by(t.audit_events.c.seq.desc()).limit(limit)
        return [_event(r) for r in await self._all(stmt)]

    async def for_subject(
        self, subject_type: str, subject_id: str, actions: Collection[str] = ()
    ) -> list[AuditEvent]:
        await self.flush()
        e = t.audit_events.c
        stmt = (
            select(t.audit_events)
            .where(e.subject_type == subject_type, e.subject_id == subject_id)
            .order_by(e.seq)
        )
        if actions:
            stmt = stmt.where(e.action.in_(list(actions)))
        return [_event(r) for r in await self._all(stmt)]


# Every audited action writes through these: built once, as the call events' statements
# are (hub/store/consultation_repository.py).
_LOCK_HEAD = select(t.audit_head).where(t.audit_head.c.id == 1).with_for_update()
_INSERT_EVENTS = insert(t.audit_events)
_MOVE_HEAD = (
    update(t.audit_head)
    .where(t.audit_head.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


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
