"""The console remembers "Enable sound alerts" per clinician across reloads (issue 10,
item 10). Browsers allow sound only after a gesture, so a remembered choice may be
armed by the first click on the page: the button says which."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.calls_fixtures import DESKTOP, PageErrors, login
from tests.browser.server import LiveServer

pytestmark = pytest.mark.browser
ARMED_OR_ON = re.compile(r"^(Sound alerts on|Sound alerts: click anywhere to turn them back on)$")


def _sound(page: Any) -> str:
    return str(page.inner_text("[data-testid=enable-sound]")).strip()


def test_the_sound_alert_choice_survives_a_reload_for_that_clinician_only(
    browser: Any, live_server: LiveServer
) -> None:
    errors = PageErrors()
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        console = errors.watch(context.new_page(), "console")
        login(console, live_server, "cleo")
        assert _sound(console) == "Enable sound alerts"
        console.click("[data-testid=enable-sound]")
        console.locator("[data-testid=enable-sound]").filter(has_text="Sound alerts on").wait_for()

        console.reload()
        console.wait_for_selector("#link[data-state=open]")
        button = console.locator("[data-testid=enable-sound]")
        button.filter(has_text=ARMED_OR_ON).wait_for()  # remembered, not "Enable…"
        console.mouse.click(5, 5)  # the first gesture on the page arms it if need be
        button.filter(has_text="Sound alerts on").wait_for()
        assert console.evaluate("() => window.AudioContext !== undefined")

        # Turned off, it stays off after a reload.
        button.click()
        button.filter(has_text="Enable sound alerts").wait_for()
        console.reload()
        console.wait_for_selector("#link[data-state=open]")
        assert _sound(console) == "Enable sound alerts"
        button.click()  # on again, for the next clinician's check
        button.filter(has_text="Sound alerts on").wait_for()

        # Another clinician on the same browser starts with their own choice (off).
        console.click("form[action='/logout'] button")
        console.wait_for_url(re.compile(r"/login"))
        login(console, live_server, "bob")
        assert _sound(console) == "Enable sound alerts"
        errors.check()
    finally:
        context.close()
