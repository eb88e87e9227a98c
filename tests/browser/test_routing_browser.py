"""In real Chromium against a real telehub with a published rota: an off-shift clinician
sees the queue read-only, an on-shift one can answer, a medication call carries its
"needs prescriber" badge, and a call waiting past the (here, short) target raises an
alert at the top of the console."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from hub.people.access import Skill
from hub.rostering import cover, plans
from tests.browser.calls_fixtures import DESKTOP, TABLET, PageErrors, enrol, login, screenshot
from tests.browser.server import LiveServer, _context, run_async, start_server, stop_server
from tests.hub.rota_fixtures import rota_lead, rota_team

pytestmark = pytest.mark.browser
TARGET_S = 4


async def _publish(config: Path) -> dict[str, list[str]]:
    """The ten-clinician team on a week's rota that started yesterday (so that a night
    shift running now is covered); returns who is on and off shift at this moment."""
    ctx, engine = await _context(config)
    try:
        team = await rota_team(ctx)
        lead = await rota_lead(ctx)
        start = ctx.clock.now().date() - timedelta(days=1)
        record = await plans.generate(ctx, lead, start, 7, "8h", time_limit_s=3)
        await plans.publish(ctx, lead, record.id)
        on_shift = await cover.on_shift_at(ctx, ctx.clock.now())
        return {
            "on": [u.username for u in team if u.id in on_shift.staff],
            "prescribers_on": [
                u.username
                for u in team
                if u.id in on_shift.staff and Skill.PRESCRIBER.value in on_shift.staff[u.id]
            ],
            "off": [u.username for u in team if u.id not in on_shift.staff],
        }
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def rota_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path_factory.mktemp("routing"), f"[rota]\nanswer_target_s = {TARGET_S}\n"
    )
    server.data["shift"] = run_async(_publish(server.config))
    yield server
    stop_server(server)


def _call_about(tablet: Any, server: LiveServer, resident: str, reason: str) -> int:
    tablet.goto(f"{server.url}/tablet/call")
    tablet.fill("#filter", resident.split()[0][:3].lower())
    tablet.click(f".pick:has-text('{resident}')")
    tablet.click(f".tile:has-text('{reason}')")
    tablet.click(".tile:has-text('Not sure')")
    tablet.click("[data-testid=call-now]")
    tablet.wait_for_url(re.compile(r"/tablet/calls/\d+"))
    return int(tablet.url.rsplit("/", 1)[1])


def test_off_shift_is_read_only_and_alerts_show(browser: Any, rota_hub: LiveServer) -> None:
    shift = rota_hub.data["shift"]
    assert shift["on"] and shift["off"], shift
    errors = PageErrors()
    contexts = [browser.new_context(viewport=DESKTOP) for _ in range(2)]
    contexts.append(browser.new_context(viewport=TABLET))
    for c in contexts:
        c.set_default_timeout(10_000)
    off_page, on_page, tablet = (
        errors.watch(c.new_page(), n)
        for c, n in zip(contexts, ("off", "on", "tablet"), strict=True)
    )
    try:
        login(off_page, rota_hub, shift["off"][0])
        # A prescriber on shift if there is one (08–22 there must be): they may answer.
        login(on_page, rota_hub, (shift["prescribers_on"] or shift["on"])[0])
        enrol(tablet, rota_hub)
        # Web-first assertions: they wait for the console's routing fetch to land.
        expect(off_page.locator("[data-testid=off-shift]")).to_be_visible()
        expect(on_page.locator("[data-testid=off-shift]")).to_be_hidden()
        expect(on_page.locator("[data-testid=shift-note]")).to_have_text(
            re.compile(r"^On shift until")
        )

        call_id = _call_about(tablet, rota_hub, "Edna Smith", "Medication")
        off_row = off_page.locator(f"tr[data-call-id='{call_id}']")
        on_row = on_page.locator(f"tr[data-call-id='{call_id}']")
        off_row.wait_for()
        on_row.wait_for()
        expect(off_row.locator("[data-testid=needs-skill]")).to_have_text("needs prescriber")
        off_answer = off_row.locator("[data-testid=answer]")
        expect(off_answer).to_be_disabled()
        expect(off_answer).to_have_attribute("title", re.compile("not on shift"))
        expect(on_row.locator("[data-testid=answer]:not([disabled])")).to_have_count(1)
        if not shift["prescribers_on"]:  # at night: anyone on shift, and an alert says why
            on_page.locator("#routing-alerts li[data-kind=unanswerable]").wait_for()

        # Past the target the console says so, from its own timer.
        alert = on_page.locator(
            f"#routing-alerts li[data-kind=over_target][data-call-id='{call_id}']"
        )
        alert.wait_for(timeout=(TARGET_S + 5) * 1000)
        assert "over the" in alert.inner_text()
        expect(off_page.locator("#routing-alerts")).to_be_visible()
        screenshot(off_page, "console-off-shift.png")
        errors.check()
    finally:
        for c in contexts:
            c.close()
