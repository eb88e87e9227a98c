"""Exporting a range's consultations with who and where they concern: the residents
(with their NHS numbers), the care homes, the answering clinicians, the guests who came
into each call (a GP, family member, interpreter: hub.calls.guests) and how each call's
media was secured, with every change of it (hub.calls.security). An export names
residents and guests, so it is audited as one access: who, which range and home, how
many — and in what format (the edge turns the export into a file:
``web/reports/fhir.py``, ``web/reports/consultation_export.py``).

Guests and security changes are read for all the range's calls at once (a query per 500
calls), and only for the calls the actor may export: a care-home manager's export holds
no guest of another home's call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hub.audit.trail import AuditRecord
from hub.calls.consultation import Consultation
from hub.calls.guests import Guest
from hub.calls.security import SecurityChange, SecurityLevel
from hub.context import HubContext
from hub.errors import NotFound
from hub.people.access import Actor
from hub.people.devices import Device
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
    # By call id; a call without guests or without a reported level is absent.
    guests: dict[int, list[Guest]] = field(default_factory=dict)  # in the order they came
    security: dict[int, list[SecurityChange]] = field(default_factory=dict)  # oldest first
    devices: dict[int, Device] = field(default_factory=dict)
    home_id: int | None = None  # the home exported (a care-home manager's own), or all

    def guests_of(self, call_id: int) -> list[Guest]:
        return self.guests.get(call_id, [])

    def security_of(self, call_id: int) -> list[SecurityChange]:
        return self.security.get(call_id, [])

    def who(self, ref: str) -> str:
        """An audit reference (``staff:3``, ``device:7``) as the name people know, as on
        the call page; the reference itself when it names nobody known."""
        kind, _, raw = ref.partition(":")
        if kind == "system":
            return "telehub (system)"
        if not raw.isdigit():
            return ref
        if kind == "staff" and int(raw) in self.staff:
            return self.staff[int(raw)].display_name
        if kind == "device" and int(raw) in self.devices:
            device = self.devices[int(raw)]
            return f"Tablet: {device.label or device.id}"
        return ref


async def consultations(
    ctx: HubContext, actor: Actor, query: ReportQuery, *, format: str
) -> ConsultationExport:
    """The consultations requested in the query's UK days (one home, or every home the
    actor may see: a care-home manager only their own), with their guests and security
    changes, audited as exported in ``format``."""
    home_id = scope(actor, query.home_id)
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        if home_id is not None and await uow.homes.get(home_id) is None:
            raise NotFound(f"no care home {home_id}")
        calls = await uow.consultations.in_range(query.since, query.until, home_id)
        ids = [c.id for c in calls]  # only these calls' guests and changes are read
        homes = {h.id: h for h in await uow.homes.list()}
        staff = {u.id: u for u in await uow.staff.list()}
        devices = {d.id: d for d in await uow.devices.list(home_id)}
        guests = await uow.guests.for_calls(ids)
        security = {
            call_id: [SecurityChange(SecurityLevel(level), at, by) for level, at, by in rows]
            for call_id, rows in (await uow.consultations.security_changes_for(ids)).items()
        }
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
                    "guests": sum(len(g) for g in guests.values()),  # also named
                },
            ),
            now,
        )
        await uow.commit()
    return ConsultationExport(
        now, calls, homes, residents, staff, guests, security, devices, home_id
    )
