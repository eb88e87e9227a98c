"""Test hooks stay out of production (issue 11): with the default settings
(server.test_hooks off) no page carries the test-hooks meta, and a live call's console
and tablet expose no window.telehub* object. The browser tests and benchmarks run their
servers with the setting on (tests/browser/server.py), and the test server's pages do
carry the meta."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.calls_fixtures import (
    DESKTOP,
    TABLET,
    PageErrors,
    answer,
    end_call,
    enrol,
    login,
    place_call,
    record_outcome,
)
from tests.browser.server import LiveServer, start_server, stop_server

pytestmark = pytest.mark.browser

HOOKS = "() => ['telehubCall', 'telehubSignalling', 'telehubTimings'].filter((k) => k in window)"
META = 'meta[name="telehub-test-hooks"]'


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A telehub with the default settings: test hooks off."""
    server = start_server(tmp_path_factory.mktemp("no-hooks"), test_hooks=False)
    yield server
    stop_server(server)


def test_a_production_page_has_no_test_hooks_even_in_a_live_call(
    browser: Any, production_server: LiveServer
) -> None:
    errors = PageErrors()
    console_ctx = browser.new_context(viewport=DESKTOP)
    tablet_ctx = browser.new_context(viewport=TABLET)
    try:
        for ctx in (console_ctx, tablet_ctx):
            ctx.set_default_timeout(10_000)
        console = errors.watch(console_ctx.new_page(), "console")
        tablet = errors.watch(tablet_ctx.new_page(), "tablet")
        login(console, production_server, "cleo")
        enrol(tablet, production_server)
        call_id = place_call(tablet, production_server, "Edna Smith")
        answer(console, call_id)
        # The call is live and its video showing: both pages made their Call objects.
        tablet.locator("#joining").filter(has_text="Talking to").wait_for()
        console.locator("#stage-note").wait_for(state="hidden")  # the first frame arrived
        for page in (console, tablet):
            assert page.locator(META).count() == 0
            assert page.evaluate(HOOKS) == []
        end_call(console, tablet)
        record_outcome(console, call_id)
        errors.check()
    finally:
        console_ctx.close()
        tablet_ctx.close()


def test_the_test_server_turns_the_hooks_on(context: Any, telehub: LiveServer) -> None:
    page = context.new_page()
    page.goto(f"{telehub.url}/login")
    assert page.locator(META).get_attribute("content") == "on"
