"""In real Chromium: an admin uploads a few hundred rows of call history, watches the
progress bar and sees "Imported N calls"; a bad file shows its line-numbered errors as
text and imports nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.browser.calls_fixtures import first_login
from tests.browser.server import LiveServer
from tests.hub.test_call_import import HEADER, hourly_rows

pytestmark = pytest.mark.browser

ROWS = 400


def call_log(n: int) -> bytes:
    """``n`` calls from Rose Court, an hour apart, for the seeded residents."""
    residents = ("9434765919", "4010232137", "9990000018")
    start = datetime(2025, 6, 1, tzinfo=UTC)
    return (HEADER + hourly_rows("RC001", residents, start, n)).encode()


def test_an_admin_imports_call_history_with_progress(context: Any, telehub: LiveServer) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    first_login(page, telehub, "ada")
    page.click("nav >> text=Import calls")
    page.wait_for_url(re.compile(r"/admin/import-calls$"))

    # A bad file: refused, errors shown as text (never as HTML), nothing imported.
    bad = HEADER + "RC001,9434765919,,<img src=x onerror=alert(1)>,,,fall,,,,\n"
    page.set_input_files(
        "input[name=file]", {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    page.click("#import-button")
    alert = page.locator("#import-result .error")
    alert.wait_for()
    assert "Nothing was imported: 1 bad row" in alert.inner_text()
    assert "Line 2: requested_at '<img src=x onerror=alert(1)>'" in alert.inner_text()
    assert page.locator("#import-result img").count() == 0

    # A good file of a few hundred rows: progress, then the count.
    page.set_input_files(
        "input[name=file]",
        {"name": "calls.csv", "mimeType": "text/csv", "buffer": call_log(ROWS)},
    )
    page.evaluate(
        """() => {
          window.progressSeen = [];
          const text = document.querySelector("[data-testid=import-progress-text]");
          new MutationObserver((records) => {
            for (const r of records) for (const n of r.addedNodes) window.progressSeen.push(n.data);
          }).observe(text, { childList: true });
        }"""
    )
    page.click("#import-button")
    page.wait_for_selector(f"text=Imported {ROWS} calls.")
    seen = page.evaluate("window.progressSeen")
    assert seen[0] == "Uploading…" and f"Checked 0 of {ROWS} rows" in seen
    bar = page.locator("[data-testid=import-progress]")
    assert bar.is_visible()
    assert bar.evaluate("b => [b.value, b.max]") == [ROWS, ROWS]
    assert page.inner_text("[data-testid=import-progress-text]") == f"Checked {ROWS} of {ROWS} rows"
    assert page.locator("#import-status .spinner").is_hidden()
    assert not page.locator("#import-button").is_disabled()

    # The same file again: every call is already stored, so each is a duplicate,
    # skipped and listed (issue 10, item 12), and nothing new is written.
    page.click("#import-button")
    page.wait_for_selector(f"text=Imported 0 calls; skipped {ROWS:,} duplicates.")
    duplicates = page.locator("[data-testid=import-duplicates] li")
    assert duplicates.count() == 200
    assert duplicates.first.inner_text() == "Line 2: this call is already stored"
    assert f"… and {ROWS - 200} more." in page.inner_text("#import-result")

    # The reports count the imported calls.
    page.goto(f"{telehub.url}/reports?from=2025-06-01&to=2025-07-31")
    assert page.locator("main svg").count() >= 1
    assert errors == []
