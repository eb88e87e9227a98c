"""CSV formula injection in every CSV export: the dashboard's tables, the consultations
export and ``telehub report``.

Names a spreadsheet would run as formulas (``=HYPERLINK(...)``, ``+SUM(...)``,
``-2+3``, ``@SUM(...)``, a DDE ``=cmd|...``) are given to a care home, a resident, a
clinician and a guest of a call; every CSV download the dashboard offers, and the CLI's
report, must carry them as text (a leading apostrophe) and never as a cell a spreadsheet
would run. Which exports exist is found, not listed: every route of the router that
answers ``text/csv``, every CSV link on the dashboard, and every CSV writer in the code.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from hub.calls import closure, guest_services, live
from hub.calls.guests import GuestKind
from hub.people import enrolment
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident, create_home, create_staff
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from tests.abuse.world import World
from tests.conftest import CHEAP_PASSWORD_TOML, PASSWORD
from tests.hub.test_calls import request
from tests.telehub_cli import telehub
from web.http.keys import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOME = '=HYPERLINK("http://evil.example","Rose Court")'
RESIDENT = ("+SUM(1,2)", "Smith")
CLINICIAN = "@SUM(A1:A9) Evans"
GUEST = "=cmd|' /C calc'!A0"
RANGE = {"from": "2026-03-01", "to": "2026-03-31"}
OUTCOME = {"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "yes"}


async def evil_call(world: World) -> int:
    """A call from a home, about a resident, answered by a clinician, with a guest, all
    named as formulas: ended, with its outcome."""
    ctx = world.ctx
    home = await create_home(ctx, SYSTEM, NewHome.parse("EVL1", HOME, "3 Street", 5))
    details = ResidentDetails.parse(
        given_name=RESIDENT[0],
        family_name=RESIDENT[1],
        date_of_birth="1931-04-02",
        nhs_number="9434765927",
        today=ctx.clock.now().date(),
    )
    resident = await add_resident(ctx, SYSTEM, home.id, details)
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley")
    tablet = await enrolment.device_actor(ctx, (await enrolment.enrol(ctx, issued.code)).token)
    assert tablet is not None
    user = await create_staff(
        ctx, SYSTEM, NewStaff.parse("eve", CLINICIAN, "clinician", ["clinician"]), PASSWORD
    )
    nurse = Actor("staff", user.id, user.display_name, Role.CLINICIAN)
    call = await live.request_call(ctx, tablet, request(resident.id))
    await live.claim(ctx, nurse, call.id)
    _, link = await guest_services.invite(ctx, nurse, call.id, GuestKind.GP)
    guest, _ = await guest_services.claim(ctx, link, GUEST)
    await guest_services.admit(ctx, nurse, guest.id)
    await live.end(ctx, nurse, call.id)
    await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
    return call.id


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def runnable(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would run as a formula (a plain number is only a number)."""
    return [
        cell
        for row in rows
        for cell in row
        if cell.startswith(FORMULA_START) and not re.fullmatch(r"-?\d+(\.\d+)?", cell)
    ]


async def test_every_csv_download_carries_formulas_as_text(world: World) -> None:
    await evil_call(world)
    manager = world.people["hubmgr"]
    url = world.client.make_url
    page = await (await manager.session.get(url("/reports"), params=RANGE)).text()
    links = {h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*\.csv\?[^"]*)"', page)}
    assert len(links) >= 7, links  # six dashboard tables and the consultations
    seen: set[str] = set()
    failures = []
    for link in sorted(links):
        resp = await manager.session.get(url(link))
        assert resp.status == 200, (link, await resp.text())
        assert resp.content_type == "text/csv"
        assert resp.headers["Content-Disposition"].startswith("attachment;")  # never shown
        rows = cells(await resp.text())
        failures += [f"{link}: {cell!r}" for cell in runnable(rows)]
        seen.update(cell for row in rows for cell in row)
    assert failures == [], "\n".join(failures)
    # The names really were exported (as text), so the check above proves something.
    assert f"'{HOME}" in seen
    assert f"'{RESIDENT[0]} {RESIDENT[1]}" in seen
    assert f"'{CLINICIAN}" in seen
    assert any(cell.startswith(f"'{GUEST} (GP") for cell in seen)
    # ... and every CSV route of the router is among the downloads checked.
    routes = world.app.router.routes()
    csv_routes = {
        r.resource.canonical for r in routes if r.resource and ".csv" in r.resource.canonical
    }
    assert csv_routes == {urlsplit(link).path for link in links}


async def test_no_other_route_answers_csv(world: World) -> None:
    """Every route without a path parameter, asked by an admin (who may open the reports,
    the admin and the rota pages): only the exports above answer ``text/csv``."""
    admin = world.people["admin"]
    app: web.Application = world.app
    found = set()
    for route in app.router.routes():
        if route.method != "GET" or route.resource is None:
            continue
        canonical = route.resource.canonical
        if "{" in canonical or canonical.startswith(("/static", "/ws", "/logout")):
            continue
        resp = await admin.session.get(
            world.client.make_url(canonical), params=RANGE, allow_redirects=False
        )
        await resp.read()
        if resp.content_type == "text/csv":
            found.add(canonical)
    assert found == {"/reports.csv", "/reports.consultations.csv"}


def test_every_csv_writer_in_the_code_is_one_checked_here() -> None:
    """A new export written with the csv module must be added to this suite."""
    writers = {
        str(path.relative_to(ROOT))
        for folder in ("web", "hub", "rota", "signalling", "media")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"csv\.(DictWriter|writer)\(", path.read_text())
    }
    assert writers == {"web/reports/dashboard.py", "web/cli/commands.py"}


async def test_telehub_report_carries_formulas_as_text(world: World, tmp_path: Path) -> None:
    """The command line's CSV (``telehub report``) is guarded like the dashboard's."""
    await evil_call(world)
    database = world.app[SETTINGS].database.url
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[database]\nurl = "{database}"\n'
        f'[security]\nkeys_file = "{tmp_path / "keys.toml"}"\n{CHEAP_PASSWORD_TOML}'
    )
    args = ("--config", str(config), "report", "--from", RANGE["from"], "--to", RANGE["to"])
    # In a thread: the app serving this database carries on meanwhile (its transactions
    # must finish, or the command would wait on SQLite's lock).
    out = await asyncio.to_thread(telehub, *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = cells(out.stdout)
    assert runnable(rows) == []
    assert sorted(row[0] for row in rows[1:]) == sorted(["Rose Court", f"'{HOME}", "All"])
