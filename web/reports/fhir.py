"""FHIR export of consultations: a Bundle of Encounter resources.

Built and validated with the ``fhir.resources`` models (its R4B package: Encounter is the
same as in R4 for every element used here). Each Encounter carries the reason, the
period, the care home, the resident (by NHS number), the answering clinician, every
guest who was let into the call (a participant typed from the encounter-participant-type
value set, with the period they were in), the security level and every change of it
(telehub's own extensions: FHIR has no element for them), and the outcome as its
discharge disposition — SNOMED CT coded where a concept exists, always with the HL7
discharge-disposition code and the outcome's label.
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hub.calls.consultation import Consultation, Reason, State
from hub.calls.guests import Guest, GuestKind
from hub.calls.security import SecurityChange, label_of
from hub.context import HubContext
from hub.outcomes.codes import SNOMED_CT, OutcomeCode
from hub.people.access import Actor
from hub.reports import export
from hub.reports.summary import ReportQuery

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_CODE = "https://fhir.nhs.uk/Id/ods-organization-code"
DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
STATUS = {
    State.ENDED: "finished",
    State.CANCELLED: "cancelled",
    State.ABANDONED: "cancelled",
    State.IN_CALL: "in-progress",
    State.ANSWERED: "in-progress",
    State.WAITING: "planned",
    State.REQUESTED: "planned",
}
EXPORT_ACTION = export.EXPORT_ACTION
# The negotiated security level of the call's media (hub.calls.security), as an Encounter
# extension: FHIR has no element for it (docs/outcomes.md, "FHIR export").
SECURITY_EXTENSION = "urn:telehub:fhir:StructureDefinition:call-security-level"
SECURITY_SYSTEM = "urn:telehub:fhir:CodeSystem:call-security-level"
# Each change of the level, oldest first: a complex extension per change, with the level
# (``level``, a Coding as above), when (``at``) and who reported it (``reportedBy``).
SECURITY_CHANGE_EXTENSION = "urn:telehub:fhir:StructureDefinition:call-security-change"
# Guests are typed from Encounter.participant.type's value set (encounter-participant-type,
# extensible): an interpreter is its "translator"; a GP joins to advise, its "CON"
# (consultant: "an advisor participating in the service by performing evaluations and
# making recommendations"); a family member or anyone else has no closer code than
# "PART" (participation). The text is always the kind in telehub's words.
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/participant-type"
GUEST_TYPE: dict[GuestKind, tuple[str, str, str]] = {  # system, code, display
    GuestKind.GP: (PARTICIPATION_TYPE, "CON", "consultant"),
    GuestKind.FAMILY: (PARTICIPATION_TYPE, "PART", "Participation"),
    GuestKind.INTERPRETER: (PARTICIPANT_TYPE, "translator", "Translator"),
    GuestKind.OTHER: (PARTICIPATION_TYPE, "PART", "Participation"),
}
HL7_DISPOSITION = {
    OutcomeCode.CALLED_999_CONVEYED: "hosp",
    OutcomeCode.SENT_TO_AE: "hosp",
    OutcomeCode.ADMITTED_DIRECT: "hosp",
    OutcomeCode.END_OF_LIFE_SUPPORT: "home",
    OutcomeCode.OTHER: "oth",
}


async def encounter_bundle(ctx: HubContext, actor: Actor, query: ReportQuery) -> Bundle:
    """The consultations requested in the query's UK days (one home, or every home the
    actor may see: a care-home manager only their own) as a Bundle. It names residents
    and their NHS numbers, so the export is audited (``hub.reports.export``)."""
    found = await export.consultations(ctx, actor, query, format="fhir")
    entries = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'telehub:{c.id}')}",
            "resource": _encounter(c, found),
        }
        for c in found.calls
    ]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": found.at.isoformat(),
            "total": len(entries),
            "entry": entries,
        }
    )


def _encounter(c: Consultation, found: export.ConsultationExport) -> dict[str, Any]:
    home = found.homes[c.home_id]
    resident = found.residents.get(c.resident_id)
    staff = found.staff
    encounter: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": f"telehub-{c.id}",
        "status": STATUS[c.state],
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "period": {
            "start": c.requested_at.isoformat(),
            **({"end": c.ended_at.isoformat()} if c.ended_at else {}),
        },
        "reasonCode": [{"text": Reason(c.reason).label}],
        "location": [
            {
                "location": {
                    "identifier": {"system": ODS_CODE, "value": home.code},
                    "display": home.name,
                }
            }
        ],
    }
    if resident is not None:
        encounter["subject"] = {
            "identifier": {"system": NHS_NUMBER, "value": resident.details.nhs_number},
            "display": resident.display_name,
        }
    participants = []
    if c.answered_by in staff:
        participants.append({"individual": {"display": staff[c.answered_by].display_name}})
    # Only guests let in took part; one who waited in the lobby and went saw nothing.
    participants += [_guest(g) for g in found.guests_of(c.id) if g.admitted_at is not None]
    if participants:
        encounter["participant"] = participants
    extensions = []
    if c.security_level:
        extensions.append({"url": SECURITY_EXTENSION, "valueCoding": _level(c.security_level)})
    extensions += [_security_change(s, found) for s in found.security_of(c.id)]
    if extensions:
        encounter["extension"] = extensions
    if c.outcome:
        encounter["hospitalization"] = {"dischargeDisposition": _disposition(c.outcome)}
    return encounter


def _level(level: str) -> dict[str, Any]:
    return {"system": SECURITY_SYSTEM, "code": level, "display": label_of(level)}


def _security_change(change: SecurityChange, found: export.ConsultationExport) -> dict[str, Any]:
    return {
        "url": SECURITY_CHANGE_EXTENSION,
        "extension": [
            {"url": "level", "valueCoding": _level(change.level.value)},
            {"url": "at", "valueDateTime": change.at.isoformat()},
            {"url": "reportedBy", "valueString": found.who(change.reported_by)},
        ],
    }


def _guest(guest: Guest) -> dict[str, Any]:
    """A guest let into the call, as a participant: their kind, name and time in it."""
    assert guest.admitted_at is not None
    system, code, display = GUEST_TYPE[guest.kind]
    period = {"start": guest.admitted_at.isoformat()}
    if guest.left_at is not None:
        period["end"] = guest.left_at.isoformat()
    return {
        "type": [
            {
                "coding": [{"system": system, "code": code, "display": display}],
                "text": guest.kind.label,
            }
        ],
        "period": period,
        "individual": {"display": guest.name},
    }


def _disposition(code: OutcomeCode) -> dict[str, Any]:
    codings = []
    if code.snomed is not None:
        codings.append({"system": SNOMED_CT, "code": code.snomed.code, "display": code.snomed.term})
    codings.append({"system": DISPOSITION, "code": HL7_DISPOSITION.get(code, "home")})
    return {"coding": codings, "text": code.label}
