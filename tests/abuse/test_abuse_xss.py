"""Script in every free-text field that telehub renders: stored (names of homes,
residents, staff, tablets and guests; allergies and alerts; clinical notes; the reasons
given for deferring and for amending an outcome) and reflected (a search, a username,
an enrolment code, a guest's name, a report table's name). Each field gets its own
payload; every page that shows the field must show it escaped, never as markup, and
every page must carry a Content-Security-Policy that forbids inline script. JSON that
carries the payloads is served as JSON (never sniffed as HTML), and the browser code
only ever puts text into the page as text (no ``innerHTML`` and the like).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import escape

from hub.calls import closure, guest_services, live, notes
from hub.calls.guests import GuestKind
from hub.people import enrolment
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident, create_home, create_staff
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff
from tests.abuse.world import World, full_login
from tests.conftest import PASSWORD
from tests.hub.test_calls import request
from tests.signalling.conftest import Peer
from web.http.security import CSP

STATIC_JS = Path(__file__).resolve().parents[2] / "web" / "static" / "js"
OUTCOME = {"outcome": "managed_advice", "follow_up": "none", "admission_judgement": "yes"}


def payload(n: int) -> str:
    """Breaks out of an attribute (either quote) and of text, then runs a script."""
    return f"\"'><script>alert({n})</script>"


FIELDS = [
    "home name",
    "home address",
    "resident given name",
    "resident family name",
    "allergies",
    "other alerts",
    "staff display name",
    "tablet label",
    "guest name",
    "note",
    "deferral reason",
    "amendment reason",
]
EVIL = {field: payload(n) for n, field in enumerate(FIELDS, start=1)}


@dataclass(frozen=True)
class Page:
    who: str
    path: str
    shows: tuple[str, ...]  # the fields this page renders


async def evil_world(world: World) -> tuple[dict[str, int], dict[str, Peer]]:
    """Home "Evil" with every free text a payload: its resident, tablet, a clinician
    (Eve) who took a call about the resident with a guest in it, wrote a note, deferred
    the outcome, recorded it and then amended it."""
    ctx, clock = world.ctx, world.ctx.clock
    home = await create_home(
        ctx, SYSTEM, NewHome.parse("EVL1", EVIL["home name"], EVIL["home address"], 5)
    )
    details = ResidentDetails.parse(
        given_name=EVIL["resident given name"],
        family_name=EVIL["resident family name"],
        date_of_birth="1931-04-02",
        nhs_number="9434765927",
        allergies=EVIL["allergies"],
        alerts=EVIL["other alerts"],
        today=clock.now().date(),
    )
    resident = await add_resident(ctx, SYSTEM, home.id, details)
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, EVIL["tablet label"])
    tablet_token = (await enrolment.enrol(ctx, issued.code)).token
    tablet = await enrolment.device_actor(ctx, tablet_token)
    assert tablet is not None
    eve = await create_staff(
        ctx,
        SYSTEM,
        NewStaff.parse("eve", EVIL["staff display name"], Role.CLINICIAN.value, ["clinician"]),
        PASSWORD,
    )
    nurse = Actor("staff", eve.id, eve.display_name, Role.CLINICIAN)
    call = await live.request_call(ctx, tablet, request(resident.id))
    await live.claim(ctx, nurse, call.id)
    _, link = await guest_services.invite(ctx, nurse, call.id, GuestKind.FAMILY)
    guest, _ = await guest_services.claim(ctx, link, EVIL["guest name"])
    await guest_services.admit(ctx, nurse, guest.id)
    await notes.add(ctx, nurse, call.id, EVIL["note"])
    await live.end(ctx, nurse, call.id)  # (a guest's own pages are checked while live, below)
    await closure.defer_outcome(ctx, nurse, call.id, EVIL["deferral reason"])
    await closure.record_outcome(ctx, nurse, call.id, OUTCOME)
    amended = {**OUTCOME, "outcome": "gp_in_hours"}
    await closure.record_outcome(ctx, nurse, call.id, amended, EVIL["amendment reason"])
    people = {
        "eve": Peer(world.client, {"th_session": await full_login(ctx, eve)}),
        "evil tablet": Peer(world.client, {"th_device": tablet_token}),
    }
    ids = {"home": home.id, "resident": resident.id, "call": call.id, "eve": eve.id}
    return ids, people


def pages(ids: dict[str, int]) -> list[Page]:
    home, resident, call = ids["home"], ids["resident"], ids["call"]
    names = ("resident given name", "resident family name")
    clinical = ("allergies", "other alerts")
    return [
        Page("admin", "/admin", ("home name",)),
        Page("admin", f"/admin/homes/{home}", ("home name", "tablet label", *names)),
        Page("admin", f"/admin/residents/{resident}", (*names, *clinical)),
        Page("admin", "/admin/staff", ("staff display name",)),
        Page("admin", f"/admin/staff/{ids['eve']}", ("staff display name",)),
        Page("eve", "/hub", ("home name", "home address")),
        Page("eve", f"/hub/homes/{home}", ("home name", *names)),
        Page("eve", f"/residents/{resident}", ("home name", *names, *clinical, "note")),
        Page(
            "eve",
            f"/calls/{call}",
            (
                "home name",
                *names,
                "staff display name",
                "guest name",
                "note",
                "deferral reason",
                "amendment reason",
            ),
        ),
        Page("cleo", "/console", ("staff display name",)),
        Page("hubmgr", f"/reports?home={home}", ("home name",)),
        Page("hubmgr", f"/reports/monthly?home={home}", ("home name",)),
        Page("evil tablet", "/tablet", ("home name",)),
        Page("evil tablet", "/tablet/call", names),
        Page("evil tablet", f"/tablet/call/{resident}", names),
        Page("evil tablet", f"/tablet/calls/{call}", names),
    ]


def check_page(body: str, headers: dict[str, str], shows: tuple[str, ...]) -> list[str]:
    """What is wrong with a page: a payload as markup, a field not shown escaped, or a
    policy that would let inline script run."""
    wrong = [f"{field} as markup" for field, evil in EVIL.items() if evil in body]
    wrong += [
        f"{field} not shown escaped" for field in shows if str(escape(EVIL[field])) not in body
    ]
    if "<script>alert(" in body:
        wrong.append("a <script> element of ours")
    policy = headers.get("Content-Security-Policy", "")
    if policy != CSP or "'unsafe-inline'" in policy or "script-src 'self'" not in policy:
        wrong.append(f"Content-Security-Policy {policy!r}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        wrong.append("no nosniff")
    return wrong


async def test_stored_free_text_is_escaped_on_every_page_that_shows_it(world: World) -> None:
    ids, extra = await evil_world(world)
    people = {**world.people, **extra}
    failures = []
    shown: set[str] = set()
    try:
        for page in pages(ids):
            resp = await people[page.who].session.get(
                world.client.make_url(page.path), allow_redirects=False
            )
            body = await resp.text()
            assert resp.status == 200, (page, body[:300])
            failures += [
                f"{page.path} as {page.who}: {w}"
                for w in check_page(body, dict(resp.headers), page.shows)
            ]
            shown.update(page.shows)
    finally:
        for peer in extra.values():
            await peer.close()
    assert failures == [], "\n".join(failures)
    assert shown == set(EVIL)  # every field is checked on some page


async def test_a_guests_own_pages_and_json_show_their_name_as_text(world: World) -> None:
    """The guest sees their name in the lobby; their JSON is JSON, never sniffed as HTML."""
    nurse = Actor("staff", world.ids["cleo"], "Cleo", Role.CLINICIAN)
    _, link = await guest_services.invite(world.ctx, nurse, world.ids["call_live"], GuestKind.GP)
    _, token = await guest_services.claim(world.ctx, link, EVIL["guest name"])
    guest = Peer(world.client, {"th_guest": token})
    try:
        resp = await guest.session.get(world.client.make_url("/guest"))
        assert check_page(await resp.text(), dict(resp.headers), ("guest name",)) == []
        resp = await guest.session.get(world.client.make_url("/api/guest"))
        assert resp.content_type == "application/json"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert (await resp.json())["name"] == EVIL["guest name"]  # kept exactly, as data
    finally:
        await guest.close()


REFLECTED = payload(99)


async def test_reflected_input_is_escaped(world: World) -> None:
    """What a visitor typed, shown back to them (a crafted link could type it for them)."""
    visitor, cleo, tablet = (world.people[w] for w in ("visitor", "cleo", "tablet A"))
    url = world.client.make_url
    token = await world.csrf("visitor")
    responses = {
        "a search on the hub": await cleo.session.get(
            url(f"/hub/homes/{world.ids['home_a']}"), params={"q": REFLECTED}
        ),
        "a search on the tablet": await tablet.session.get(url("/tablet"), params={"q": REFLECTED}),
        "a username that failed": await visitor.session.post(
            url("/login"), data={"username": REFLECTED, "password": "x", "csrf_token": token}
        ),
        "an enrolment code that failed": await visitor.session.post(
            url("/enrol"), data={"code": REFLECTED, "csrf_token": token}
        ),
        "a guest's name that was refused": await visitor.session.post(
            url(f"/join/{world.link}"), data={"name": REFLECTED + "x" * 60, "csrf_token": token}
        ),
        "a report table that does not exist": await world.people["hubmgr"].session.get(
            url("/reports.csv"), params={"table": REFLECTED}
        ),
    }
    failures = []
    for what, resp in responses.items():
        body = await resp.text()
        # Shortened (an enrolment code is cut to 20 characters) or quoted (a table name
        # is named in the error with repr), the start of the payload is still there.
        if "\"'>" in body or "<script>alert(" in body:
            failures.append(f"{what}: shown as markup ({resp.status})")
        elif not any(proof in body for proof in ("&#34;&#39;&gt;", "&lt;script&gt;alert(")):
            failures.append(f"{what}: not shown at all ({resp.status}): the test proves nothing")
        if resp.headers.get("Content-Security-Policy") != CSP:
            failures.append(f"{what}: Content-Security-Policy missing")
    assert failures == [], "\n".join(failures)


# Every way a script can turn a string into markup or code.
HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\(|"
    r"setTimeout\(\s*['\"`]|setInterval\(\s*['\"`]|\.setAttribute\(\s*['\"]on"
)


def test_the_browser_code_puts_text_into_pages_only_as_text() -> None:
    """Names, notes and reasons reach the console, the tablet and the guest's page as
    JSON over HTTP and the WebSocket; the browser code must never parse them as HTML."""
    scripts = sorted(STATIC_JS.rglob("*.js"))
    assert len(scripts) > 10
    found = [
        f"{path.relative_to(STATIC_JS)}:{n}: {line.strip()}"
        for path in scripts
        for n, line in enumerate(path.read_text().splitlines(), start=1)
        if HTML_SINKS.search(line)
    ]
    assert found == []
