"""FHIR export: a Bundle of Encounters that validates against the fhir.resources models."""

from __future__ import annotations

import json
from datetime import timedelta

from fhir.resources.R4B.bundle import Bundle

from hub import calls, closure
from tests.hub.test_calls import clinicians, edna, request, tablet
from web.fhir_export import NHS_NUMBER, encounter_bundle


async def test_bundle_of_encounters(ctx, clock, home) -> None:
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    (nurse,) = await clinicians(ctx, 1)
    call = await calls.request_call(ctx, tab, request(r.id))
    await calls.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=15))
    await calls.end(ctx, nurse, call.id)
    await closure.record_outcome(
        ctx,
        nurse,
        call.id,
        {"outcome": "sent_to_ae", "follow_up": "none", "admission_judgement": "no"},
    )
    since = clock.now() - timedelta(days=1)
    bundle = await encounter_bundle(ctx, since, clock.now() + timedelta(days=1), None)
    again = Bundle.model_validate(json.loads(bundle.model_dump_json()))  # round-trips
    (entry,) = again.entry
    enc = entry.resource
    assert enc.status == "finished" and enc.class_fhir.code == "VR"
    assert enc.subject.identifier.system == NHS_NUMBER
    assert enc.subject.identifier.value == "9434765919"
    assert enc.reasonCode[0].text == "Breathing"
    assert enc.participant[0].individual.display == "Nurse 0"
    codings = {(c.system, c.code) for c in enc.hospitalization.dischargeDisposition.coding}
    assert ("http://snomed.info/sct", "50849002") in codings
    assert ("http://terminology.hl7.org/CodeSystem/discharge-disposition", "hosp") in codings
    assert enc.period.end is not None and enc.location[0].location.display == "Rose Court"


async def test_empty_range_gives_an_empty_bundle(ctx, clock) -> None:
    bundle = await encounter_bundle(ctx, clock.now(), clock.now(), None)
    assert bundle.total == 0 and not bundle.entry
