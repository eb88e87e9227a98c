"""Recording a re-presentation: no default choice, a confirm step that says what
changes, an undo for a few minutes, every change audited and on the call page
(issue 10, item 3) — on the tablet, the resident page and the API; and the GP visit
(item 4)."""

from __future__ import annotations

import re
from datetime import timedelta

from hub.outcomes import representations
from hub.outcomes.tariffs import load_tariffs
from hub.people.access import SYSTEM
from hub.reports.summary import ReportQuery, build
from tests.web.closed_calls import closed_call, nurse_of
from tests.web.helpers import PASSWORD, csrf, login, post_form
from tests.web.test_tablet_web import enrol

CONFIRM_AE = "This call will no longer count as an avoided A&amp;E attendance."


async def figures(ctx, clock):  # type: ignore[no-untyped-def]
    day = clock.now().date()
    report = await build(ctx, SYSTEM, ReportQuery(day - timedelta(days=5), day), load_tariffs())
    return report.counts, report.cost


async def actions(ctx, call_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        return [e.action for e in await uow.audit.for_subject("consultation", str(call_id))]


async def counted(ctx, call_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        return [r.kind.value for r in await uow.consultations.representations(call_id)]


# -- the tablet ---------------------------------------------------------------------


async def test_the_tablet_form_chooses_nothing_for_the_carer(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await enrol(client, ctx, home)
    page = await (await client.get("/tablet")).text()
    form = page[page.index(f'data-testid="representation-{call.id}"') :]
    form = form[: form.index("</form>")]
    assert '<select name="kind" class="big" required>' in form
    assert '<option value="" selected disabled>Choose what happened…</option>' in form
    assert form.count(" selected") == 1  # only the empty placeholder
    resp = await post_form(
        client, f"/tablet/calls/{call.id}/representations", {"at": ""}, token_from="/tablet"
    )
    assert resp.status == 422 and "choose what happened first" in await resp.text()
    assert await counted(ctx, call.id) == []


async def test_one_tap_only_shows_what_would_change(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)  # A&E intended, managed
    before = await figures(ctx, clock)
    await enrol(client, ctx, home)
    clock.advance(timedelta(hours=2))
    resp = await post_form(
        client,
        f"/tablet/calls/{call.id}/representations",
        {"kind": "ae_attendance", "at": ""},
        token_from="/tablet",
    )
    assert resp.status == 200
    page = await resp.text()
    assert 'data-testid="representation-confirm"' in page
    assert (
        f'<p class="warning big" role="alert" data-testid="confirm-changes">{CONFIRM_AE}</p>'
        in (page)
    )
    assert "Attended A&amp;E" in page and "Edna Smith" in page
    assert "02 Mar 2026 12:13" in page  # the time it will record, in UK time
    assert '<input type="hidden" name="confirm" value="yes">' in page
    assert "you can undo it for 10 minutes" in page
    # Nothing was recorded, nothing moved; the look was audited.
    assert await counted(ctx, call.id) == []
    assert await figures(ctx, clock) == before
    seen = await actions(ctx, call.id)
    assert "call.representation_checked" in seen and "call.representation" not in seen


async def test_confirm_records_and_undo_restores_exactly_the_previous_state(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    before = await figures(ctx, clock)
    assert before[0].ae_attendance == 1 and before[0].admission == 1
    await enrol(client, ctx, home)
    clock.advance(timedelta(hours=2))
    url = f"/tablet/calls/{call.id}/representations"
    first = await post_form(client, url, {"kind": "ae_attendance", "at": ""}, token_from="/tablet")
    hidden = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', await first.text())
    )
    resp = await client.post(url, data=hidden, allow_redirects=False)  # press Confirm
    assert resp.status == 303 and resp.headers["Location"].startswith(f"/tablet?recorded={call.id}")
    after = await figures(ctx, clock)
    assert after[0].ae_attendance == 0 and after[0].admission == 1
    page = await (await client.get(resp.headers["Location"])).text()
    assert (
        "If it was a mistake, press <strong>Undo</strong> next to it before 02 Mar 2026 12:23"
        in (page)
    )
    (rep_id,) = re.findall(rf"/tablet/calls/{call.id}/representations/(\d+)/undo", page)

    clock.advance(timedelta(minutes=9))
    undo = await post_form(client, f"{url}/{rep_id}/undo", {}, token_from="/tablet")
    assert undo.status == 200
    body = await undo.text()
    assert 'data-testid="undone"' in body
    assert "This call will count again as an avoided A&amp;E attendance." in body
    assert await counted(ctx, call.id) == []
    assert await figures(ctx, clock) == before  # counts and cost avoided, exactly
    assert f"/representations/{rep_id}/undo" not in body
    seen = await actions(ctx, call.id)
    assert seen[-1] == "call.representation_undone"
    async with ctx.uow() as uow:
        undone = await uow.representations.get(int(rep_id))
    assert undone is not None and undone.undone_at == clock.now()


async def test_undo_closes_after_the_undo_window(client, ctx, clock, home, clinician_user) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await enrol(client, ctx, home)
    url = f"/tablet/calls/{call.id}/representations"
    resp = await post_form(
        client, url, {"kind": "admission", "at": "", "confirm": "yes"}, token_from="/tablet"
    )
    assert resp.status == 303
    clock.advance(timedelta(minutes=10))
    page = await (await client.get("/tablet")).text()
    (rep_id,) = re.findall(rf"{url}/(\d+)/undo", page)  # exactly at the edge: still offered
    clock.advance(timedelta(seconds=1))
    page = await (await client.get("/tablet")).text()
    assert f"{url}/{rep_id}/undo" not in page
    late = await post_form(client, f"{url}/{rep_id}/undo", {}, token_from="/tablet")
    assert late.status == 409
    assert "can only be undone in the 10 minutes after it was recorded" in await late.text()
    assert await counted(ctx, call.id) == ["admission"]


async def test_only_whoever_recorded_it_can_undo_it(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    done = await representations.record(
        ctx,
        nurse_of(clinician_user),
        call.id,
        {"kind": "admission", "at": clock.now().isoformat()},
        confirmed=True,
    )
    await enrol(client, ctx, home)
    page = await (await client.get("/tablet")).text()
    assert "Admitted to hospital" in page and "/undo" not in page
    resp = await post_form(
        client,
        f"/tablet/calls/{call.id}/representations/{done.representation.id}/undo",
        {},
        token_from="/tablet",
    )
    assert resp.status == 403 and "only whoever recorded it can undo it" in await resp.text()
    assert await counted(ctx, call.id) == ["admission"]


async def test_a_gp_visit_from_the_tablet_cancels_an_avoided_gp_visit(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user, intention="urgent_gp")
    assert (await figures(ctx, clock))[0].urgent_gp == 1
    await enrol(client, ctx, home)
    page = await (await client.get("/tablet")).text()
    assert '<option value="gp_visit">A GP came to see them</option>' in page
    url = f"/tablet/calls/{call.id}/representations"
    first = await post_form(client, url, {"kind": "gp_visit", "at": ""}, token_from="/tablet")
    assert "This call will no longer count as an avoided urgent GP visit." in await first.text()
    resp = await post_form(
        client, url, {"kind": "gp_visit", "at": "", "confirm": "yes"}, token_from="/tablet"
    )
    assert resp.status == 303
    counts, cost = await figures(ctx, clock)
    assert counts.urgent_gp == 0 and cost["urgent_gp"] == 0


async def test_a_change_that_moves_nothing_says_so(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user, intention="manage")
    await enrol(client, ctx, home)
    first = await post_form(
        client,
        f"/tablet/calls/{call.id}/representations",
        {"kind": "admission", "at": ""},
        token_from="/tablet",
    )
    assert "This does not change what the hub counts as avoided for this call" in (
        await first.text()
    )


# -- the call page lists every change -------------------------------------------------


async def test_the_call_page_lists_every_change_with_who_and_uk_time(
    client, ctx, clock, home, clinician_user
) -> None:
    clock.advance(timedelta(days=120))  # 30 June, British Summer Time: UK = UTC + 1
    call = await closed_call(ctx, clock, home, clinician_user)  # ended 10:13 UTC
    await enrol(client, ctx, home)
    url = f"/tablet/calls/{call.id}/representations"
    await post_form(
        client, url, {"kind": "ae_attendance", "at": "", "confirm": "yes"}, token_from="/tablet"
    )
    page = await (await client.get("/tablet")).text()
    (rep_id,) = re.findall(rf"{url}/(\d+)/undo", page)
    clock.advance(timedelta(minutes=2))
    await post_form(client, f"{url}/{rep_id}/undo", {}, token_from="/tablet")
    client.session.cookie_jar.clear()
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = await (await client.get(f"/calls/{call.id}")).text()

    def row(action: str) -> str:
        start = page.index(f'<tr data-action="{action}">')
        return page[start : page.index("</tr>", start)]

    recorded, undone = row("call.representation"), row("call.representation_undone")
    assert "<td>30 Jun 2026 11:13</td><td>Tablet: Trolley</td>" in recorded
    assert "Re-presentation recorded: Attended A&amp;E (30 Jun 2026 11:13)" in recorded
    assert "no longer counted as avoided: A&amp;E attendance" in recorded
    assert "<td>30 Jun 2026 11:15</td><td>Tablet: Trolley</td>" in undone
    assert "Re-presentation undone: Attended A&amp;E (30 Jun 2026 11:13)" in undone
    assert "counted as avoided again: A&amp;E attendance" in undone


# -- hub staff: the resident page -----------------------------------------------------


async def test_staff_choose_check_confirm_and_undo_on_the_resident_page(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    before = await figures(ctx, clock)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page_url = f"/residents/{call.resident_id}"
    page = await (await client.get(page_url)).text()
    assert '<option value="" selected disabled>Choose what happened…</option>' in page
    url = f"{page_url}/calls/{call.id}/representations"
    empty = await post_form(client, url, {"at": ""}, token_from=page_url)
    assert empty.status == 422 and "choose what happened first" in await empty.text()
    first = await post_form(client, url, {"kind": "admission", "at": ""}, token_from=page_url)
    text = await first.text()
    assert first.status == 200 and (
        "This call will no longer count as an avoided A&amp;E attendance or an avoided "
        "hospital admission." in text
    )
    assert f'href="{page_url}"' in text  # go back without recording
    assert await figures(ctx, clock) == before
    done = await post_form(
        client, url, {"kind": "admission", "at": "", "confirm": "yes"}, token_from=page_url
    )
    assert done.status == 303 and done.headers["Location"] == f"{page_url}?recorded={call.id}"
    page = await (await client.get(done.headers["Location"])).text()
    assert "That has been recorded." in page
    (rep_id,) = re.findall(rf"{url}/(\d+)/undo", page)
    assert (await figures(ctx, clock))[0].admission == 0
    undo = await post_form(client, f"{url}/{rep_id}/undo", {}, token_from=page_url)
    assert undo.status == 200
    assert (
        "Undone. This call will count again as an avoided A&amp;E attendance and an "
        "avoided hospital admission." in await undo.text()
    )
    assert await figures(ctx, clock) == before
    again = await post_form(client, f"{url}/{rep_id}/undo", {}, token_from=page_url)
    assert again.status == 409 and "already been undone" in await again.text()


async def test_staff_route_refuses_a_call_of_another_resident(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    other = f"/residents/{call.resident_id + 1000}/calls/{call.id}/representations"
    token = await csrf(client, f"/residents/{call.resident_id}")
    resp = await client.post(
        other, data={"kind": "admission", "at": "", "csrf_token": token}, allow_redirects=False
    )
    assert resp.status == 404
    assert await counted(ctx, call.id) == []
    assert (await actions(ctx, call.id))[-1] == "call.denied"  # the refusal is audited


# -- the API ---------------------------------------------------------------------------


async def test_the_api_needs_confirm_true_and_offers_undo(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    before = await figures(ctx, clock)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    token = await csrf(client, f"/residents/{call.resident_id}")
    headers = {"X-CSRF-Token": token}
    url = f"/api/calls/{call.id}/representations"
    body = {"kind": "conveyance", "at": clock.now().isoformat()}
    for confirm in ({}, {"confirm": False}, {"confirm": "yes"}):
        resp = await client.post(url, json={**body, **confirm}, headers=headers)
        assert resp.status == 422
        assert await resp.json() == {
            "error": {
                "code": "confirmation_required",
                "message": "confirm to record it: This call will no longer count as an "
                "avoided A&E attendance.",
            }
        }
    assert await counted(ctx, call.id) == []
    missing = await client.post(url, json={"at": body["at"], "confirm": True}, headers=headers)
    assert (
        missing.status == 422 and "kind is required" in (await missing.json())["error"]["message"]
    )
    resp = await client.post(url, json={**body, "confirm": True}, headers=headers)
    assert resp.status == 201
    data = await resp.json()
    assert data["no_longer_avoided"] == ["ae_attendance"]
    assert data["undo_until"] == (clock.now() + timedelta(minutes=10)).isoformat()
    undo = await client.post(f"{url}/{data['representation_id']}/undo", headers=headers)
    assert undo.status == 200
    assert (await undo.json())["avoided_again"] == ["ae_attendance"]
    assert await figures(ctx, clock) == before
    again = await client.post(f"{url}/{data['representation_id']}/undo", headers=headers)
    assert again.status == 409
