"""In real Chromium against a real telehub: a hub manager generates a rota, watches the
solver's progress bar, and lands on the rota grid with its cover chart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub import settings as settings_mod
from hub.access import SYSTEM
from hub.admin import create_staff
from hub.clock import SystemClock
from hub.context import HubContext
from hub.staff import NewStaff
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from tests.browser.calls_fixtures import first_login
from tests.browser.server import PASSWORD, LiveServer, run_async, start_server, stop_server
from tests.hub.rota_fixtures import TEAM, rota_team

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/telehub-shots")
DESKTOP = {"width": 1366, "height": 900}
LIMIT_S = 3


async def _seed_rota(config: Path) -> None:
    """A hub manager and the ten-clinician rota team (contracts, flat demand)."""
    settings = resolve_secrets(settings_mod.load(config))
    engine = create_engine(settings.database.url)
    keyring = keyring_from(settings)
    ctx = HubContext(make_uow_factory(engine, keyring), SystemClock(), keyring, settings)
    try:
        await create_staff(ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD)
        await rota_team(ctx)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def rota_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("rota"), f"[rota]\ntime_limit_s = {LIMIT_S}\ndays = 7\n"
    )
    run_async(_seed_rota(server.config))
    yield server
    stop_server(server)


def test_a_manager_generates_a_rota_and_watches_it_being_solved(
    new_context: Any, rota_server: LiveServer
) -> None:
    page = new_context(viewport=DESKTOP).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    first_login(page, rota_server, "maria")
    page.click("header nav a:has-text('Rota')")
    page.wait_for_url(re.compile(r"/rota$"))
    assert page.input_value("input[name=days]") == "7"
    assert page.input_value("input[name=limit]") == str(LIMIT_S)

    page.click("button:has-text('Generate')")
    page.wait_for_url(re.compile(r"/rota\?job=[0-9a-f]+$"))
    panel = page.locator("[data-testid=rota-job]")
    assert panel.get_attribute("data-state") == "running"
    assert page.locator("[data-testid=rota-progress]").is_visible()
    assert page.locator(".rota-job .spinner").is_visible()
    # The page polls the job: the bar moves while the solver works.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=rota-progress]').value > 0", timeout=10_000
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "rota-progress.png"), full_page=True)

    page.wait_for_url(re.compile(r"/rota/\d+$"), timeout=60_000)
    grid = page.locator("[data-testid=rota-grid]")
    names = grid.locator("tbody th.who").all_inner_texts()
    assert len(names) == len(TEAM)
    assert all(any(n.split("\n")[0] == u.capitalize() for n in names) for u, _, _ in TEAM)
    assert grid.locator("tbody select").count() == len(TEAM) * 7
    assert page.locator("[data-testid=cover-chart] polyline.need").count() == 1
    assert page.locator("[data-testid=rota-status]").inner_text() == "draft"
    assert page.locator("[data-testid=publish]").is_enabled()

    # A hand edit colours the cell at once and is counted as unsaved.
    first = grid.locator("tbody select").first
    current = first.input_value()
    first.select_option("" if current else "early")
    cell = grid.locator("tbody td").first
    assert cell.get_attribute("data-shift") == ("" if current else "early")
    assert "1 unsaved change" in page.inner_text("[data-changes]")
    page.screenshot(path=str(SHOTS / "rota-grid.png"), full_page=True)
    assert errors == []
