"""Tablet enrolment and the home-scoped resident list over HTTP."""

from __future__ import annotations

from datetime import timedelta

from hub.calls import live
from hub.people import admin, enrolment
from hub.people.access import SYSTEM
from hub.people.residents import ResidentDetails
from tests.hub.test_calls import request
from tests.web.helpers import post_form


async def resident(ctx, clock, home, nhs: str, given: str):  # type: ignore[no-untyped-def]
    d = ResidentDetails.parse(
        given_name=given,
        family_name="Smith",
        date_of_birth="1931-04-02",
        nhs_number=nhs,
        today=clock.now().date(),
    )
    return await admin.add_resident(ctx, SYSTEM, home.id, d)


async def enrol(client, ctx, home):  # type: ignore[no-untyped-def]
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley")
    resp = await post_form(client, "/enrol", {"code": issued.code})
    assert resp.status == 303 and resp.headers["Location"] == "/tablet"
    return resp


async def test_enrolled_tablet_lands_on_its_home(client, ctx, clock, home, other_home) -> None:
    await resident(ctx, clock, home, "9434765919", "Edna")
    await resident(ctx, clock, other_home, "4010232137", "Albert")
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/login"
    cookie = (await enrol(client, ctx, home)).cookies["th_device"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert int(cookie["max-age"]) > 300 * 24 * 3600
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/tablet"
    page = await (await client.get("/tablet")).text()
    assert "Rose Court" in page and "Edna Smith" in page and "Albert" not in page


async def test_used_expired_unknown_codes(client, ctx, clock, home) -> None:
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "")
    await enrolment.enrol(ctx, issued.code)
    resp = await post_form(client, "/enrol", {"code": issued.code})
    assert resp.status == 401 and "already been used" in await resp.text()
    stale = await enrolment.issue_code(ctx, SYSTEM, home.id, "")
    clock.advance(timedelta(hours=25))
    resp = await post_form(client, "/enrol", {"code": stale.code})
    assert resp.status == 401 and "has expired" in await resp.text()
    resp = await post_form(client, "/enrol", {"code": "WXYA-4678"})
    assert resp.status == 401 and "not known" in await resp.text()
    resp = await post_form(client, "/enrol", {"code": "<script>"})
    assert resp.status == 422 and "&lt;script&gt;" in await resp.text()


async def test_revoked_tablet_is_sent_back_to_enrol(client, ctx, home) -> None:
    await enrol(client, ctx, home)
    async with ctx.uow() as uow:
        (device,) = await uow.devices.list(home.id)
    await enrolment.revoke(ctx, SYSTEM, device.id)
    resp = await client.get("/tablet", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/enrol"
    api = await client.get(f"/api/homes/{home.id}/residents")
    assert api.status == 401


async def test_other_homes_resident_is_404_and_audited(
    client, ctx, clock, home, other_home
) -> None:
    mine = await resident(ctx, clock, home, "9434765919", "Edna")
    theirs = await resident(ctx, clock, other_home, "4010232137", "Albert")
    await enrol(client, ctx, home)
    ok = await client.get(f"/api/residents/{mine.id}")
    assert ok.status == 200 and (await ok.json())["name"] == "Edna Smith"
    resp = await client.get(f"/api/residents/{theirs.id}")
    assert resp.status == 404
    assert await resp.json() == {
        "error": {"code": "not_found", "message": f"no resident {theirs.id}"}
    }
    resp = await client.get(f"/api/homes/{other_home.id}/residents")
    assert resp.status == 404
    async with ctx.uow() as uow:
        actions = [(e.action, e.subject_id) for e in await uow.audit.recent(2)]
    assert actions == [
        ("home.residents.denied", str(other_home.id)),
        ("resident.denied", str(theirs.id)),
    ]


async def test_tablet_cannot_open_staff_pages(client, ctx, home) -> None:
    await enrol(client, ctx, home)
    resp = await client.get("/admin", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_the_call_page_audits_its_read_of_the_resident(client, ctx, clock, home) -> None:
    """The tablet's call page shows who the call is about: a read of the resident's
    record like any other, so it is audited (it once read the resident unaudited)."""
    edna = await resident(ctx, clock, home, "9434765919", "Edna")
    token = (await enrol(client, ctx, home)).cookies["th_device"].value
    tab = await enrolment.device_actor(ctx, token)
    assert tab is not None
    call = await live.request_call(ctx, tab, request(edna.id))
    page = await client.get(f"/tablet/calls/{call.id}")
    assert page.status == 200 and "Edna Smith" in await page.text()
    async with ctx.uow() as uow:
        (newest,) = await uow.audit.recent(1)
    assert (newest.action, newest.actor, newest.subject_type, newest.subject_id) == (
        "resident.viewed",
        tab.ref,
        "resident",
        str(edna.id),
    )
