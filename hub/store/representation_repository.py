"""SQL implementation of the re-presentation repository port (``hub/ports.py``).

A re-presentation is never deleted: undoing one stamps ``undone_at``/``undone_by`` on
the row (one conditional UPDATE, so two undos cannot both succeed), and from then on
it is left out of what counts (``SqlConsultations.representations`` reads only rows
that are not undone).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping

from hub.outcomes.codes import RecordedRepresentation, Representation, RepresentationKind
from hub.store import tables as t
from hub.store.repositories import Repo, new_id

r = t.representations.c


class SqlRepresentations(Repo):
    async def add(self, call_id: int, rep: Representation, recorded_by: str, at: datetime) -> int:
        result = await self.conn.execute(
            insert(t.representations).values(
                consultation_id=call_id,
                kind=rep.kind.value,
                at=rep.at,
                recorded_by=recorded_by,
                recorded_at=at,
            )
        )
        return new_id(result)

    async def get(self, rep_id: int) -> RecordedRepresentation | None:
        row = await self._one(select(t.representations).where(r.id == rep_id))
        return _recorded(row) if row is not None else None

    async def for_call(self, call_id: int) -> list[RecordedRepresentation]:
        rows = await self._all(
            select(t.representations)
            .where(r.consultation_id == call_id, r.undone_at.is_(None))
            .order_by(r.at, r.id)
        )
        return [_recorded(row) for row in rows]

    async def undo(self, rep_id: int, by: str, at: datetime) -> bool:
        result = await self.conn.execute(
            update(t.representations)
            .where(r.id == rep_id, r.undone_at.is_(None))
            .values(undone_at=at, undone_by=by)
        )
        return result.rowcount == 1


def _recorded(row: RowMapping) -> RecordedRepresentation:
    return RecordedRepresentation(
        id=row["id"],
        call_id=row["consultation_id"],
        kind=RepresentationKind(row["kind"]),
        at=row["at"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        undone_at=row["undone_at"],
        undone_by=row["undone_by"],
    )
