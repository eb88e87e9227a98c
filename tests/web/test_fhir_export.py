"""FHIR export: a Bundle of Encounters that validates against the fhir.resources models,
scoped like the dashboard and audited (it names residents), from the CLI and the web."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle

from hub.calls import closure, live
from hub.calls.consultation import Consultation
from hub.context import HubContext
from hub.errors import Forbidden, NotFound
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident, create_staff
from hub.people.homes import CareHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from hub.reports.summary import ReportQuery
from tests.conftest import PASSWORD
from tests.hub.test_calls import request, tablet
from tests.web.helpers import login, login_home_manager
from web.reports.fhir import EXPORT_ACTION, NHS_NUMBER, encounter_bundle

DAY = "2026-03-02"  # the test clock's day
MANAGER = Actor("staff", 900, "Maria", Role.MANAGER)


async def ended_call(
    ctx: HubContext, clock, home: CareHome, nhs: str = "9434765919"
) -> Consultation:  # type: ignore[no-untyped-def]
    """A call from ``home`` about a new resident, answered, ended, sent to A&E."""
    tab = await tablet(ctx, home)
    details = ResidentDetails.parse(
        given_name="Edna",
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number=nhs,
        today=clock.now().date(),
    )
    resident = await add_resident(ctx, SYSTEM, home.id, details)
    new = NewStaff.parse(f"nurse{home.id}", f"Nurse {home.id}", "clinician", ["clinician"])
    user = await create_staff(ctx, SYSTEM, new, PASSWORD)
    nurse = Actor("staff", user.id, user.display_name, Role.CLINICIAN)
    call = await live.request_call(ctx, tab, request(resident.id))
    await live.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=15))
    await live.end(ctx, nurse, call.id)
    await closure.record_outcome(
        ctx,
        nurse,
        call.id,
        {"outcome": "sent_to_ae", "follow_up": "none", "admission_judgement": "no"},
    )
    return call


async def exports(ctx: HubContext) -> list[dict[str, object]]:
    async with ctx.uow() as uow:
        return [
            dict(e.detail) | {"actor": e.actor}
            for e in await uow.audit.recent()
            if e.action == EXPORT_ACTION
        ]


async def test_bundle_of_encounters(ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    await ended_call(ctx, clock, home)
    bundle = await encounter_bundle(ctx, MANAGER, ReportQuery.parse(DAY, DAY))
    again = Bundle.model_validate(json.loads(bundle.model_dump_json()))  # round-trips
    (entry,) = again.entry
    enc = entry.resource
    assert enc.status == "finished" and enc.class_fhir.code == "VR"
    assert enc.subject.identifier.system == NHS_NUMBER
    assert enc.subject.identifier.value == "9434765919"
    assert enc.reasonCode[0].text == "Breathing"
    assert enc.participant[0].individual.display.startswith("Nurse")
    codings = {(c.system, c.code) for c in enc.hospitalization.dischargeDisposition.coding}
    assert ("http://snomed.info/sct", "50849002") in codings
    assert ("http://terminology.hl7.org/CodeSystem/discharge-disposition", "hosp") in codings
    assert enc.period.end is not None and enc.location[0].location.display == "Rose Court"
    (audit,) = await exports(ctx)
    assert audit == {
        "actor": "staff:900",
        "format": "fhir",
        "from": DAY,
        "to": DAY,
        "home_id": None,
        "consultations": 1,
        "residents": 1,
        "guests": 0,
    }


async def test_empty_range_gives_an_empty_bundle(ctx) -> None:  # type: ignore[no-untyped-def]
    bundle = await encounter_bundle(ctx, SYSTEM, ReportQuery.parse("2025-01-01", "2025-01-31"))
    assert bundle.total == 0 and not bundle.entry


async def test_a_care_home_manager_exports_only_their_home(ctx, clock, home, other_home) -> None:  # type: ignore[no-untyped-def]
    await ended_call(ctx, clock, home)
    await ended_call(ctx, clock, other_home, nhs="4010232137")
    own = Actor("staff", 901, "Hana", Role.MANAGER, home.id)
    bundle = await encounter_bundle(ctx, own, ReportQuery.parse(DAY, DAY))
    assert [e.resource.location[0].location.display for e in bundle.entry] == ["Rose Court"]
    with pytest.raises(Forbidden):
        await encounter_bundle(ctx, own, ReportQuery.parse(DAY, DAY, other_home.id))
    with pytest.raises(Forbidden):  # clinicians do not export records in bulk
        await encounter_bundle(
            ctx, Actor("staff", 902, "Cleo", Role.CLINICIAN), ReportQuery.parse(DAY, DAY)
        )
    with pytest.raises(NotFound):
        await encounter_bundle(ctx, MANAGER, ReportQuery.parse(DAY, DAY, 9999))
    assert [a["home_id"] for a in await exports(ctx)] == [home.id]  # refusals export nothing


async def test_the_dashboard_downloads_json_and_fhir(client, ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    await ended_call(ctx, clock, home)
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)
    page = await (await client.get(f"/reports?from={DAY}&to={DAY}")).text()
    assert f'href="/reports.fhir.json?from={DAY}&amp;to={DAY}"' in page
    assert f'href="/reports.json?from={DAY}&amp;to={DAY}"' in page

    summary = await client.get(f"/reports.json?from={DAY}&to={DAY}")
    assert summary.status == 200 and "attachment" in summary.headers["Content-Disposition"]
    rows = await summary.json()
    assert rows[-1]["home"] == "All" and rows[-1]["calls"] == 1

    resp = await client.get(f"/reports.fhir.json?from={DAY}&to={DAY}&home={home.id}")
    assert resp.status == 200 and resp.content_type == "application/fhir+json"
    assert (
        f"telehub-encounters-home{home.id}-{DAY}-{DAY}.json" in resp.headers["Content-Disposition"]
    )
    bundle = Bundle.model_validate_json(await resp.text())
    assert bundle.total == 1
    assert [a["actor"] for a in await exports(ctx)] == [f"staff:{user.id}"]

    bad = await client.get("/reports.fhir.json?from=2026-03-31&to=2026-01-01")
    assert bad.status == 422 and "before it starts" in await bad.text()


async def test_fhir_download_is_scoped_like_the_dashboard(
    client, ctx, clock, home, other_home, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    await login_home_manager(client, ctx, clock, home.id)
    resp = await client.get(f"/reports.fhir.json?from={DAY}&to={DAY}&home={other_home.id}")
    assert resp.status == 403
    assert await exports(ctx) == []
