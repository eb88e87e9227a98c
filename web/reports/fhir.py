"""FHIR export of consultations: a Bundle of Encounter resources.

Built and validated with the ``fhir.resources`` models (its R4B package: Encounter is the
same as in R4 for every element used here). Each Encounter carries the reason, the
period, the care home, the resident (by NHS number), the answering clinician and the
outcome as its discharge disposition — SNOMED CT coded where a concept exists, always
with the HL7 discharge-disposition code and the outcome's label.
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hub.calls.consultation import Consultation, Reason, State
from hub.calls.security import label_of
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
    homes, residents, staff = found.homes, found.residents, found.staff
    entries = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'telehub:{c.id}')}",
            "resource": _encounter(c, homes, residents, staff),
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


def _encounter(
    c: Consultation, homes: dict[int, Any], residents: dict[int, Any], staff: dict[int, Any]
) -> dict[str, Any]:
    home = homes[c.home_id]
    resident = residents.get(c.resident_id)
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
    if c.answered_by in staff:
        encounter["participant"] = [{"individual": {"display": staff[c.answered_by].display_name}}]
    if c.security_level:
        encounter["extension"] = [
            {
                "url": SECURITY_EXTENSION,
                "valueCoding": {
                    "system": SECURITY_SYSTEM,
                    "code": c.security_level,
                    "display": label_of(c.security_level),
                },
            }
        ]
    if c.outcome:
        encounter["hospitalization"] = {"dischargeDisposition": _disposition(c.outcome)}
    return encounter


def _disposition(code: OutcomeCode) -> dict[str, Any]:
    codings = []
    if code.snomed is not None:
        codings.append({"system": SNOMED_CT, "code": code.snomed.code, "display": code.snomed.term})
    codings.append({"system": DISPOSITION, "code": HL7_DISPOSITION.get(code, "home")})
    return {"coding": codings, "text": code.label}
