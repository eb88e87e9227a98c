"""Browser-test fixtures.

``live_server`` (a real telehub subprocess on a temp SQLite database, migrated and
seeded in-process with the same keys file) and ``browser`` (Debian's headless
Chromium, skipped when it is not installed) live in ``tests/browser/server.py``.
The fixtures below add a fresh browser context per test and a watchdog that fails a
test when the server died under it, with the server's output in the failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.browser.browser_log import BrowserLog
from tests.browser.server import LiveServer, browser, live_server  # noqa: F401  (fixtures)


def _server_output(server: LiveServer) -> str:
    log = server.config.parent / "server.log"
    return log.read_text() if log.exists() else "(no server log)"


@pytest.fixture
def telehub(live_server: LiveServer) -> Iterator[LiveServer]:  # noqa: F811
    """The module's live server, checked to be alive before and after the test."""
    if live_server.proc.poll() is not None:
        pytest.fail(
            f"telehub exited ({live_server.proc.returncode}):\n{_server_output(live_server)}"
        )
    yield live_server
    if live_server.proc.poll() is not None:
        pytest.fail(
            f"telehub died during the test ({live_server.proc.returncode}):\n"
            f"{_server_output(live_server)}"
        )


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:  # noqa: F811
    """Make fresh browser contexts (own cookies, own storage); all closed afterwards."""
    made: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., Any]) -> Any:
    """One fresh browser context for the test."""
    return new_context()


_LOG = pytest.StashKey[tuple[BrowserLog, int]]()  # the test's browser log, where it started


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    log = BrowserLog.of(getattr(item, "funcargs", {}).get("browser"))
    if log is not None:
        item.stash[_LOG] = (log, log.mark())
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed browser test's report carries what its browsers said and did."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and _LOG in item.stash:
        log, mark = item.stash[_LOG]
        report.sections.append(("browser log", log.since(mark)))
