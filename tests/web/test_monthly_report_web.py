"""The printable monthly report of one care home: figures, print page, access rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.web.closed_calls import closed_call
from tests.web.helpers import login, login_home_manager
from web.reports.monthly import month_range


@pytest.fixture
async def manager_client(client, ctx, clock, home):  # type: ignore[no-untyped-def]
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)
    return client


async def test_monthly_report_shows_every_figure(
    manager_client, ctx, clock, home, clinician_user
) -> None:
    await closed_call(ctx, clock, home, clinician_user, wait=timedelta(minutes=3))
    resp = await manager_client.get(f"/reports/monthly?home={home.id}&month=2026-03")
    assert resp.status == 200
    body = await resp.text()
    assert "Rose Court" in body and "ODS code <strong>AB123</strong>" in body
    assert "March 2026" in body and "01 Mar 2026 to 31 Mar 2026, UK time" in body
    assert "(UTC)" not in body and " UTC" not in body
    assert 'data-testid="avoided-ae_attendance">1<' in body
    assert 'data-testid="avoided-admission">1<' in body  # intention A&E, judgement "yes"
    assert 'data-testid="avoided-call_999">0<' in body
    assert 'data-testid="not-attributable">0<' in body
    # Cost avoided with its tariff sources (config/tariffs.toml).
    assert "2022/23 National Cost Collection Data Publication: Emergency Medicine" in body
    assert "£265.00" in body
    # Answer times: one call answered after 3 minutes.
    assert 'Median (p50)</th><td class="num">3.0 min' in body
    assert "(p90)" in body and "(p95)" in body
    assert 'Answered within 5 minutes</th><td class="num">100.0%' in body
    # Server-drawn bar charts.
    assert 'data-testid="chart-outcome-mix"' in body and 'data-testid="chart-reasons"' in body
    assert "Managed in the home: advice: 1" in body and "Breathing: 1" in body


async def test_print_page_is_clean_and_needs_no_inline_script(manager_client, home) -> None:
    resp = await manager_client.get(f"/reports/monthly?home={home.id}&month=2026-02")
    body = await resp.text()
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script[^>]*>", body)
    assert scripts and all("src=" in s for s in scripts)  # the CSP forbids inline ones
    assert "onclick" not in body
    assert 'data-print data-testid="print"' in body
    assert 'class="print-report"' in body  # hides the site navigation
    assert "No answered calls this month." in body and "None this month." in body
    js = re.search(r'src="(/static/js/print_button\.js[^"]*)"', body)
    css = re.search(r'href="(/static/css/report_print\.css[^"]*)"', body)
    assert js and css
    script = await (await manager_client.get(js.group(1))).text()
    assert "window.print()" in script
    style = await (await manager_client.get(css.group(1))).text()
    assert "@media print" in style and "size: A4" in style
    assert "break-before: page" in style and "break-inside: avoid" in style


@pytest.mark.parametrize("month", ["2026-13", "March", "2026-3", "26-03", "2026-00"])
async def test_bad_month_is_422(manager_client, home, month: str) -> None:
    resp = await manager_client.get(f"/reports/monthly?home={home.id}&month={month}")
    assert resp.status == 422
    assert "the month must look like 2026-03" in await resp.text()


async def test_missing_home_is_404_and_home_is_required(manager_client) -> None:
    resp = await manager_client.get("/reports/monthly?home=999&month=2026-03")
    assert resp.status == 404 and "no care home 999" in await resp.text()
    resp = await manager_client.get("/reports/monthly?month=2026-03")
    assert resp.status == 422 and "say which care home" in await resp.text()


async def test_care_home_manager_sees_only_their_home(client, ctx, clock, home, other_home) -> None:
    await login_home_manager(client, ctx, clock, home.id)
    resp = await client.get(f"/reports/monthly?home={other_home.id}&month=2026-03")
    assert resp.status == 403
    assert "your own care home&#39;s report only" in await resp.text()
    own = await client.get("/reports/monthly?month=2026-03")  # defaults to their home
    assert own.status == 200 and "Rose Court" in await own.text()


async def test_clinicians_do_not_get_the_monthly_report(
    client, ctx, clock, home, clinician_user
) -> None:
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    resp = await client.get(f"/reports/monthly?home={home.id}&month=2026-03")
    assert resp.status == 403


async def test_month_defaults_to_last_month(manager_client, home) -> None:
    body = await (await manager_client.get(f"/reports/monthly?home={home.id}")).text()
    assert "February 2026" in body  # the test clock is 2 March 2026


def test_month_range() -> None:
    from datetime import date

    assert month_range("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_range(" 2026-12 ") == (date(2026, 12, 1), date(2026, 12, 31))


async def _manager_at(client, ctx, clock, at: datetime):  # type: ignore[no-untyped-def]
    """A manager logged in with the clock at ``at`` (a session does not last months)."""
    clock.current = at
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)
    return client


async def test_a_month_is_a_uk_month(client, ctx, clock, home, clinician_user) -> None:
    """23:30 UTC on 30 June 2026 is 00:30 BST on 1 July: July's call, not June's."""
    manager_client = await _manager_at(
        client, ctx, clock, datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    )
    await closed_call(ctx, clock, home, clinician_user, wait=timedelta(minutes=3))
    july = await (await manager_client.get(f"/reports/monthly?home={home.id}&month=2026-07")).text()
    assert 'data-testid="avoided-ae_attendance">1<' in july
    assert "01 Jul 2026 to 31 Jul 2026, UK time" in july
    assert 'Median (p50)</th><td class="num">3.0 min' in july
    june = await (await manager_client.get(f"/reports/monthly?home={home.id}&month=2026-06")).text()
    assert 'data-testid="avoided-ae_attendance">0<' in june
    assert "No answered calls this month." in june


async def test_last_month_is_on_the_uk_calendar(client, ctx, clock, home) -> None:
    # 23:30 UTC on 31 July 2026 is already 1 August in the UK: last month is July.
    manager_client = await _manager_at(
        client, ctx, clock, datetime(2026, 7, 31, 23, 30, tzinfo=UTC)
    )
    body = await (await manager_client.get(f"/reports/monthly?home={home.id}")).text()
    assert "July 2026" in body and "01 Jul 2026 to 31 Jul 2026" in body
    assert "Produced 01 Aug 2026 00:30 UK time" in body
