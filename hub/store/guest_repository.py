"""SQL implementation of the guest repository port (``hub/ports.py``).

An invitation is used by one conditional UPDATE (unused, not withdrawn, unexpired), so
of two people opening the same link at once exactly one gets in, on SQLite and on
PostgreSQL; ``call_guests.invitation_id`` is unique as well, so a second guest for
one link cannot be stored even by mistake. Tokens arrive here as digests only.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping

from hub.calls.guests import PRESENT, Guest, GuestKind, GuestState, Invitation
from hub.store import tables as t
from hub.store.repositories import Repo, new_id

i = t.call_invitations.c
g = t.call_guests.c
_PRESENT = [s.value for s in PRESENT]


class SqlGuests(Repo):
    async def add_invitation(
        self,
        call_id: int,
        kind: GuestKind,
        token_hash: str,
        created_by: str,
        at: datetime,
        expires_at: datetime,
    ) -> Invitation:
        result = await self.conn.execute(
            insert(t.call_invitations).values(
                consultation_id=call_id,
                kind=kind.value,
                token_hash=token_hash,
                created_by=created_by,
                created_at=at,
                expires_at=expires_at,
            )
        )
        return Invitation(new_id(result), call_id, kind, created_by, at, expires_at)

    async def invitation(self, invitation_id: int) -> Invitation | None:
        row = await self._one(select(t.call_invitations).where(i.id == invitation_id))
        return _invitation(row) if row is not None else None

    async def invitation_by_token(self, token_hash: str) -> Invitation | None:
        row = await self._one(select(t.call_invitations).where(i.token_hash == token_hash))
        return _invitation(row) if row is not None else None

    async def invitations(self, call_id: int) -> list[Invitation]:
        rows = await self._all(
            select(t.call_invitations)
            .where(i.consultation_id == call_id)
            .order_by(i.created_at, i.id)
        )
        return [_invitation(r) for r in rows]

    async def use_invitation(self, invitation_id: int, at: datetime) -> bool:
        result = await self.conn.execute(
            update(t.call_invitations)
            .where(
                i.id == invitation_id,
                i.used_at.is_(None),
                i.revoked_at.is_(None),
                i.expires_at > at,
            )
            .values(used_at=at)
        )
        return result.rowcount == 1

    async def revoke_invitation(self, invitation_id: int, at: datetime) -> bool:
        result = await self.conn.execute(
            update(t.call_invitations)
            .where(i.id == invitation_id, i.used_at.is_(None), i.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    async def add_guest(
        self, invitation: Invitation, name: str, session_hash: str, at: datetime
    ) -> Guest:
        result = await self.conn.execute(
            insert(t.call_guests).values(
                consultation_id=invitation.call_id,
                invitation_id=invitation.id,
                kind=invitation.kind.value,
                name=name,
                session_hash=session_hash,
                state=GuestState.WAITING.value,
                joined_at=at,
            )
        )
        return Guest(
            new_id(result),
            invitation.call_id,
            invitation.id,
            invitation.kind,
            name,
            at,
            GuestState.WAITING,
        )

    async def guest(self, guest_id: int) -> Guest | None:
        row = await self._one(select(t.call_guests).where(g.id == guest_id))
        return _guest(row) if row is not None else None

    async def guest_by_session(self, session_hash: str) -> Guest | None:
        row = await self._one(select(t.call_guests).where(g.session_hash == session_hash))
        return _guest(row) if row is not None else None

    async def guests(self, call_id: int) -> list[Guest]:
        rows = await self._all(
            select(t.call_guests).where(g.consultation_id == call_id).order_by(g.joined_at, g.id)
        )
        return [_guest(r) for r in rows]

    async def for_calls(self, call_ids: Collection[int]) -> dict[int, list[Guest]]:
        # Exports read many calls: one query per 500 of them, not one per call.
        found: dict[int, list[Guest]] = {}
        ids = list(call_ids)
        for start in range(0, len(ids), 500):
            rows = await self._all(
                select(t.call_guests)
                .where(g.consultation_id.in_(ids[start : start + 500]))
                .order_by(g.joined_at, g.id)
            )
            for row in rows:
                found.setdefault(row["consultation_id"], []).append(_guest(row))
        return found

    async def admit(self, guest_id: int, at: datetime) -> bool:
        result = await self.conn.execute(
            update(t.call_guests)
            .where(g.id == guest_id, g.state == GuestState.WAITING.value)
            .values(state=GuestState.IN_CALL.value, admitted_at=at)
        )
        return result.rowcount == 1

    async def end_guest(
        self, guest_id: int, state: GuestState, at: datetime, removed_by: str | None = None
    ) -> bool:
        result = await self.conn.execute(
            update(t.call_guests)
            .where(g.id == guest_id, g.state.in_(_PRESENT))
            .values(state=state.value, left_at=at, removed_by=removed_by, session_hash=None)
        )
        return result.rowcount == 1

    async def active_count(self, call_id: int, now: datetime) -> int:
        invited = await self.conn.scalar(
            select(func.count())
            .select_from(t.call_invitations)
            .where(
                i.consultation_id == call_id,
                i.used_at.is_(None),
                i.revoked_at.is_(None),
                i.expires_at > now,
            )
        )
        present = await self.conn.scalar(
            select(func.count())
            .select_from(t.call_guests)
            .where(g.consultation_id == call_id, g.state.in_(_PRESENT))
        )
        return int(invited or 0) + int(present or 0)


def _invitation(row: RowMapping) -> Invitation:
    return Invitation(
        id=row["id"],
        call_id=row["consultation_id"],
        kind=GuestKind(row["kind"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        revoked_at=row["revoked_at"],
    )


def _guest(row: RowMapping) -> Guest:
    return Guest(
        id=row["id"],
        call_id=row["consultation_id"],
        invitation_id=row["invitation_id"],
        kind=GuestKind(row["kind"]),
        name=row["name"],
        joined_at=row["joined_at"],
        state=GuestState(row["state"]),
        admitted_at=row["admitted_at"],
        left_at=row["left_at"],
        removed_by=row["removed_by"],
    )
