"""The care-home tablet records that a resident went to hospital after all."""

from __future__ import annotations

from datetime import timedelta

from hub.outcomes.tariffs import load_tariffs
from hub.people.access import SYSTEM
from hub.reports.summary import ReportQuery, build
from tests.web.closed_calls import closed_call
from tests.web.helpers import csrf, post_form
from tests.web.test_tablet_web import enrol, resident


async def ae_avoided(ctx, clock) -> int:  # type: ignore[no-untyped-def]
    day = clock.now().date()
    report = await build(ctx, SYSTEM, ReportQuery(day - timedelta(days=5), day), load_tariffs())
    return report.counts.ae_attendance


async def audit_actions(ctx, call_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        return [e.action for e in await uow.audit.for_subject("consultation", str(call_id))]


async def test_tablet_lists_recent_calls_and_records_a_representation(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    assert await ae_avoided(ctx, clock) == 1
    await enrol(client, ctx, home)
    page = await (await client.get("/tablet")).text()
    assert 'data-testid="recent-calls"' in page and "Edna Smith" in page
    assert f'action="/tablet/calls/{call.id}/representations"' in page
    assert "Attended A&amp;E" in page and "Taken to hospital by ambulance" in page
    clock.advance(timedelta(hours=20))
    resp = await post_form(
        client,
        f"/tablet/calls/{call.id}/representations",
        {"kind": "ae_attendance", "at": "", "confirm": "yes"},
        token_from="/tablet",
    )
    assert resp.status == 303 and resp.headers["Location"].startswith("/tablet?recorded=")
    assert await ae_avoided(ctx, clock) == 0
    assert "call.representation" in await audit_actions(ctx, call.id)
    after = await (await client.get(resp.headers["Location"])).text()
    assert "that has been recorded" in after and "Already recorded: Attended A&amp;E" in after


async def test_a_time_typed_on_the_tablet_is_uk_time(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)  # ended 10:13 UTC = 10:13 GMT
    await enrol(client, ctx, home)
    clock.advance(timedelta(hours=3))
    resp = await post_form(
        client,
        f"/tablet/calls/{call.id}/representations",
        {"kind": "admission", "at": "2026-03-02T12:00", "confirm": "yes"},
        token_from="/tablet",
    )
    assert resp.status == 303, await resp.text()
    async with ctx.uow() as uow:
        (rep,) = await uow.consultations.representations(call.id)
    assert rep.at.isoformat().startswith("2026-03-02T12:00") and rep.at.utcoffset() is not None


async def test_another_homes_call_is_404_and_audited(
    client, ctx, clock, home, other_home, clinician_user
) -> None:
    theirs = await closed_call(ctx, clock, other_home, clinician_user)
    await enrol(client, ctx, home)
    page = await (await client.get("/tablet")).text()
    assert f"/tablet/calls/{theirs.id}/representations" not in page
    resp = await post_form(
        client,
        f"/tablet/calls/{theirs.id}/representations",
        {"kind": "admission", "at": ""},
        token_from="/tablet",
    )
    assert resp.status == 404 and f"no call {theirs.id}" in await resp.text()
    actions = await audit_actions(ctx, theirs.id)
    assert actions[-1] == "call.denied" and "call.representation" not in actions


async def test_outside_the_follow_up_window_is_422(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await enrol(client, ctx, home)
    token = await csrf(client, "/tablet")
    clock.advance(timedelta(hours=73))
    page = await (await client.get("/tablet")).text()
    assert f"/tablet/calls/{call.id}/representations" not in page  # no longer offered
    assert "No calls in the last 72 hours." in page
    resp = await client.post(
        f"/tablet/calls/{call.id}/representations",
        data={"kind": "admission", "at": "", "csrf_token": token},
        allow_redirects=False,
    )
    assert resp.status == 422
    body = await resp.text()
    assert "outside the 72 h follow-up window" in body
    assert 'data-testid="representation-error"' in body
    assert await ae_avoided(ctx, clock) == 1


async def test_bad_kind_or_time_is_422_and_post_needs_csrf(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await enrol(client, ctx, home)
    url = f"/tablet/calls/{call.id}/representations"
    bad = await post_form(client, url, {"kind": "teleport", "at": ""}, token_from="/tablet")
    assert bad.status == 422 and "is not one of" in await bad.text()
    data = {"kind": "admission", "at": "yesterday"}
    bad = await post_form(client, url, data, token_from="/tablet")
    assert bad.status == 422 and "is not a date and time" in await bad.text()
    future = await post_form(
        client, url, {"kind": "admission", "at": "2026-03-09T10:00"}, token_from="/tablet"
    )
    assert future.status == 422 and "cannot be in the future" in await future.text()
    no_token = await client.post(url, data={"kind": "admission", "at": ""}, allow_redirects=False)
    assert no_token.status == 403
    async with ctx.uow() as uow:
        assert await uow.consultations.representations(call.id) == []


async def test_only_ended_calls_in_the_window_are_listed(
    client, ctx, clock, home, clinician_user
) -> None:
    edna = await resident(ctx, clock, home, "9434765919", "Edna")
    old = await closed_call(ctx, clock, home, clinician_user, resident=edna)
    clock.advance(timedelta(hours=50))
    fresh = await closed_call(ctx, clock, home, clinician_user, resident=edna)
    clock.advance(timedelta(hours=30))  # old ended 80 h ago, fresh 30 h ago
    await enrol(client, ctx, home)
    page = await (await client.get("/tablet")).text()
    assert f'data-call-id="{fresh.id}"' in page and f'data-call-id="{old.id}"' not in page
    async with ctx.uow() as uow:
        listed = [e for e in await uow.audit.recent(20) if e.action == "home.calls.listed"]
    assert listed and listed[0].detail == {"count": 1}
