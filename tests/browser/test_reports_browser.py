"""In real Chromium against a real telehub with the demo's call history: a hub manager
opens the reports, follows a care home's monthly report and prints it — on paper the
page is the report alone (no navigation, tools or staffing banner), on a few A4 pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser.server import LiveServer, _context, run_async, start_server, stop_server
from web.cli import demo_data

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/telehub-shots")
DESKTOP = {"width": 1366, "height": 900}


async def _seed_demo(config: Path) -> str:
    """Two months of the demo's calls (no rota); the manager's TOTP secret."""
    ctx, engine = await _context(config)
    try:
        summary = await demo_data.seed(ctx, months=2, rota_time_limit_s=0)
    finally:
        await engine.dispose()
    [manager] = [x for x in summary.logins if x.username == "manager"]
    assert manager.totp_secret is not None
    return manager.totp_secret


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    server = start_server(tmp_path_factory.mktemp("reports"))
    secret = run_async(_seed_demo(server.config))
    yield server, secret
    stop_server(server)


def test_a_manager_prints_a_homes_monthly_report(
    new_context: Any, reports_server: tuple[LiveServer, str]
) -> None:
    server, secret = reports_server
    page = new_context(viewport=DESKTOP).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", demo_data.DEMO_PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url(re.compile(r"/login/totp"))
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r"/reports"))
    # The dashboard draws its figures: heat map, month trend, outcome mix.
    assert page.locator("main svg").count() >= 3
    assert page.locator("[data-testid=cover-banner]").is_visible()  # no published rota

    page.locator("a[data-testid^=monthly-]").first.click()
    page.wait_for_url(re.compile(r"/reports/monthly\?home=\d+&month=\d{4}-\d{2}"))
    title = page.inner_text("main h1")
    assert title and page.locator("[data-testid=print]").is_visible()

    page.emulate_media(media="print")
    for chrome in ("header.top", "[data-testid=cover-banner]", "[data-testid=print]"):
        assert not page.locator(chrome).first.is_visible(), f"{chrome} would be printed"
    assert page.locator("main h1").is_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "monthly-report-print.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 4, f"a month's report for one home printed on {pages} A4 pages"
    assert errors == []
