"""SQL implementation of the notes repository port (entries and drafts, ``hub/calls/notes.py``).

Entries are inserted, never updated (except for sealing a new row's text with its own
id as associated data, in the same transaction). A draft is saved by one conditional
UPDATE on its revision, so of two saves from the same revision exactly one wins.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from hub.calls.note_entries import Draft, NewNote, NoteEntry
from hub.store import tables as t
from hub.store.repositories import Repo, new_id


def entry_context(entry_id: int) -> str:
    return f"consultation_notes:{entry_id}"


def earlier_context(call_id: int) -> str:
    """How the old single notes column sealed a call's text (kept for moved entries)."""
    return f"consultations:{call_id}:notes"


def draft_context(call_id: int, author_id: int) -> str:
    return f"note_drafts:{call_id}:{author_id}"


class SqlNotes(Repo):
    async def add(self, new: NewNote) -> NoteEntry:
        result = await self.conn.execute(
            insert(t.consultation_notes).values(
                consultation_id=new.call_id,
                author_ref=new.author_ref,
                author_name=new.author_name[:120],
                written_at=new.written_at,
                key_id=self.keyring.current,
                text_sealed="",
                corrects=new.corrects,
            )
        )
        entry_id = new_id(result)
        await self.conn.execute(
            update(t.consultation_notes)
            .where(t.consultation_notes.c.id == entry_id)
            .values(text_sealed=self.keyring.seal(new.text, entry_context(entry_id)))
        )
        return NoteEntry(
            entry_id,
            new.call_id,
            new.author_ref,
            new.author_name[:120],
            new.written_at,
            new.text,
            new.corrects,
        )

    async def add_many(self, notes: Sequence[NewNote]) -> None:
        for new in notes:
            await self.add(new)

    def _entry(self, r: RowMapping) -> NoteEntry:
        context = earlier_context(r["consultation_id"]) if r["earlier"] else entry_context(r["id"])
        return NoteEntry(
            id=r["id"],
            call_id=r["consultation_id"],
            author_ref=r["author_ref"],
            author_name=r["author_name"],
            written_at=r["written_at"],
            text=self.keyring.open(r["text_sealed"], context),
            corrects=r["corrects"],
        )

    async def get(self, entry_id: int) -> NoteEntry | None:
        row = await self._one(
            select(t.consultation_notes).where(t.consultation_notes.c.id == entry_id)
        )
        return self._entry(row) if row else None

    async def for_call(self, call_id: int) -> list[NoteEntry]:
        return (await self.for_calls([call_id])).get(call_id, [])

    async def for_calls(self, call_ids: Collection[int]) -> dict[int, list[NoteEntry]]:
        """Each call's entries, oldest first."""
        n = t.consultation_notes.c
        found: dict[int, list[NoteEntry]] = {}
        ids = list(call_ids)
        for start in range(0, len(ids), 500):
            rows = await self._all(
                select(t.consultation_notes)
                .where(n.consultation_id.in_(ids[start : start + 500]))
                .order_by(n.written_at, n.id)
            )
            for row in rows:
                found.setdefault(row["consultation_id"], []).append(self._entry(row))
        return found

    async def draft(self, call_id: int, author_id: int) -> Draft | None:
        d = t.note_drafts.c
        row = await self._one(
            select(t.note_drafts).where(d.consultation_id == call_id, d.author_id == author_id)
        )
        if row is None:
            return None
        text = self.keyring.open_optional(row["text_sealed"], draft_context(call_id, author_id))
        return Draft(text, row["revision"], row["saved_at"])

    async def save_draft(
        self, call_id: int, author_id: int, text: str, base: int, at: datetime
    ) -> int | None:
        """Store the draft if it is at revision ``base`` (0: none yet); the new revision,
        or None when it has moved on since ``base``."""
        d = t.note_drafts.c
        sealed = self.keyring.seal_optional(text, draft_context(call_id, author_id))
        if base == 0:
            try:  # a savepoint: a draft inserted meanwhile is a conflict, not an error
                async with self.conn.begin_nested():
                    await self.conn.execute(
                        insert(t.note_drafts).values(
                            consultation_id=call_id,
                            author_id=author_id,
                            revision=1,
                            text_sealed=sealed,
                            saved_at=at,
                        )
                    )
            except IntegrityError:
                return None
            return 1
        result = await self.conn.execute(
            update(t.note_drafts)
            .where(d.consultation_id == call_id, d.author_id == author_id, d.revision == base)
            .values(revision=base + 1, text_sealed=sealed, saved_at=at)
        )
        return base + 1 if result.rowcount == 1 else None
