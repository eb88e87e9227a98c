"""Who took part and how the call was secured, in every export of consultations: the
consultations CSV (words, UK time, one row a call, cells guarded against formulas), the
consultations JSON (codes beside words, ISO 8601) and the FHIR Bundle (guests as typed
Encounter participants, security changes as extensions) — scoped and audited like the
rest of the exports (web/reports/consultation_export.py, web/reports/fhir.py)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.calls import closure, guest_services, live, security
from hub.calls.guests import GuestKind
from hub.calls.security import SecurityLevel
from hub.context import HubContext
from hub.people.access import SYSTEM, Actor
from hub.people.admin import create_staff
from hub.people.staff import NewStaff
from hub.reports import export
from hub.reports.export import EXPORT_ACTION
from hub.reports.summary import ReportQuery
from tests.conftest import PASSWORD
from tests.hub.test_calls import edna, request, tablet
from tests.web.closed_calls import OUTCOME, nurse_of
from tests.web.helpers import login, login_home_manager
from web.reports.fhir import PARTICIPANT_TYPE, PARTICIPATION_TYPE, SECURITY_CHANGE_EXTENSION

DAY = "2026-07-10"  # in British Summer Time: UK time is UTC + 1
RANGE = f"from={DAY}&to={DAY}"
COLUMNS = [  # the consultations CSV's columns, in order: a consumer's spreadsheet relies on it
    "call_id",
    "requested_uk",
    "answered_uk",
    "ended_uk",
    "home",
    "home_code",
    "resident",
    "reason",
    "state",
    "clinician",
    "outcome",
    "guests",
    "security",
    "security_changes",
]
INJECTION = '=HYPERLINK("http://evil.example","Dr Patel")'


@dataclass
class Calls:
    with_guests: int
    without_guests: int


async def _guest(ctx: HubContext, nurse: Actor, call_id: int, kind: GuestKind, name: str) -> int:
    """A guest invited, arrived in the lobby and let in; returns their id."""
    _, token = await guest_services.invite(ctx, nurse, call_id, kind)
    guest, _ = await guest_services.claim(ctx, token, name)
    await guest_services.admit(ctx, nurse, guest.id)
    return guest.id


async def two_calls(ctx, clock, home, clinician_user) -> Calls:  # type: ignore[no-untyped-def]
    """On 10 July 2026 (BST) at Rose Court: a call with a GP (removed) and a family member
    (there until the call ended) that moved from direct to the telehub relay; then a
    call with no guests and no reported level."""
    clock.advance(timedelta(days=130))  # 10 July 2026, 10:00 UTC = 11:00 BST
    tab = await tablet(ctx, home)
    nurse = nurse_of(clinician_user)
    resident = await edna(ctx, clock, home)
    call = await live.request_call(ctx, tab, request(resident.id))
    await live.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=1))
    await security.report(ctx, tab, call.id, SecurityLevel.DIRECT)  # 11:01
    clock.advance(timedelta(minutes=2))
    gp = await _guest(ctx, nurse, call.id, GuestKind.GP, "Dr Amira Patel")  # let in 11:03
    clock.advance(timedelta(minutes=1))
    await _guest(ctx, nurse, call.id, GuestKind.FAMILY, "Sam Smith")  # let in 11:04
    clock.advance(timedelta(minutes=1))
    await security.report(ctx, nurse, call.id, SecurityLevel.RELAY_E2EE)  # 11:05
    clock.advance(timedelta(minutes=15))
    await guest_services.remove(ctx, nurse, gp)  # 11:20
    clock.advance(timedelta(minutes=10))
    await live.end(ctx, nurse, call.id)  # 11:30: Sam leaves with the call
    await closure.record_outcome(ctx, nurse, call.id, OUTCOME)

    clock.advance(timedelta(minutes=30))
    plain = await live.request_call(ctx, tab, request(resident.id))  # 12:00
    await live.claim(ctx, nurse, plain.id)
    clock.advance(timedelta(minutes=10))
    await live.end(ctx, nurse, plain.id)
    await closure.record_outcome(ctx, nurse, plain.id, OUTCOME)
    return Calls(call.id, plain.id)


async def manager(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("maria", "Maria", "manager", []), PASSWORD
    )
    await login(client, ctx, clock, "maria", PASSWORD, user.id)


async def csv_rows(client, query: str = RANGE) -> tuple[list[str], list[dict[str, str]]]:  # type: ignore[no-untyped-def]
    resp = await client.get(f"/reports.consultations.csv?{query}")
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "text/csv"
    reader = csv.DictReader(io.StringIO(await resp.text()))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


async def export_audits(ctx: HubContext) -> list[dict[str, Any]]:
    """The exports audited, oldest first."""
    async with ctx.uow() as uow:
        events = await uow.audit.recent(10_000)  # newest first
    return [dict(e.detail) for e in reversed(events) if e.action == EXPORT_ACTION]


async def test_the_csv_lists_guests_and_security_in_words_and_uk_time(
    client, ctx, clock, home, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    calls = await two_calls(ctx, clock, home, clinician_user)
    await manager(client, ctx, clock)
    columns, (with_guests, without) = await csv_rows(client)
    assert columns == COLUMNS
    assert with_guests == {
        "call_id": str(calls.with_guests),
        "requested_uk": "2026-07-10 11:00",
        "answered_uk": "2026-07-10 11:00",
        "ended_uk": "2026-07-10 11:30",
        "home": "Rose Court",
        "home_code": "AB123",
        "resident": "Edna Smith",
        "reason": "Breathing",
        "state": "Ended",
        "clinician": "Cleo Clinician",
        "outcome": "Managed in the home: advice",
        "guests": "Dr Amira Patel (GP, let in 11:03, removed 11:20); "
        "Sam Smith (Family member, let in 11:04, left 11:30)",
        "security": "Through telehub relay, end-to-end encrypted",
        "security_changes": "11:01 Direct, encrypted (DTLS-SRTP); "
        "11:05 Through telehub relay, end-to-end encrypted",
    }
    # A call without guests: the same columns, the new ones empty or "Not recorded".
    assert without["call_id"] == str(calls.without_guests)
    assert (without["requested_uk"], without["clinician"]) == ("2026-07-10 12:00", "Cleo Clinician")
    assert (without["guests"], without["security"], without["security_changes"]) == (
        "",
        "Not recorded",
        "",
    )
    (audit,) = await export_audits(ctx)
    assert (audit["format"], audit["consultations"], audit["guests"]) == ("csv", 2, 2)


async def test_the_json_lists_guests_and_security_changes(
    client, ctx, clock, home, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    calls = await two_calls(ctx, clock, home, clinician_user)
    await manager(client, ctx, clock)
    resp = await client.get(f"/reports.consultations.json?{RANGE}")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    body = await resp.json()
    assert (body["from"], body["to"], body["home_id"]) == (DAY, DAY, None)
    with_guests, without = body["consultations"]
    assert with_guests["call_id"] == calls.with_guests
    assert with_guests["guests"] == [
        {
            "name": "Dr Amira Patel",
            "kind": "gp",
            "kind_label": "GP",
            "state": "removed",
            "state_label": "Removed",
            "joined_at": "2026-07-10T10:03:00+00:00",
            "admitted_at": "2026-07-10T10:03:00+00:00",
            "left_at": "2026-07-10T10:20:00+00:00",
        },
        {
            "name": "Sam Smith",
            "kind": "family",
            "kind_label": "Family member",
            "state": "left",
            "state_label": "Left",
            "joined_at": "2026-07-10T10:04:00+00:00",
            "admitted_at": "2026-07-10T10:04:00+00:00",
            "left_at": "2026-07-10T10:30:00+00:00",
        },
    ]
    assert with_guests["security"] == {
        "level": "relay_e2ee",
        "label": "Through telehub relay, end-to-end encrypted",
        "changes": [
            {
                "at": "2026-07-10T10:01:00+00:00",
                "level": "direct",
                "label": "Direct, encrypted (DTLS-SRTP)",
                "reported_by": "Tablet: T",
                "reported_by_ref": with_guests["security"]["changes"][0]["reported_by_ref"],
            },
            {
                "at": "2026-07-10T10:05:00+00:00",
                "level": "relay_e2ee",
                "label": "Through telehub relay, end-to-end encrypted",
                "reported_by": "Cleo Clinician",
                "reported_by_ref": f"staff:{clinician_user.id}",
            },
        ],
    }
    assert with_guests["security"]["changes"][0]["reported_by_ref"].startswith("device:")
    assert without["call_id"] == calls.without_guests
    assert without["guests"] == []
    assert without["security"] == {"level": None, "label": "Not recorded", "changes": []}
    (audit,) = await export_audits(ctx)
    assert (audit["format"], audit["guests"]) == ("json", 2)


async def test_fhir_guests_are_typed_participants_and_changes_are_extensions(
    client, ctx, clock, home, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    await two_calls(ctx, clock, home, clinician_user)
    await manager(client, ctx, clock)
    resp = await client.get(f"/reports.fhir.json?{RANGE}")
    bundle = Bundle.model_validate_json(await resp.text())  # still a valid R4B Bundle
    with_guests, without = (e.resource for e in bundle.entry)
    people = [
        (
            p.individual.display,
            [(c.system, c.code) for t in p.type or [] for c in t.coding or []],
            [t.text for t in p.type or []],
            p.period.start.isoformat() if p.period else None,
            p.period.end.isoformat() if p.period and p.period.end else None,
        )
        for p in with_guests.participant
    ]
    assert people == [
        ("Cleo Clinician", [], [], None, None),  # the answering clinician, as before
        (
            "Dr Amira Patel",
            [(PARTICIPATION_TYPE, "CON")],
            ["GP"],
            "2026-07-10T10:03:00+00:00",
            "2026-07-10T10:20:00+00:00",
        ),
        (
            "Sam Smith",
            [(PARTICIPATION_TYPE, "PART")],
            ["Family member"],
            "2026-07-10T10:04:00+00:00",
            "2026-07-10T10:30:00+00:00",
        ),
    ]
    changes = [e for e in with_guests.extension if e.url == SECURITY_CHANGE_EXTENSION]
    assert [({x.url: x for x in c.extension}["level"].valueCoding.code) for c in changes] == [
        "direct",
        "relay_e2ee",
    ]
    # A call without guests or a reported level exports as it did: the clinician alone.
    assert [p.individual.display for p in without.participant] == ["Cleo Clinician"]
    assert without.extension is None


async def test_an_interpreter_is_a_translator_and_a_lobby_guest_took_no_part(
    client, ctx, clock, home, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    nurse = nurse_of(clinician_user)
    call = await live.request_call(ctx, tab, request((await edna(ctx, clock, home)).id))
    await live.claim(ctx, nurse, call.id)
    await _guest(ctx, nurse, call.id, GuestKind.INTERPRETER, "Ana Lima")
    _, token = await guest_services.invite(ctx, nurse, call.id, GuestKind.OTHER)
    await guest_services.claim(ctx, token, "Jo Waiting")  # never let in
    clock.advance(timedelta(minutes=5))
    await live.end(ctx, nurse, call.id)
    await manager(client, ctx, clock)
    query = "from=2026-03-02&to=2026-03-02"  # winter: UK time is UTC
    bundle = Bundle.model_validate_json(
        await (await client.get(f"/reports.fhir.json?{query}")).text()
    )
    (entry,) = bundle.entry
    guests = [p for p in entry.resource.participant if p.type]
    assert [(p.individual.display, p.type[0].coding[0].code) for p in guests] == [
        ("Ana Lima", "translator")
    ]
    assert guests[0].type[0].coding[0].system == PARTICIPANT_TYPE
    _, (row,) = await csv_rows(client, query)
    assert row["guests"] == (
        "Ana Lima (Interpreter, let in 10:00, left 10:05); "
        "Jo Waiting (Other, not let in, left 10:05)"
    )


async def test_a_guest_name_never_becomes_a_spreadsheet_formula(
    client, ctx, clock, home, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    nurse = nurse_of(clinician_user)
    call = await live.request_call(ctx, tab, request((await edna(ctx, clock, home)).id))
    await live.claim(ctx, nurse, call.id)
    await _guest(ctx, nurse, call.id, GuestKind.GP, INJECTION)  # as typed at the link
    await manager(client, ctx, clock)
    _, (row,) = await csv_rows(client, "from=2026-03-02&to=2026-03-02")
    # The cell starts with an apostrophe, as every other text cell that would: a
    # spreadsheet shows it as text and never runs it.
    assert row["guests"] == f"'{INJECTION} (GP, let in 10:00, in the call)"
    body = await (
        await client.get("/reports.consultations.json?from=2026-03-02&to=2026-03-02")
    ).json()
    assert body["consultations"][0]["guests"][0]["name"] == INJECTION  # JSON keeps it exact


async def test_a_home_managers_export_holds_no_guest_of_another_home(
    client, ctx, clock, home, other_home, other_resident, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    nurse = nurse_of(clinician_user)
    for h, resident_id, name in (
        (home, (await edna(ctx, clock, home)).id, "Dr Own Home"),
        (other_home, other_resident.id, "Bea Otherhome"),
    ):
        tab = await tablet(ctx, h)
        call = await live.request_call(ctx, tab, request(resident_id))
        await live.claim(ctx, nurse, call.id)
        await _guest(ctx, nurse, call.id, GuestKind.FAMILY, name)
        clock.advance(timedelta(minutes=5))
        await live.end(ctx, nurse, call.id)
        await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
    await login_home_manager(client, ctx, clock, home.id)
    query = "from=2026-03-02&to=2026-03-02"
    downloads = {
        path: await (await client.get(f"{path}?{query}")).text()
        for path in (
            "/reports.consultations.csv",
            "/reports.consultations.json",
            "/reports.fhir.json",
        )
    }
    assert json.loads(downloads["/reports.consultations.json"])["home_id"] == home.id
    for path, text in downloads.items():
        assert "Dr Own Home" in text, path
        assert "Bea Otherhome" not in text and "Oak House" not in text, path
    assert [(a["format"], a["home_id"], a["guests"]) for a in await export_audits(ctx)] == [
        ("csv", home.id, 1),
        ("json", home.id, 1),
        ("fhir", home.id, 1),
    ]
    for path in ("/reports.consultations.csv", "/reports.consultations.json"):
        refused = await client.get(f"{path}?{query}&home={other_home.id}")
        assert refused.status == 403, path
    assert len(await export_audits(ctx)) == 3  # a refused export exports nothing


async def test_the_dashboard_links_the_consultation_exports(client, ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    await manager(client, ctx, clock)
    page = await (await client.get(f"/reports?from={DAY}&to={DAY}&home={home.id}")).text()
    for path in ("/reports.consultations.csv", "/reports.consultations.json"):
        assert f'href="{path}?from={DAY}&amp;to={DAY}&amp;home={home.id}"' in page
    resp = await client.get(f"/reports.consultations.csv?from={DAY}&to={DAY}&home={home.id}")
    assert (
        f'filename="telehub-consultations-home{home.id}-{DAY}-{DAY}.csv"'
        in resp.headers["Content-Disposition"]
    )
    columns, rows = await csv_rows(client, f"from={DAY}&to={DAY}")
    assert (columns, rows) == (COLUMNS, [])  # an empty range still has its header


@contextlib.contextmanager
def selects_from(engine: AsyncEngine, table: str) -> Iterator[list[str]]:
    """The statements that read ``table`` while the block runs, as the database got them."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if re.search(rf"\bFROM {table}\b", statement):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def test_guests_and_changes_are_read_for_all_calls_at_once(
    ctx, engine, clock, home, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    nurse = nurse_of(clinician_user)
    resident = await edna(ctx, clock, home)
    for n in range(4):
        call = await live.request_call(ctx, tab, request(resident.id))
        await live.claim(ctx, nurse, call.id)
        await security.report(ctx, tab, call.id, SecurityLevel.DIRECT)
        await _guest(ctx, nurse, call.id, GuestKind.GP, f"Dr Number {n}")
        clock.advance(timedelta(minutes=5))
        await live.end(ctx, nurse, call.id)
        await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
    query = ReportQuery.parse("2026-03-02", "2026-03-02")
    with (
        selects_from(engine, "call_guests") as guest_reads,
        selects_from(engine, "call_security_levels") as level_reads,
    ):
        found = await export.consultations(ctx, SYSTEM, query, format="csv")
    assert [g.name for c in found.calls for g in found.guests_of(c.id)] == [
        f"Dr Number {n}" for n in range(4)
    ]
    assert all(len(found.security_of(c.id)) == 1 for c in found.calls)
    assert (len(guest_reads), len(level_reads)) == (1, 1)  # not one per call

    # Past 500 calls the ids go in several queries, each within the databases' limits.
    ids = [c.id for c in found.calls] + list(range(100_000, 101_000))
    with selects_from(engine, "call_guests") as guest_reads:
        async with ctx.uow() as uow:
            by_call = await uow.guests.for_calls(ids)
    assert len(guest_reads) == 3
    assert sorted(by_call) == sorted(c.id for c in found.calls)
