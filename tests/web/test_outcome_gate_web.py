"""Outcomes outstanding over HTTP: the console's list (with deferring) and the manager
dashboard's count, in its page, CSV and JSON, scoped like the rest of the dashboard."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from hub.calls import closure, live
from hub.people.access import SYSTEM
from hub.people.admin import add_resident, create_staff
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.hub.test_calls import edna, request, tablet
from tests.web.closed_calls import OUTCOME, closed_call, nurse_of
from tests.web.helpers import csrf, login, login_home_manager

RANGE = "from=2026-03-01&to=2026-03-31"


async def nurse_user(ctx, name: str):  # type: ignore[no-untyped-def]
    return await create_staff(
        ctx, SYSTEM, NewStaff.parse(name, name.title(), "clinician", ["clinician"]), PASSWORD
    )


async def three_calls(ctx, clock, home, other_home, clinician_user):  # type: ignore[no-untyped-def]
    """Rose Court: one ended without outcome (Cleo's) and one closed; Oak House: one
    ended and deferred. Outstanding: two in all, one of them deferred."""
    edna_smith = await edna(ctx, clock, home)
    open_one = await closed_call(
        ctx, clock, home, clinician_user, outcome=None, resident=edna_smith
    )
    await closed_call(ctx, clock, home, await nurse_user(ctx, "dev"), resident=edna_smith)
    al = await add_resident(
        ctx,
        SYSTEM,
        other_home.id,
        ResidentDetails.parse(
            given_name="Al",
            family_name="Jones",
            date_of_birth="1930-01-01",
            nhs_number="4010232137",
            today=clock.now().date(),
        ),
    )
    tom = nurse_of(await nurse_user(ctx, "tom"))
    call = await live.request_call(ctx, await tablet(ctx, other_home), request(al.id))
    await live.claim(ctx, tom, call.id)
    clock.advance(timedelta(minutes=5))
    await live.end(ctx, tom, call.id)
    await closure.defer_outcome(ctx, tom, call.id, "waiting for the GP")
    return open_one


async def manager(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)


async def test_dashboard_counts_outcomes_outstanding_deferred_included(
    client, ctx, clock, home, other_home, clinician_user
) -> None:
    await three_calls(ctx, clock, home, other_home, clinician_user)
    await manager(client, ctx, clock)
    page = await (await client.get(f"/reports?{RANGE}")).text()
    assert "outcomes outstanding" in page
    figure = page.split('data-testid="outcomes-outstanding"')[1].split("</div>")[0]
    assert '<span class="n">2</span> outcomes outstanding' in figure and "(1 deferred)" in figure

    rows = list(
        csv.DictReader(io.StringIO(await (await client.get(f"/reports.csv?{RANGE}")).text()))
    )
    assert (rows[-1]["outcomes_outstanding"], rows[-1]["outcomes_deferred"]) == ("2", "1")
    summary = await (await client.get(f"/reports.json?{RANGE}")).json()
    assert (summary[-1]["outcomes_outstanding"], summary[-1]["outcomes_deferred"]) == (2, 1)

    one_home = await (await client.get(f"/reports.json?{RANGE}&home={home.id}")).json()
    assert (one_home[-1]["outcomes_outstanding"], one_home[-1]["outcomes_deferred"]) == (1, 0)
    elsewhen = await (await client.get("/reports.json?from=2026-02-01&to=2026-02-28")).json()
    assert elsewhen[-1]["outcomes_outstanding"] == 0


async def test_a_care_home_manager_counts_only_their_home(
    client, ctx, clock, home, other_home, clinician_user
) -> None:
    await three_calls(ctx, clock, home, other_home, clinician_user)
    await login_home_manager(client, ctx, clock, other_home.id)
    summary = await (await client.get(f"/reports.json?{RANGE}")).json()
    assert (summary[-1]["outcomes_outstanding"], summary[-1]["outcomes_deferred"]) == (1, 1)


async def test_the_console_lists_them_and_a_deferral_needs_a_reason(
    client, ctx, clock, home, other_home, clinician_user
) -> None:
    open_one = await three_calls(ctx, clock, home, other_home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    (pending,) = (await (await client.get("/api/outcomes/pending")).json())["calls"]
    assert pending["call_id"] == open_one.id and pending["resident_name"] == "Edna Smith"
    assert pending["ended_at_uk"] == "02 Mar 2026 10:13" and pending["deferred"] is False

    headers = {"X-CSRF-Token": await csrf(client, "/console")}
    url = f"/api/calls/{open_one.id}/outcome/defer"
    refused = await client.post(url, json={"reason": "  "}, headers=headers)
    assert refused.status == 422
    assert (await refused.json())["error"]["message"] == "say why the outcome is being deferred"
    ok = await client.post(url, json={"reason": "resident asleep, ring back"}, headers=headers)
    assert ok.status == 200, await ok.text()
    (pending,) = (await (await client.get("/api/outcomes/pending")).json())["calls"]
    assert pending["deferred"] is True
    assert pending["deferred_reason"] == "resident asleep, ring back"
    await closure.record_outcome(ctx, nurse_of(clinician_user), open_one.id, OUTCOME)
    assert (await (await client.get("/api/outcomes/pending")).json())["calls"] == []


async def test_the_call_page_lists_the_deferral_and_its_reason(
    client, ctx, clock, home, clinician_user
) -> None:
    call = await closed_call(ctx, clock, home, clinician_user, outcome=None)
    await closure.defer_outcome(ctx, nurse_of(clinician_user), call.id, "GP to ring back")
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = await (await client.get(f"/calls/{call.id}")).text()
    row = page.split('data-action="call.outcome_deferred"')[1].split("</tr>")[0]
    assert "Outcome deferred (still outstanding until it is recorded)" in row
    assert "GP to ring back" in row and "Cleo Clinician" in row
