"""The notes messages of one connection: hub/calls/notes.py on one side, the wire on the other.

A console that opens a call's notes is put on the switchboard's list for that call
(``watch_notes``): it gets every new entry (``notes.entry``) until it closes them,
opens another call's, or goes away. Nobody else gets them; tablets cannot open notes.
"""

from __future__ import annotations

from typing import Protocol

from hub.calls import notes
from hub.calls.note_entries import NoteEntry
from hub.people.access import Actor
from signalling import note_messages as n
from signalling import protocol as p
from signalling.switchboard import Outbox, Switchboard, notes_address


class Connection(Outbox, Protocol):
    board: Switchboard
    actor: Actor

    def send(self, message: p.ServerMessage) -> None: ...


async def handle(conn: Connection, m: n.NotesClientMessage) -> None:
    ctx, board = conn.board.ctx, conn.board
    match m:
        case n.NotesOpen():
            opened = await notes.open_notes(ctx, conn.actor, m.call_id)
            board.watch_notes(conn, m.call_id)
            d = opened.draft
            conn.send(
                n.NotesSnapshot(
                    call_id=m.call_id,
                    entries=tuple(_item(e) for e in opened.entries),
                    draft_text=d.text,
                    draft_revision=d.revision,
                    draft_saved_at=d.saved_at.isoformat() if d.saved_at else None,
                    ref=m.ref,
                )
            )
        case n.NotesClose():
            board.watch_notes(conn, None)
        case n.NotesDraft():
            result = await notes.save_draft(ctx, conn.actor, m.call_id, m.text, m.base)
            if isinstance(result, notes.DraftSaved):
                conn.send(
                    n.NotesDraftSaved(
                        call_id=m.call_id,
                        revision=result.revision,
                        saved_at=result.saved_at.isoformat(),
                        ref=m.ref,
                    )
                )
            else:
                now = result.current
                conn.send(
                    n.NotesDraftConflict(
                        call_id=m.call_id,
                        revision=now.revision,
                        draft_text=now.text,
                        saved_at=now.saved_at.isoformat() if now.saved_at else None,
                        ref=m.ref,
                    )
                )
        case n.NotesAdd():
            added = await notes.add(ctx, conn.actor, m.call_id, m.text, m.base)
            conn.send(
                n.NotesAdded(
                    call_id=m.call_id,
                    entry_id=added.entry.id,
                    draft_revision=added.draft_revision,
                    ref=m.ref,
                )
            )
            await board.deliver(notes_address(m.call_id), entry_message(added.entry))
        case n.NotesCorrect():
            entry = await notes.correct(ctx, conn.actor, m.call_id, m.corrects, m.text)
            conn.send(
                n.NotesAdded(call_id=m.call_id, entry_id=entry.id, draft_revision=None, ref=m.ref)
            )
            await board.deliver(notes_address(m.call_id), entry_message(entry))


def entry_message(e: NoteEntry) -> n.NotesEntry:
    return n.NotesEntry(
        call_id=e.call_id,
        entry_id=e.id,
        author_name=e.author_name,
        written_at=e.written_at.isoformat(),
        text=e.text,
        corrects=e.corrects,
    )


def _item(e: NoteEntry) -> n.NoteItem:
    return n.NoteItem(
        entry_id=e.id,
        author_name=e.author_name,
        written_at=e.written_at.isoformat(),
        text=e.text,
        corrects=e.corrects,
    )
