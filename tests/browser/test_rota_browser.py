"""In real Chromium against a real telehub: a hub manager generates a rota and lands on
the rota grid with its cover chart; a job running on the hub shows its progress bar,
moves it as the job reports, and opens the rota when it is done."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hub import settings as settings_mod
from hub.clock import SystemClock
from hub.context import HubContext
from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from hub.rostering import plans
from hub.rostering.jobs import JobRecord, JobState
from hub.store.bootstrap import keyring_from, make_uow_factory, resolve_secrets
from hub.store.db import create_engine
from tests.browser.calls_fixtures import first_login
from tests.browser.server import PASSWORD, LiveServer, run_async, start_server, stop_server
from tests.hub.rota_fixtures import TEAM, actor_for, rota_team

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/telehub-shots")
DESKTOP = {"width": 1366, "height": 900}
LIMIT_S = 3
T = TypeVar("T")


async def _with_hub(config: Path, work: Callable[[HubContext], Awaitable[T]]) -> T:
    """Run ``work`` against the live server's database, as another hub process would."""
    settings = resolve_secrets(settings_mod.load(config))
    engine = create_engine(settings.database.url)
    keyring = keyring_from(settings)
    ctx = HubContext(make_uow_factory(engine, keyring), SystemClock(), keyring, settings)
    try:
        return await work(ctx)
    finally:
        await engine.dispose()


async def _seed_rota(ctx: HubContext) -> None:
    """Two hub managers (one for each test: a first login sets up two-factor) and the
    ten-clinician rota team (contracts, flat demand)."""
    for username in ("maria", "nora"):
        new = NewStaff.parse(username, username.capitalize(), "manager", [])
        await create_staff(ctx, SYSTEM, new, PASSWORD)
    await rota_team(ctx)


@pytest.fixture(scope="module")
def rota_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("rota"), f"[rota]\ntime_limit_s = {LIMIT_S}\ndays = 7\n"
    )
    run_async(_with_hub(server.config, _seed_rota))
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

    # The solver runs as a background job; the page follows it (the job panel's poll,
    # or the server's redirect once it is done) to the new rota. This team's week is
    # solved to optimality in a fraction of a second, so the panel may never be seen:
    # the next test watches a long job.
    page.click("button:has-text('Generate')")
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

    # Printed for the wall: the grid and chart on landscape pages, without navigation,
    # buttons or the sickness form.
    assert page.locator("[data-testid=print-rota]").is_visible()
    page.emulate_media(media="print")
    for hidden in (
        "header.top",
        "[data-testid=print-rota]",
        "[data-testid=save-edits]",
        "#sickness",
    ):
        assert not page.locator(hidden).is_visible(), hidden
    assert grid.is_visible() and page.locator("[data-testid=cover-chart]").is_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 3, f"a week's rota printed on {pages} pages"
    assert errors == []


def test_a_running_job_shows_its_progress_and_opens_the_rota_when_done(
    new_context: Any, rota_server: LiveServer
) -> None:
    """A job the hub is running (here as another hub process would: its record in the
    shared database, beaten and finished from outside the server) is shown on the rota
    page with a spinner and a bar that moves as the job reports; a second job cannot be
    started; when it finishes the page opens the rota it made."""

    async def stored_rota(ctx: HubContext) -> int:
        async with ctx.uow() as uow:
            found = await uow.staff.by_username("nora")
        assert found is not None
        nora = found[0]
        monday = datetime.now(UTC).date() + timedelta(days=14)
        monday -= timedelta(days=monday.weekday())
        return (await plans.generate(ctx, actor_for(nora), monday, 7, "8h")).id

    rota_id = run_async(_with_hub(rota_server.config, stored_rota))
    now = datetime.now(UTC)
    job = JobRecord(
        uuid.uuid4().hex, "generate", "Generating the rota from 4 January", "Nora", now, 30, now
    )

    async def add(ctx: HubContext) -> None:
        async with ctx.uow() as uow:
            assert await uow.rota_jobs.add(job)
            await uow.commit()

    def report(**progress: Any) -> None:
        async def beat(ctx: HubContext) -> None:
            async with ctx.uow() as uow:
                await uow.rota_jobs.beat(job.id, datetime.now(UTC), **progress)
                await uow.commit()

        run_async(_with_hub(rota_server.config, beat))

    def finish(state: JobState, **values: Any) -> None:
        async def end(ctx: HubContext) -> None:
            async with ctx.uow() as uow:
                await uow.rota_jobs.finish(job.id, state, datetime.now(UTC), **values)
                await uow.commit()

        run_async(_with_hub(rota_server.config, end))

    page = new_context(viewport=DESKTOP).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    first_login(page, rota_server, "nora")
    run_async(_with_hub(rota_server.config, add))
    try:
        page.goto(f"{rota_server.url}/rota")
        panel = page.locator("[data-testid=rota-job]")
        assert panel.get_attribute("data-state") == "running"
        assert "Generating the rota from 4 January" in panel.inner_text()
        assert page.locator(".rota-job .spinner").is_visible()
        progress = page.locator("[data-testid=rota-progress]")
        assert progress.is_visible()
        assert progress.evaluate("bar => bar.value") == 0
        assert page.locator("button:has-text('Generate')").is_disabled()

        # The page polls the job: the bar and the figures move as the job reports.
        report(elapsed_s=12.0, objective=930.0, best_bound=870.0, solutions=3)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=rota-progress]').value === 12",
            timeout=10_000,
        )
        assert panel.locator("[data-field=elapsed]").inner_text() == "12 s of 30 s"
        assert panel.locator("[data-field=objective]").inner_text() == "930"
        assert panel.locator("[data-field=best_bound]").inner_text() == "870"
        assert panel.locator("[data-field=solutions]").inner_text() == "3"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "rota-progress.png"), full_page=True)

        finish(JobState.DONE, redirect=f"/rota/{rota_id}", elapsed_s=30.0)
        # (The page is polled from the browser, not through Playwright's navigation
        # events: the poll may navigate while this thread is busy finishing the job.)
        page.wait_for_function(f"() => location.pathname === '/rota/{rota_id}'", timeout=10_000)
        page.locator("[data-testid=rota-grid]").wait_for()
    finally:
        finish(JobState.CANCELLED, only_running=True)
    assert errors == []
