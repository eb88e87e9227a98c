"""The security level of a call on its page (with every change, in UK time and words)
and in the dashboard's exports: CSV and JSON summary counts, FHIR per Encounter."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from hub.calls import closure, live, security
from hub.calls.security import SecurityLevel
from hub.people.access import SYSTEM
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from tests.conftest import PASSWORD
from tests.hub.test_calls import edna, request, tablet
from tests.web.closed_calls import OUTCOME, nurse_of
from tests.web.helpers import login
from web.reports.fhir import SECURITY_CHANGE_EXTENSION, SECURITY_EXTENSION, SECURITY_SYSTEM

DAY = "2026-07-10"  # in British Summer Time: UK time is UTC + 1


async def call_that_moved_to_the_relay(ctx, clock, home, clinician_user) -> int:  # type: ignore[no-untyped-def]
    clock.advance(timedelta(days=130))  # 10 July 2026, 10:00 UTC = 11:00 BST
    tab = await tablet(ctx, home)
    nurse = nurse_of(clinician_user)
    call = await live.request_call(ctx, tab, request((await edna(ctx, clock, home)).id))
    await live.claim(ctx, nurse, call.id)
    clock.advance(timedelta(seconds=5))
    await security.report(ctx, tab, call.id, SecurityLevel.DIRECT)  # 11:00 BST
    clock.advance(timedelta(minutes=7))
    await security.report(ctx, nurse, call.id, SecurityLevel.RELAY)  # 11:07 BST
    clock.advance(timedelta(minutes=3))
    await live.end(ctx, nurse, call.id)
    await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
    return call.id


def fhir_change(extension: dict[str, Any]) -> tuple[str, str, str, str]:
    """A security-change extension as (url, level, at, reported by)."""
    parts = {e["url"]: e for e in extension["extension"]}
    assert set(parts) == {"level", "at", "reportedBy"}
    return (
        extension["url"],
        parts["level"]["valueCoding"]["code"],
        parts["at"]["valueDateTime"],
        parts["reportedBy"]["valueString"],
    )


async def test_the_call_page_shows_the_level_and_its_changes(
    client, ctx, clock, home, clinician_user
) -> None:
    call_id = await call_that_moved_to_the_relay(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = await (await client.get(f"/calls/{call_id}")).text()
    shown = page.split('data-testid="security"')[1].split("</dd>")[0]
    assert shown.startswith(">Through TURN relay, encrypted")
    changes = shown.split('data-testid="security-changes"')[1]
    items = [li.split("</li>")[0] for li in changes.split("<li>")[1:]]
    assert items == [
        '10 Jul 2026 11:00 <span class="meta">(UK time)</span>: Direct, encrypted (DTLS-SRTP) '
        '<span class="meta">(reported by Tablet: T)</span>',
        '10 Jul 2026 11:07 <span class="meta">(UK time)</span>: Through TURN relay, encrypted '
        '<span class="meta">(reported by Cleo Clinician)</span>',
    ]


async def test_a_call_without_a_report_says_not_recorded(
    client, ctx, clock, home, clinician_user
) -> None:
    tab = await tablet(ctx, home)
    call = await live.request_call(ctx, tab, request((await edna(ctx, clock, home)).id))
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = await (await client.get(f"/calls/{call.id}")).text()
    assert 'data-testid="security">Not recorded</dd>' in page


async def test_exports_carry_the_level(client, ctx, clock, home, clinician_user) -> None:
    call_id = await call_that_moved_to_the_relay(ctx, clock, home, clinician_user)
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)
    query = f"from={DAY}&to={DAY}"

    bundle = json.loads(await (await client.get(f"/reports.fhir.json?{query}")).text())
    Bundle.model_validate(bundle)
    (entry,) = bundle["entry"]
    assert entry["resource"]["id"] == f"telehub-{call_id}"
    level, *changes = entry["resource"]["extension"]
    assert level == {
        "url": SECURITY_EXTENSION,
        "valueCoding": {
            "system": SECURITY_SYSTEM,
            "code": "relay",
            "display": "Through TURN relay, encrypted",
        },
    }
    # Every change after it, oldest first (the instants are UTC: FHIR is for machines).
    assert [fhir_change(c) for c in changes] == [
        (SECURITY_CHANGE_EXTENSION, "direct", "2026-07-10T10:00:05Z", "Tablet: T"),
        (SECURITY_CHANGE_EXTENSION, "relay", "2026-07-10T10:07:05Z", "Cleo Clinician"),
    ]

    rows = list(
        csv.DictReader(io.StringIO(await (await client.get(f"/reports.csv?{query}")).text()))
    )
    total = rows[-1]
    assert (
        total["calls_security_direct"],
        total["calls_security_relay"],
        total["calls_security_not_recorded"],
    ) == ("0", "1", "0")
    summary = await (await client.get(f"/reports.json?{query}")).json()
    assert summary[-1]["calls_security_relay"] == 1
    page = await (await client.get(f"/reports?{query}")).text()
    mix = page.split('data-testid="security-mix"')[1].split("</p>")[0]
    assert "Through TURN relay, encrypted 1" in mix and "Direct, encrypted (DTLS-SRTP) 0" in mix
