"""Notes in real Chromium: typed notes survive a reload of the console, become entries,
and reach the colleague a call is transferred to (issue 10, item 1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.calls_fixtures import (  # noqa: F401  (fixtures)
    DESKTOP,
    PASSWORD,
    LiveServer,
    answer,
    end_call,
    hub,
    login,
    no_page_errors,
    page_errors,
    place_call,
    poll,
    record_outcome,
    screenshot,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_page_errors")]

FIRST = "Fell in the lounge at 09:00. Resp 24, sats 93% on air."
OFFLINE = " Typed while the link was down."
SECOND = "Plan: GP to visit today; home to call back if worse."


def draft_saved(console: Any) -> None:
    console.locator("[data-testid=notes-state]").filter(has_text="Draft saved").wait_for()


def test_notes_survive_a_reload_and_reach_the_colleague_after_transfer(
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
    new_context: Callable[..., Any],
    page_errors: Any,  # noqa: F811
) -> None:
    console, tablet = hub
    bob = page_errors.watch(new_context(viewport=DESKTOP).new_page(), "bob's console")
    login(bob, live_server, "bob")
    call_id = place_call(tablet, live_server, "Edna Smith")
    answer(console, call_id)
    console.locator("#in-call").wait_for()

    console.fill("[data-testid=notes]", FIRST)  # enabled once the server's draft is in
    draft_saved(console)
    console.reload()  # the clinician reloads the console mid-call
    console.locator("#in-call").wait_for()
    poll(console, f"() => document.querySelector('#notes').value === {FIRST!r}")
    draft_saved(console)
    screenshot(console, "notes-after-reload.png", full_page=True)

    # The link drops: what is typed stays in the page, says so, and is sent on reconnect.
    console.evaluate("() => window.telehubSignalling.close()")
    console.fill("[data-testid=notes]", FIRST + OFFLINE)
    console.locator("[data-testid=notes-state]").filter(
        has_text="Not saved — connection lost, your text is kept here"
    ).wait_for()
    console.evaluate("() => window.telehubSignalling.connect()")
    draft_saved(console)
    assert console.input_value("[data-testid=notes]") == FIRST + OFFLINE

    console.click("[data-testid=notes-add]")
    entry = console.locator("[data-testid=note-entry]").filter(has_text=FIRST)
    entry.wait_for()
    assert "Cleo" in entry.inner_text()
    assert console.input_value("[data-testid=notes]") == ""
    console.fill("[data-testid=notes]", SECOND)  # not added: the transfer adds it
    draft_saved(console)

    bob_id = console.locator("#colleague option", has_text="Bob").get_attribute("value")
    console.select_option("#colleague", value=bob_id)
    console.click("#transfer")
    console.locator("#in-call").wait_for(state="hidden")
    bob.locator("#in-call").wait_for()
    entries = bob.locator("[data-testid=note-entry]")
    entries.filter(has_text=FIRST).wait_for()
    entries.filter(has_text=SECOND).wait_for()
    assert entries.count() == 2
    assert all("Cleo" in entries.nth(i).inner_text() for i in range(2))
    assert bob.input_value("[data-testid=notes]") == ""  # Bob's own draft

    # Bob corrects the first entry: a new entry, the first one kept and marked.
    entries.filter(has_text=FIRST).locator("button:has-text('Correct')").click()
    bob.fill(".note-correct textarea", "Fell in the hall at 09:00.")
    bob.click(".note-correct button:has-text('Add correction')")
    fix = entries.filter(has_text="Fell in the hall")
    fix.wait_for()
    assert "Correction to the" in fix.inner_text() and "Bob" in fix.inner_text()
    assert "Corrected at" in entries.filter(has_text=FIRST).inner_text()
    screenshot(bob, "notes-after-transfer.png", full_page=True)

    end_call(bob, tablet)
    record_outcome(bob, call_id)
    bob.goto(f"{live_server.url}/calls/{call_id}")
    page = bob.locator(f"[data-testid=notes-{call_id}]").inner_text()
    screenshot(bob, "notes-call-page.png", full_page=True)
    assert FIRST in page and SECOND in page and "Fell in the hall" in page


def test_the_server_log_of_these_calls_holds_no_secret_and_an_id_on_every_line(
    hub: tuple[Any, Any],  # noqa: F811
    live_server: LiveServer,
) -> None:
    """Everything above — logins with password and two-factor set-up, a tablet calling
    about residents with NHS numbers, notes typed, reloaded, transferred and corrected —
    went through one server: its log (JSON lines: not a terminal) names none of it."""
    console, tablet = hub
    log = (live_server.config.parent / "server.log").read_text()
    cookies = [c["value"] for page in (console, tablet) for c in page.context.cookies()]
    secrets = {
        "the password": [PASSWORD],
        "a TOTP secret": list(live_server.data["totp_secrets"].values()),
        "a session or tablet cookie": [v for v in cookies if len(v) >= 16],
        "a clinical note": [FIRST, OFFLINE.strip(), SECOND, "Fell in the hall"],
        "an NHS number": ["9434765919", "943 476 5919", "4010232137", "9990000018"],
    }
    assert secrets["a TOTP secret"] and secrets["a session or tablet cookie"]
    for what, values in secrets.items():
        for value in values:
            assert value not in log, f"{what} is in the server log"
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert len(lines) > 20
    assert all(line["request_id"] for line in lines)
    requests = [line for line in lines if line["logger"] == "telehub.access"]
    assert requests and all(line["request_id"] != "-" for line in requests)
