"""Reading resident records. Every access is audited, including refused ones.

A tablet asking for a resident of another home gets *not found* — the same answer as
for a resident that does not exist — and the attempt is written to the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation
from hub.calls.note_entries import NoteEntry
from hub.context import HubContext
from hub.errors import NotFound
from hub.people.access import Actor
from hub.people.residents import Resident, ascii_digits
from hub.ports import UnitOfWork


@dataclass(frozen=True)
class ResidentRecord:
    resident: Resident
    consultations: list[Consultation]
    # Each call's note entries, oldest first (read with the record, under its audit).
    notes: dict[int, list[NoteEntry]] = field(default_factory=dict)


async def residents_of_home(
    ctx: HubContext, actor: Actor, home_id: int, search: str = "", *, recent_first: bool = False
) -> list[Resident]:
    """A home's residents (audited). ``recent_first``: those called about lately come
    first, newest first, then the others by family name (what a carer looks for)."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        if not actor.can_see_home(home_id) or await uow.homes.get(home_id) is None:
            await uow.audit.append(
                AuditRecord("home.residents.denied", actor.ref, "home", str(home_id), {}), now
            )
            await uow.commit()
            raise NotFound(f"no care home {home_id}")
        # Digits typed in any script find the ASCII digits NHS numbers are stored as.
        wanted = search.strip()[:100]
        residents = await uow.residents.for_home(home_id, ascii_digits(wanted) or wanted)
        if recent_first:
            last = await uow.consultations.last_call_by_resident([r.id for r in residents])
            # Newest call first (a negative timestamp), then everyone else by family name.
            residents.sort(
                key=lambda r: (
                    -last[r.id].timestamp() if r.id in last else 0,
                    r.details.family_name,
                )
            )
        await uow.audit.append(
            AuditRecord(
                "home.residents.listed",
                actor.ref,
                "home",
                str(home_id),
                {"count": len(residents), "search": bool(search.strip())},
            ),
            now,
        )
        await uow.commit()
    return residents


async def view_resident(ctx: HubContext, actor: Actor, resident_id: int) -> ResidentRecord:
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        resident = await _readable(uow, actor, resident_id, now)
        history = await uow.consultations.for_resident(resident_id)
        # Notes are for hub staff: a care home's tablet never reads them.
        notes = {} if actor.is_device else await uow.notes.for_calls([c.id for c in history])
        await _viewed(uow, actor, resident, now)
        await uow.commit()
    return ResidentRecord(resident, history, notes)


async def view_resident_details(ctx: HubContext, actor: Actor, resident_id: int) -> Resident:
    """The resident alone (no calls, no notes), for a page that shows who a call is
    about: a read of the record all the same, so audited (and refused) the same way."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        resident = await _readable(uow, actor, resident_id, now)
        await _viewed(uow, actor, resident, now)
        await uow.commit()
    return resident


async def resident_counts(ctx: HubContext, actor: Actor) -> dict[int, int]:
    """How many residents each care home the actor may see has (no record is read)."""
    async with ctx.uow() as uow:
        counts = await uow.residents.count_by_home()
    return {home_id: n for home_id, n in counts.items() if actor.can_see_home(home_id)}


async def _readable(uow: UnitOfWork, actor: Actor, resident_id: int, now: datetime) -> Resident:
    """The resident, if the actor may see them; otherwise the refusal is audited and
    committed, and the answer is *not found* (a record of another home does not exist)."""
    resident = await uow.residents.get(resident_id)
    if resident is None or not actor.can_see_home(resident.home_id):
        await uow.audit.append(
            AuditRecord(
                "resident.denied",
                actor.ref,
                "resident",
                str(resident_id),
                {"reason": "missing" if resident is None else "other home"},
            ),
            now,
        )
        await uow.commit()
        raise NotFound(f"no resident {resident_id}")
    return resident


async def _viewed(uow: UnitOfWork, actor: Actor, resident: Resident, now: datetime) -> None:
    await uow.audit.append(
        AuditRecord(
            "resident.viewed",
            actor.ref,
            "resident",
            str(resident.id),
            {"home_id": resident.home_id},
        ),
        now,
    )
