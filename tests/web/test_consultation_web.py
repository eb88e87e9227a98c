"""The call page for hub staff: details, outcome history, and amending the outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hub.outcomes import representations
from hub.outcomes.avoided import AVOIDED_EVENTS
from hub.outcomes.tariffs import load_tariffs
from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from hub.reports.summary import ReportQuery, build
from tests.conftest import PASSWORD
from tests.web.closed_calls import OUTCOME, closed_call, nurse_of
from tests.web.helpers import csrf, login, login_home_manager, post_form

AMEND = {**OUTCOME, "outcome": "admitted_direct", "call_back_at": ""}


async def stored(ctx, call_id: int):  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        return await uow.consultations.get(call_id)


async def audit_actions(ctx, call_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        return [e.action for e in await uow.audit.for_subject("consultation", str(call_id))]


async def test_clinician_opens_a_call_and_the_view_is_audited(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    resp = await client.get(f"/calls/{call.id}")
    assert resp.status == 200
    body = await resp.text()
    assert "Call about Edna Smith" in body and "Rose Court" in body
    assert "Managed in the home: advice" in body and "Take or send to A&amp;E" in body
    assert 'data-testid="amend-form"' in body and 'name="why"' in body
    assert "Outcome recorded: Managed in the home: advice" in body and "Cleo Clinician" in body
    assert (await audit_actions(ctx, call.id))[-1] == "call.viewed"
    resident_page = await (await client.get(f"/residents/{call.resident_id}")).text()
    assert f'href="/calls/{call.id}"' in resident_page


async def test_amendment_without_why_is_422_and_changes_nothing(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    before = await audit_actions(ctx, call.id)
    resp = await post_form(
        client, f"/calls/{call.id}/outcome", {**AMEND, "why": "   "}, token_from=f"/calls/{call.id}"
    )
    assert resp.status == 422
    body = await resp.text()
    assert "say why the outcome is being changed" in body
    assert 'data-testid="amend-form"' in body  # the form is shown again…
    assert '<option value="admitted_direct" selected>' in body  # …with what was typed
    assert (await stored(ctx, call.id)).outcome == "managed_advice"
    after = await audit_actions(ctx, call.id)
    assert "call.outcome_amended" not in after
    assert [a for a in after if a != "call.viewed"] == [a for a in before if a != "call.viewed"]


async def test_amendment_is_stored_recomputed_and_shown_in_the_history(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = await (await client.get(f"/calls/{call.id}")).text()
    assert 'data-testid="avoided">' in page
    assert "A&amp;E attendance, admission" in " ".join(page.split())
    resp = await post_form(
        client,
        f"/calls/{call.id}/outcome",
        {**AMEND, "why": "ward confirmed a direct admission"},
        token_from=f"/calls/{call.id}",
    )
    assert resp.status == 303 and resp.headers["Location"] == f"/calls/{call.id}#history"
    after = await stored(ctx, call.id)
    assert after.outcome == "admitted_direct"
    report = await build(ctx, SYSTEM, ReportQuery(*(2 * [clock.now().date()])), load_tariffs())
    assert report.counts.admission == 0 and report.counts.ae_attendance == 0  # went to hospital
    page = await (await client.get(f"/calls/{call.id}")).text()
    assert "Nothing" in page[page.index('data-testid="avoided">') :][:200]
    history = page[page.index('data-testid="history"') :]
    assert "Outcome amended: Managed in the home: advice → Admitted directly to hospital" in history
    assert "ward confirmed a direct admission" in history and "Cleo Clinician" in history
    # Newest first: the amendment, then the first recording.
    assert history.index("Outcome amended") < history.index("Outcome recorded")


async def test_call_back_time_is_read_as_uk_time(client, ctx, clock, home, clinician_user) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    resp = await post_form(
        client,
        f"/calls/{call.id}/outcome",
        {
            **OUTCOME,
            "follow_up": "call_back",
            "call_back_at": "2026-07-01T09:30",  # BST: 08:30 UTC
            "why": "agreed a call back",
        },
        token_from=f"/calls/{call.id}",
    )
    assert resp.status == 303, await resp.text()
    after = await stored(ctx, call.id)
    assert after.call_back_at is not None
    assert after.call_back_at.isoformat().startswith("2026-07-01T08:30")
    bad = await post_form(
        client,
        f"/calls/{call.id}/outcome",
        {**OUTCOME, "follow_up": "call_back", "call_back_at": "soon", "why": "x"},
        token_from=f"/calls/{call.id}",
    )
    assert bad.status == 422 and "is not a date and time" in await bad.text()


async def test_manager_sees_the_history_but_only_clinicians_amend(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    maria = NewStaff.parse("maria", "Maria", "manager", [])
    user = await create_staff(ctx, SYSTEM, maria, PASSWORD)
    await login(client, ctx, clock, "maria", PASSWORD, user.id)
    page = await client.get(f"/calls/{call.id}")
    assert page.status == 200
    body = await page.text()
    assert "Outcome recorded" in body and 'data-testid="amend-form"' not in body
    assert "Only clinicians record or amend outcomes" in body
    token = await csrf(client, f"/calls/{call.id}")
    resp = await client.post(
        f"/calls/{call.id}/outcome", data={**AMEND, "why": "x", "csrf_token": token}
    )
    assert resp.status == 403 and "only clinicians record outcomes" in await resp.text()
    assert (await stored(ctx, call.id)).outcome == "managed_advice"


async def test_another_homes_call_is_404_and_audited(
    client, ctx, clock, home, other_home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, other_home, clinician_user)
    await login_home_manager(client, ctx, clock, home.id)
    resp = await client.get(f"/calls/{call.id}")
    assert resp.status == 404 and f"no call {call.id}" in await resp.text()
    assert (await audit_actions(ctx, call.id))[-1] == "call.denied"
    assert (await client.get("/calls/99999")).status == 404


async def test_amending_needs_a_csrf_token(client, ctx, clock, home, clinician_user) -> None:
    call = await closed_call(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    resp = await client.post(f"/calls/{call.id}/outcome", data={**AMEND, "why": "x"})
    assert resp.status == 403
    assert (await stored(ctx, call.id)).outcome == "managed_advice"


async def test_the_clinician_who_took_it_can_record_a_missing_outcome(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user, outcome=None)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = await (await client.get(f"/calls/{call.id}")).text()
    assert "Record the outcome" in page and 'name="why"' not in page
    resp = await post_form(
        client, f"/calls/{call.id}/outcome", {**OUTCOME, "why": ""}, token_from=f"/calls/{call.id}"
    )
    assert resp.status == 303
    assert (await stored(ctx, call.id)).outcome == "managed_advice"


def _avoided_on(page: str) -> str:
    cell = page[page.index('data-testid="avoided">') + len('data-testid="avoided">') :]
    return " ".join(cell[: cell.index("</dd>")].split())


async def test_the_call_page_and_the_reports_agree_after_the_follow_up_window_changes(
    aiohttp_client, ctx, settings, clock, home, clinician_user
) -> None:
    """The avoided flags are stored when an outcome or re-presentation is recorded and
    read back by every reader: shortening the follow-up window afterwards must not make
    the call page re-derive something the reports do not count."""
    from web.app import create_app

    call = await closed_call(ctx, clock, home, clinician_user)  # A&E intended, managed
    clock.advance(timedelta(hours=48))  # inside the 72 h window in force now
    await representations.record(
        ctx,
        nurse_of(clinician_user),
        call.id,
        {"kind": "ae_attendance", "at": clock.now().isoformat()},
        confirmed=True,
    )
    # Now the window is 24 h: derived again, the attendance would fall outside it and
    # the A&E attendance would count as avoided once more.
    shorter = replace(settings, outcomes=replace(settings.outcomes, follow_up_hours=24))
    later = replace(ctx, settings=shorter)
    client = await aiohttp_client(create_app(shorter, clock=clock))
    await login(client, later, clock, "cleo", PASSWORD, clinician_user.id)
    page = await (await client.get(f"/calls/{call.id}")).text()
    day = clock.now().date()
    report = await build(later, SYSTEM, ReportQuery(day - timedelta(days=5), day), load_tariffs())
    counted = [e.short for e in AVOIDED_EVENTS if getattr(report.counts, e.name)]
    assert _avoided_on(page) == ", ".join(counted) == "admission"
    assert (report.counts.ae_attendance, report.counts.admission) == (0, 1)
