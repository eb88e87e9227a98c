"""Clinical notes of a call: entries that are only ever added, and per-author drafts.

Clinical text is never lost or overwritten:

- An **entry** is written once (author, time, text sealed at rest) and never changed.
  A correction is a new entry that names the entry it corrects (``corrects``); the
  corrected entry stays, shown as corrected. A correction of a correction is fine;
  an entry of another call is not.
- A **draft** is what a clinician is still typing: one per call per author, saved as
  they type (sealed too) so that a reload or a reconnect gives it back. Only its author
  overwrites it, and only from the revision they last saw: a save from an older
  revision (the same clinician typing in a second tab) is a conflict, answered with the
  text now stored, never a silent overwrite. "Add to notes" turns a draft into an entry.
- Hand back, transfer and end commit the holder's draft as an entry first
  (``commit_draft``, called by ``hub.calls.live`` inside its own transaction), so nothing
  is left in a draft that nobody will open again.

Who may write: while a call is open (waiting, answered, in a call) only the clinician
holding it; once it is over (ended, cancelled, abandoned) any clinician may add a late
entry or a correction. Every write is audited with the text's length, never the text.
Reading a call's entries is an access to the resident's record and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation
from hub.calls.lifecycle import LIVE, OPEN, refusal
from hub.calls.note_entries import MAX_NOTES, Draft, NewNote, NoteEntry, check_text
from hub.context import HubContext
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.people.access import Actor, Role
from hub.ports import UnitOfWork


@dataclass(frozen=True)
class CallNotes:
    call_id: int
    entries: list[NoteEntry]
    draft: Draft


@dataclass(frozen=True)
class DraftSaved:
    revision: int
    saved_at: datetime


@dataclass(frozen=True)
class DraftConflict:
    """The draft changed elsewhere since ``base``: nothing was written."""

    current: Draft


@dataclass(frozen=True)
class Added:
    entry: NoteEntry
    # The draft's revision after the add emptied it; None when the draft was left as
    # it was because it had changed elsewhere since the text was taken from it.
    draft_revision: int | None


async def open_notes(ctx: HubContext, actor: Actor, call_id: int) -> CallNotes:
    """Every entry of a call and this clinician's own draft (audited as a record read)."""
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await _call(uow, call_id)
        if call.state in OPEN and call.answered_by != actor.id:
            raise await _not_holder(uow, call)
        entries = await uow.notes.for_call(call_id)
        draft = await uow.notes.draft(call_id, actor.id)
        await _audit(
            uow,
            actor,
            "call.notes_read",
            call,
            now,
            {"resident_id": call.resident_id, "entries": len(entries)},
        )
        await uow.commit()
    return CallNotes(call_id, entries, draft or Draft())


async def save_draft(
    ctx: HubContext, actor: Actor, call_id: int, text: str, base: int
) -> DraftSaved | DraftConflict:
    """Store the author's draft if it is still at revision ``base``."""
    _require_clinician(actor)
    if len(text) > MAX_NOTES:
        raise ValidationError(f"notes must be at most {MAX_NOTES} characters", field="notes")
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        call = await _call(uow, call_id)
        if call.state not in LIVE or call.answered_by != actor.id:
            if call.state in OPEN:
                raise await _not_holder(uow, call)
            raise Conflict(f"{refusal(call_id, call.state)}: add to the notes instead")
        revision = await uow.notes.save_draft(call_id, actor.id, text, base, now)
        if revision is None:
            current = await uow.notes.draft(call_id, actor.id)
            return DraftConflict(current or Draft())
        await uow.commit()
    return DraftSaved(revision, now)


async def add(
    ctx: HubContext, actor: Actor, call_id: int, text: str, base: int | None = None
) -> Added:
    """Add an entry. With ``base`` the text came from the author's draft at that
    revision: the draft is emptied, unless it has changed since (another tab)."""
    check_text(text)
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow(brief=True) as uow:
        call = await _writable(uow, actor, call_id)
        entry = await _add(uow, actor, call, NewNote(call_id, actor.ref, actor.name, now, text))
        revision = None
        if base is not None:
            revision = await uow.notes.save_draft(call_id, actor.id, "", base, now)
        await uow.commit()
    return Added(entry, revision)


async def correct(
    ctx: HubContext, actor: Actor, call_id: int, corrects: int, text: str
) -> NoteEntry:
    """A new entry that corrects an earlier entry of the same call."""
    check_text(text)
    _require_clinician(actor)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        call = await _writable(uow, actor, call_id)
        earlier = await uow.notes.get(corrects)
        if earlier is None or earlier.call_id != call_id:
            raise NotFound(f"no note entry {corrects} in call {call_id}")
        new = NewNote(call_id, actor.ref, actor.name, now, text, corrects=corrects)
        entry = await _add(uow, actor, call, new)
        await uow.commit()
    return entry


async def commit_draft(
    uow: UnitOfWork, call: Consultation, at: datetime, during: str
) -> NoteEntry | None:
    """The holder's draft becomes an entry (hand back, transfer, end): inside the
    caller's transaction, before the call changes hands."""
    holder = call.answered_by
    if holder is None:
        return None
    draft = await uow.notes.draft(call.id, holder)
    if draft is None or not draft.text.strip():
        return None
    user = await uow.staff.get(holder)
    name = user.display_name if user else f"staff {holder}"
    author = Actor("staff", holder, name, Role.CLINICIAN)
    entry = await _add(
        uow, author, call, NewNote(call.id, author.ref, author.name, at, draft.text), during
    )
    await uow.notes.save_draft(call.id, holder, "", draft.revision, at)
    return entry


async def _add(
    uow: UnitOfWork, actor: Actor, call: Consultation, new: NewNote, during: str | None = None
) -> NoteEntry:
    entry = await uow.notes.add(new)
    detail: dict[str, object] = {"entry": entry.id, "chars": len(new.text)}
    if new.corrects is not None:
        detail["corrects"] = new.corrects
    if during is not None:
        detail["from_draft_during"] = during
    # The text itself stays out of the audit trail: its length shows what was written.
    action = "call.note_corrected" if new.corrects is not None else "call.note_added"
    await _audit(uow, actor, action, call, new.written_at, detail)
    return entry


async def _writable(uow: UnitOfWork, actor: Actor, call_id: int) -> Consultation:
    call = await _call(uow, call_id)
    if call.state in OPEN and call.answered_by != actor.id:
        raise await _not_holder(uow, call)
    return call


async def _call(uow: UnitOfWork, call_id: int) -> Consultation:
    call = await uow.consultations.get(call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


async def _not_holder(uow: UnitOfWork, call: Consultation) -> Exception:
    if call.answered_by is None:
        return Conflict(
            f"call {call.id} is waiting in the queue: notes are written by whoever answers it"
        )
    user = await uow.staff.get(call.answered_by)
    who = user.display_name if user else "a colleague"
    return Forbidden(f"call {call.id} is being handled by {who}: only they add notes until it ends")


def _require_clinician(actor: Actor) -> None:
    if actor.kind != "staff" or actor.role is not Role.CLINICIAN:
        raise Forbidden("only clinicians read and write notes here")


async def _audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    call: Consultation,
    at: datetime,
    detail: dict[str, object],
) -> None:
    await uow.audit.append(AuditRecord(action, actor.ref, "consultation", str(call.id), detail), at)
