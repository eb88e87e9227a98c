"""Exporting a range's consultations with who and where they concern: the residents
(with their NHS numbers), the care homes and the answering clinicians. An export names
residents, so it is audited as one access: who, which range and home, how many — and in
what format (the edge turns the export into a file: ``web/reports/fhir.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation
from hub.context import HubContext
from hub.errors import NotFound
from hub.people.access import Actor
from hub.people.homes import CareHome
from hub.people.residents import Resident
from hub.people.staff import StaffUser
from hub.reports.summary import ReportQuery, scope

EXPORT_ACTION = "consultations.exported"


@dataclass(frozen=True)
class ConsultationExport:
    """The consultations requested in a range, and everything they refer to, by id."""

    at: datetime
    calls: list[Consultation]
    homes: dict[int, CareHome]
    residents: dict[int, Resident]
    staff: dict[int, StaffUser]


async def consultations(
    ctx: HubContext, actor: Actor, query: ReportQuery, *, format: str
) -> ConsultationExport:
    """The consultations requested in the query's UK days (one home, or every home the
    actor may see: a care-home manager only their own), audited as exported in
    ``format``."""
    home_id = scope(actor, query.home_id)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        if home_id is not None and await uow.homes.get(home_id) is None:
            raise NotFound(f"no care home {home_id}")
        calls = await uow.consultations.in_range(query.since, query.until, home_id)
        homes = {h.id: h for h in await uow.homes.list()}
        staff = {u.id: u for u in await uow.staff.list()}
        residents = {}
        for rid in {c.resident_id for c in calls}:
            resident = await uow.residents.get(rid)
            if resident is not None:
                residents[rid] = resident
        await uow.audit.append(
            AuditRecord(
                EXPORT_ACTION,
                actor.ref,
                "export",
                now.isoformat(),
                {
                    "format": format,
                    "from": query.start.isoformat(),
                    "to": query.end.isoformat(),
                    "home_id": home_id,
                    "consultations": len(calls),
                    "residents": len(residents),
                },
            ),
            now,
        )
        await uow.commit()
    return ConsultationExport(now, calls, homes, residents, staff)
