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
