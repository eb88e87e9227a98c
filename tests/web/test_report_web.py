"""The manager dashboard over HTTP: figures, charts, CSV, scope, bad ranges."""

from __future__ import annotations

import csv
import io

import pytest

from hub.access import SYSTEM
from hub.admin import create_staff
from hub.staff import NewStaff
from tests.conftest import PASSWORD
from tests.web.helpers import login


@pytest.fixture
async def manager_client(client, ctx, clock, home):  # type: ignore[no-untyped-def]
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)
    return client


async def test_dashboard_draws_figures_and_charts(manager_client) -> None:
    resp = await manager_client.get("/reports?from=2026-01-01&to=2026-03-31")
    assert resp.status == 200
    body = await resp.text()
    assert "A&amp;E attendances avoided" in body and 'data-testid="heatmap"' in body
    assert "<svg" in body and "Rose Court" in body  # home selector


async def test_csv_export(manager_client) -> None:
    resp = await manager_client.get("/reports.csv?from=2026-01-01&to=2026-03-31")
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await resp.text())))
    assert rows[-1]["home"] == "All" and rows[-1]["calls"] == "0"


async def test_reversed_range_is_422(manager_client) -> None:
    resp = await manager_client.get("/reports?from=2026-03-31&to=2026-01-01")
    assert resp.status == 422 and "before it starts" in await resp.text()


async def test_care_home_manager_cannot_see_another_home(
    client, ctx, clock, home, other_home
) -> None:
    user = await create_staff(
        ctx,
        SYSTEM,
        NewStaff.parse("homemgr", "Home Manager", "manager", [], home_id=home.id),
        PASSWORD,
    )
    await login(client, ctx, clock, "homemgr", PASSWORD, user.id)
    resp = await client.get(f"/reports?from=2026-01-01&to=2026-01-31&home={other_home.id}")
    assert resp.status == 403
    assert "your own care home&#39;s report only" in await resp.text()
    own = await client.get("/reports?from=2026-01-01&to=2026-01-31")
    assert own.status == 200 and "Rose Court" in await own.text()


async def test_clinicians_do_not_get_reports(client, ctx, clock, clinician_user) -> None:
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    assert (await client.get("/reports")).status == 403


async def test_staff_record_a_representation_that_cancels_avoided(
    client, ctx, clock, home, clinician_user
) -> None:
    from hub import calls, closure
    from hub.access import Actor, Role
    from tests.hub.test_calls import edna, request, tablet
    from tests.web.helpers import post_form

    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    nurse = Actor("staff", clinician_user.id, "Cleo", Role.CLINICIAN)
    call = await calls.request_call(ctx, tab, request(r.id, intention="ae"))
    await calls.claim(ctx, nurse, call.id)
    await calls.end(ctx, nurse, call.id)
    await closure.record_outcome(
        ctx,
        nurse,
        call.id,
        {"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "yes"},
    )
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = f"/residents/{r.id}"
    resp = await post_form(
        client,
        f"{page}/calls/{call.id}/representations",
        {"kind": "admission", "at": ""},
        token_from=page,
    )
    assert resp.status == 303
    day = clock.now().date()
    from hub.reports import ReportQuery, build
    from hub.tariffs import load_tariffs

    report = await build(ctx, SYSTEM, ReportQuery(day, day), load_tariffs())
    assert report.counts.admission == 0 and report.counts.ae_attendance == 0
    bad = await post_form(
        client,
        f"{page}/calls/{call.id}/representations",
        {"kind": "teleport", "at": ""},
        token_from=page,
    )
    assert bad.status == 422 and "is not one of" in await bad.text()
