"""The manager dashboard over HTTP: figures, charts, CSV, scope, bad ranges."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.web.helpers import login, login_home_manager


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
    await login_home_manager(client, ctx, clock, home.id)
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
    from hub.calls import closure, live
    from hub.people.access import Actor, Role
    from tests.hub.test_calls import edna, request, tablet
    from tests.web.helpers import post_form

    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    nurse = Actor("staff", clinician_user.id, "Cleo", Role.CLINICIAN)
    call = await live.request_call(ctx, tab, request(r.id, intention="ae"))
    await live.claim(ctx, nurse, call.id)
    await live.end(ctx, nurse, call.id)
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
        {"kind": "admission", "at": "", "confirm": "yes"},
        token_from=page,
    )
    assert resp.status == 303
    day = clock.now().date()
    from hub.outcomes.tariffs import load_tariffs
    from hub.reports.summary import ReportQuery, build

    report = await build(ctx, SYSTEM, ReportQuery(day, day), load_tariffs())
    assert report.counts.admission == 0 and report.counts.ae_attendance == 0
    bad = await post_form(
        client,
        f"{page}/calls/{call.id}/representations",
        {"kind": "teleport", "at": ""},
        token_from=page,
    )
    assert bad.status == 422 and "is not one of" in await bad.text()


# --- CSV export of every dashboard table ---------------------------------------------

RANGE = "from=2026-03-01&to=2026-03-31"


async def _csv(client, query: str) -> tuple[object, list[dict[str, str]]]:  # type: ignore[no-untyped-def]
    resp = await client.get(f"/reports.csv?{query}")
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/csv"
    return resp, list(csv.DictReader(io.StringIO(await resp.text())))


async def test_every_dashboard_table_exports_csv(
    manager_client, ctx, clock, home, clinician_user
) -> None:
    from tests.web.closed_calls import closed_call

    await closed_call(ctx, clock, home, clinician_user)  # Mon 2 Mar 2026, 10:00 UTC
    resp, summary = await _csv(manager_client, f"table=summary&{RANGE}")
    assert [r["home"] for r in summary] == ["Rose Court", "All"]
    assert summary[-1]["avoided_ae_attendances"] == "1"
    assert (
        'filename="telehub-report-2026-03-01-2026-03-31.csv"' in resp.headers["Content-Disposition"]
    )

    resp, heat = await _csv(manager_client, f"table=hour_of_week&{RANGE}")
    assert "hour_of_week-2026-03-01" in resp.headers["Content-Disposition"]
    assert len(heat) == 7 * 24
    assert list(heat[0]) == ["day", "day_index", "hour", "from", "to", "calls"]
    busy = [r for r in heat if r["calls"] != "0"]
    assert [(r["day"], r["calls"]) for r in busy] == [("Mon", "1")]

    _, outcomes = await _csv(manager_client, f"table=outcomes&{RANGE}")
    assert [(r["outcome"], r["label"], r["calls"]) for r in outcomes] == [
        ("managed_advice", "Managed in the home: advice", "1")
    ]
    _, reasons = await _csv(manager_client, f"table=reasons&{RANGE}")
    assert [(r["reason"], r["label"], r["calls"]) for r in reasons] == [
        ("breathing", "Breathing", "1")
    ]
    _, homes = await _csv(manager_client, f"table=homes&{RANGE}")
    assert [(r["home"], r["calls"], r["avoided_ae_attendances"]) for r in homes] == [
        ("Rose Court", "1", "1")
    ]
    _, months = await _csv(manager_client, f"table=months&{RANGE}")
    assert [(r["month"], r["calls"], r["not_attributable"]) for r in months] == [
        ("2026-03", "1", "0")
    ]


async def test_csv_and_page_come_from_the_same_report(
    manager_client, ctx, clock, home, other_home, clinician_user
) -> None:
    """The same range and home give the same figures on the page and in every download."""
    from tests.web.closed_calls import closed_call

    await closed_call(ctx, clock, home, clinician_user)
    page = await (await manager_client.get(f"/reports?{RANGE}&home={home.id}")).text()
    for table in ("summary", "hour_of_week", "outcomes", "reasons", "homes", "months"):
        query = f"table={table}&from=2026-03-01&to=2026-03-31&home={home.id}"
        href = "/reports.csv?" + query.replace("&", "&amp;")
        assert href in page, table
    _, rows = await _csv(manager_client, f"table=homes&{RANGE}&home={other_home.id}")
    assert rows == []  # Oak House had no calls: the header only
    _, rows = await _csv(manager_client, f"table=homes&{RANGE}&home={home.id}")
    assert rows[0]["calls"] == "1"


async def test_unknown_csv_table_is_400(manager_client) -> None:
    resp = await manager_client.get(f"/reports.csv?table=secrets&{RANGE}")
    assert resp.status == 400
    body = await resp.text()
    assert "there is no report table &#39;secrets&#39;" in body
    assert "summary, hour_of_week, outcomes, reasons, homes, months" in body


async def test_csv_neutralises_spreadsheet_formulas_in_home_names(
    manager_client, ctx, clock, clinician_user
) -> None:
    from hub.people.admin import create_home
    from hub.people.homes import NewHome
    from tests.web.closed_calls import closed_call

    evil = await create_home(
        ctx, SYSTEM, NewHome.parse("EV1", '=HYPERLINK("http://x.test","Rose")', "3 St", 10)
    )
    await closed_call(ctx, clock, evil, clinician_user)
    for table in ("summary", "homes"):
        resp = await manager_client.get(f"/reports.csv?table={table}&{RANGE}")
        text = await resp.text()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[0]["home"] == '\'=HYPERLINK("http://x.test","Rose")', table
        assert "\n=" not in text and ",=" not in text


def test_safe_cell_guards_every_formula_prefix() -> None:
    from web.reports.dashboard import safe_cell

    for bad in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("Rose Court") == "Rose Court"
    assert safe_cell(-3) == -3 and safe_cell(None) is None and safe_cell("") == ""


async def test_dashboard_links_the_monthly_report_of_each_home(
    manager_client, ctx, clock, home, clinician_user
) -> None:
    from tests.web.closed_calls import closed_call

    await closed_call(ctx, clock, home, clinician_user)
    page = await (await manager_client.get(f"/reports?{RANGE}")).text()
    assert f'href="/reports/monthly?home={home.id}&amp;month=2026-03"' in page
    assert "Reasons for calling" in page and 'data-testid="csv-reasons"' in page


async def test_days_and_months_are_uk_time(client, ctx, clock, home, clinician_user) -> None:
    """The dashboard's range, its month trend and its default end are UK days."""
    from tests.web.closed_calls import closed_call

    clock.current = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 BST, 1 July
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)  # sessions last hours
    manager_client = client
    await closed_call(ctx, clock, home, clinician_user)
    clock.current = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # the page's "today"
    _, months = await _csv(manager_client, "table=months&from=2026-06-01&to=2026-07-31")
    assert [(r["month"], r["calls"]) for r in months] == [("2026-07", "1")]
    for home_query in ("", f"&home={home.id}"):  # the rollup, and the rows of one home
        _, first = await _csv(manager_client, f"from=2026-07-01&to=2026-07-01{home_query}")
        _, last = await _csv(manager_client, f"from=2026-06-30&to=2026-06-30{home_query}")
        assert (first[-1]["calls"], last[-1]["calls"]) == ("1", "0")
    page = await (await manager_client.get("/reports")).text()
    assert 'name="to" value="2026-07-01"' in page  # today in the UK, not UTC's 30 June
    assert "Days and months are UK time" in page and "UTC" not in page
