"""In real Chromium, on the care-home tablet: recording that a resident went to A&E after
all takes a deliberate choice, shows what changes before anything is stored, and can be
undone (issue 10, item 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.calls import closure, live
from hub.people import enrolment, resident_records
from hub.people.access import SYSTEM, Actor, Role
from tests.browser.server import LiveServer, _context, run_async, start_server, stop_server
from tests.hub.test_calls import request

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}
OUTCOME = {"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "yes"}


async def _ended_call(config: Path, home_id: int, clinician_id: int) -> int:
    """A call from the home (A&E intended) that a clinician ended as managed at home."""
    ctx, engine = await _context(config)
    try:
        issued = await enrolment.issue_code(ctx, SYSTEM, home_id, "Earlier tablet")
        tab = await enrolment.device_actor(ctx, (await enrolment.enrol(ctx, issued.code)).token)
        assert tab is not None
        (edna,) = await resident_records.residents_of_home(ctx, SYSTEM, home_id, "Edna")
        nurse = Actor("staff", clinician_id, "Cleo", Role.CLINICIAN)
        call = await live.request_call(ctx, tab, request(edna.id, intention="ae"))
        await live.claim(ctx, nurse, call.id)
        await live.end(ctx, nurse, call.id)
        await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
        return call.id
    finally:
        await engine.dispose()


async def _counted(config: Path, call_id: int) -> list[str]:
    ctx, engine = await _context(config)
    try:
        async with ctx.uow() as uow:
            return [r.kind.value for r in await uow.consultations.representations(call_id)]
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def follow_up_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:
    server = start_server(tmp_path_factory.mktemp("follow-up"))
    call_id = run_async(
        _ended_call(server.config, server.data["homes"]["Rose Court"], server.data["users"]["cleo"])
    )
    yield server, call_id
    stop_server(server)


def test_a_carer_must_choose_then_confirm_and_can_undo(
    new_context: Any, follow_up_server: tuple[LiveServer, int]
) -> None:
    server, call_id = follow_up_server
    page = new_context(viewport=TABLET).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/enrol")
    page.fill("input[name=code]", server.enrolment_code())
    page.click("button")
    page.wait_for_url(re.compile(r"/tablet$"))

    form = page.locator(f"[data-testid=representation-{call_id}]")
    kind = form.locator("select[name=kind]")
    # Nothing is chosen for the carer: the select shows the prompt, holds no value.
    assert kind.input_value() == ""
    assert kind.locator("option:checked").inner_text() == "Choose what happened…"
    # One tap on the button without a choice goes nowhere (the browser asks for one).
    form.locator("button").click()
    assert page.url.endswith("/tablet")
    assert kind.evaluate("el => el.validity.valueMissing") is True
    assert run_async(_counted(server.config, call_id)) == []

    kind.select_option("ae_attendance")
    form.locator("button").click()
    page.wait_for_selector("[data-testid=representation-confirm]")
    assert page.inner_text("[data-testid=confirm-changes]") == (
        "This call will no longer count as an avoided A&E attendance."
    )
    assert run_async(_counted(server.config, call_id)) == []  # still nothing stored

    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=recorded]")
    assert "press Undo next to it before" in page.inner_text("[data-testid=recorded]")
    assert run_async(_counted(server.config, call_id)) == ["ae_attendance"]

    page.locator(f"[data-call-id='{call_id}'] form.undo button").click()
    page.wait_for_selector("[data-testid=undone]")
    assert "This call will count again as an avoided A&E attendance." in page.inner_text(
        "[data-testid=undone]"
    )
    assert page.locator("form.undo").count() == 0
    assert run_async(_counted(server.config, call_id)) == []
    assert errors == []
