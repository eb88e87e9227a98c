"""What the abuse suite attacks: the real app on a real migrated database, with two care
homes and everyone who may (or may not) reach them, and a record of what the database
held before an attack so that a test can show nothing was written.

The world is built once per test session (``seed``) and every test gets a copy of that
database (tests/abuse/conftest.py), as every test gets a copy of the migrated one.

- Rose Court (home A): Edna Smith; tablet A with a live call about her, answered by the
  clinician Cleo, and a guest (a GP) let into that call; tablet A2 (the same home's other
  tablet); an ended call of tablet A that still needs its outcome.
- Oak House (home B): Al Jones; tablet B with a call waiting in the queue.
- Hub staff: Cleo and Bob (clinicians), a hub-wide manager, Rose Court's own manager, an
  admin, and Hal, who has typed his password but not yet his two-factor code.
- Strangers: an anonymous browser (the attacker's), another (a visitor's), a revoked
  tablet and a forged tablet cookie.

Everyone is a ``Peer`` (tests/signalling/conftest.py): a browser with its own cookies
that can make HTTP requests and open the WebSocket.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pyotp
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.calls import closure, guest_services, live
from hub.calls.guests import GuestKind
from hub.clock import Clock
from hub.context import HubContext
from hub.people import auth, enrolment
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident, create_home, create_staff
from hub.people.homes import NewHome
from hub.people.residents import ResidentDetails
from hub.people.staff import NewStaff, StaffUser
from hub.store.tables import audit_events, metadata
from tests.conftest import PASSWORD
from tests.hub.test_calls import request
from tests.signalling.conftest import Peer
from web.http.keys import CTX

CSRF_MESSAGE = "this form has expired or did not come from telehub: reload the page and retry"
META_CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')
ABSENT = 999_999  # the id of an object that does not exist


@dataclass(frozen=True)
class Seed:
    """The world as stored: its objects' ids and everyone's cookies (the tokens a
    browser holds; the database keeps only their digests)."""

    ids: dict[str, int]
    cookies: dict[str, dict[str, str]]
    link: str  # an unused guest invitation link's token (for /join/{token})


@dataclass
class World:
    client: TestClient[web.Request, web.Application]
    app: web.Application
    ctx: HubContext  # the app's own context: its events reach the app's switchboard
    engine: AsyncEngine
    ids: dict[str, int]
    people: dict[str, Peer]
    link: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # CSRF tokens, by person

    @property
    def origin(self) -> str:
        return str(self.client.make_url("/")).rstrip("/")

    async def csrf(self, who: str) -> str:
        """``who``'s CSRF token, read from the page as a browser would."""
        if who not in self.tokens:
            peer = self.people[who]
            resp = await peer.session.get(self.client.make_url("/login"))
            found = META_CSRF.search(await resp.text())
            assert found, f"no CSRF token for {who} ({resp.status})"
            self.tokens[who] = found.group(1)
        return self.tokens[who]

    def path(self, canonical: str) -> str:
        """A route's path with every parameter named after an object of this world
        (home A's, where a home is involved); anything else an absent object."""
        values = {
            "home_id": self.ids["home_a"],
            "resident_id": self.ids["edna"],
            "call_id": self.ids["call_ended"],
            "device_id": self.ids["device_a2"],
            "user_id": self.ids["bob"],
            "guest_id": self.ids["guest"],
            "token": self.link,
        }
        return re.sub(r"{(\w+)}", lambda m: str(values.get(m.group(1), ABSENT)), canonical)


def world_of(
    seed: Seed,
    client: TestClient[web.Request, web.Application],
    engine: AsyncEngine,
    peers: list[Peer],
) -> World:
    people = {name: Peer(client, dict(c)) for name, c in seed.cookies.items()}
    peers.extend(people.values())  # closed after the test (the ``peers`` fixture)
    app = client.app
    assert app is not None
    return World(client, app, app[CTX], engine, dict(seed.ids), people, seed.link)


async def _staff(
    ctx: HubContext, username: str, role: Role, home_id: int | None = None
) -> StaffUser:
    skills = ["clinician"] if role is Role.CLINICIAN else []
    new = NewStaff.parse(username, username.capitalize(), role.value, skills, home_id=home_id)
    return await create_staff(ctx, SYSTEM, new, PASSWORD)


def _nurse(user: StaffUser) -> Actor:
    return Actor("staff", user.id, user.display_name, Role.CLINICIAN)


async def _tablet(ctx: HubContext, home_id: int, label: str) -> tuple[str, Actor]:
    issued = await enrolment.issue_code(ctx, SYSTEM, home_id, label)
    token = (await enrolment.enrol(ctx, issued.code)).token
    device = await enrolment.device_actor(ctx, token)
    assert device is not None
    return token, device


async def _resident(ctx: HubContext, clock: Clock, home_id: int, name: str, nhs: str) -> int:
    given, family = name.split()
    details = ResidentDetails.parse(
        given_name=given,
        family_name=family,
        date_of_birth="1931-04-02",
        nhs_number=nhs,
        today=clock.now().date(),
    )
    return (await add_resident(ctx, SYSTEM, home_id, details)).id


async def seed(ctx: HubContext) -> Seed:
    """Build the world into an empty, migrated database (once per test session: each
    test gets a copy)."""
    clock = ctx.clock
    home = await create_home(ctx, SYSTEM, NewHome.parse("AB123", "Rose Court", "1 Lane", 40))
    other = await create_home(ctx, SYSTEM, NewHome.parse("CD456", "Oak House", "2 Road", 30))
    edna = await _resident(ctx, clock, home.id, "Edna Smith", "9434765919")
    al = await _resident(ctx, clock, other.id, "Al Jones", "4010232137")
    cookies: dict[str, dict[str, str]] = {
        "anonymous": {"th_anon": "an-attackers-browser"},
        "visitor": {"th_anon": "someone-elses-browser"},  # not logged in, not the attacker
    }
    staff: dict[str, StaffUser] = {}
    for name, role, home_id in (
        ("cleo", Role.CLINICIAN, None),
        ("bob", Role.CLINICIAN, None),
        ("hubmgr", Role.MANAGER, None),
        ("homemgr", Role.MANAGER, home.id),
        ("admin", Role.ADMIN, None),
    ):
        staff[name] = await _staff(ctx, name, role, home_id)
        cookies[name] = {"th_session": await full_login(ctx, staff[name])}
    hal = await _staff(ctx, "hal", Role.CLINICIAN)
    half = await auth.login_password(ctx, "hal", PASSWORD)  # no two-factor code yet
    cookies["half-logged-in"] = {"th_session": half.token}

    token_a, tablet_a = await _tablet(ctx, home.id, "Trolley A")
    token_a2, tablet_a2 = await _tablet(ctx, home.id, "Lounge A")
    token_b, tablet_b = await _tablet(ctx, other.id, "Trolley B")
    revoked, revoked_device = await _tablet(ctx, home.id, "Lost")
    await enrolment.revoke(ctx, SYSTEM, revoked_device.id)
    cookies |= {
        "tablet A": {"th_device": token_a},
        "tablet A2": {"th_device": token_a2},
        "tablet B": {"th_device": token_b},
        "revoked tablet": {"th_device": revoked},
        "forged tablet": {"th_device": "f" * 43},
    }

    cleo = _nurse(staff["cleo"])
    ended = await live.request_call(ctx, tablet_a, request(edna))
    await live.claim(ctx, cleo, ended.id)
    await live.end(ctx, cleo, ended.id)
    # Put off, so that Cleo may answer the next call (the outcome gate) and still record it.
    await closure.defer_outcome(ctx, cleo, ended.id, "waiting for the GP's letter")
    call = await live.request_call(ctx, tablet_a, request(edna))
    await live.claim(ctx, cleo, call.id)
    _, gp_link = await guest_services.invite(ctx, cleo, call.id, GuestKind.GP)
    guest, guest_token = await guest_services.claim(ctx, gp_link, "Dr Guest")
    await guest_services.admit(ctx, cleo, guest.id)
    _, unused_link = await guest_services.invite(ctx, cleo, call.id, GuestKind.FAMILY)
    cookies["guest"] = {"th_guest": guest_token}
    waiting = await live.request_call(ctx, tablet_b, request(al))

    ids = {
        "home_a": home.id,
        "home_b": other.id,
        "edna": edna,
        "al": al,
        "call_live": call.id,
        "call_ended": ended.id,
        "call_waiting_b": waiting.id,
        "device_a": tablet_a.id,
        "device_a2": tablet_a2.id,
        "device_b": tablet_b.id,
        "guest": guest.id,
        "hal": hal.id,
        **{name: user.id for name, user in staff.items()},
    }
    return Seed(ids, cookies, unused_link)


async def full_login(ctx: HubContext, user: StaffUser) -> str:
    """Password and two-factor code (set up on the way): a full session's token. The
    code is this time step's, so it counts as used (a replay of it is refused)."""
    step = await auth.login_password(ctx, user.username, PASSWORD)
    async with ctx.uow() as uow:
        creds = await uow.staff.credentials(user.id)
    assert creds.totp_secret_sealed is not None
    secret = ctx.keyring.open(creds.totp_secret_sealed, auth.totp_context(user.id))
    code = pyotp.TOTP(secret).at(ctx.clock.now())
    return (await auth.login_totp(ctx, step.token, code)).token


# -- what the database holds ----------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every row of every table (as text, counted), and the newest audit event."""

    rows: dict[str, Counter[str]]
    audit_seq: int


async def snapshot(engine: AsyncEngine) -> Snapshot:
    async with engine.connect() as conn:
        rows = {
            table.name: Counter(repr(tuple(row)) for row in await conn.execute(select(table)))
            for table in metadata.sorted_tables
        }
        seq = (await conn.execute(select(audit_events.c.seq).order_by(-audit_events.c.seq))).first()
    return Snapshot(rows, seq[0] if seq else 0)


async def written_since(engine: AsyncEngine, before: Snapshot) -> tuple[set[str], list[str]]:
    """The tables whose rows changed since ``before``, and the audit events appended
    (their actions, oldest first)."""
    after = await snapshot(engine)
    changed = {name for name, rows in after.rows.items() if rows != before.rows[name]}
    async with engine.connect() as conn:
        actions = [
            action
            for (action,) in await conn.execute(
                select(audit_events.c.action)
                .where(audit_events.c.seq > before.audit_seq)
                .order_by(audit_events.c.seq)
            )
        ]
    return changed, actions


async def assert_nothing_written(
    engine: AsyncEngine,
    before: Snapshot,
    audited: tuple[str, ...] = (),
    counted: tuple[str, ...] = (),
) -> None:
    """No table changed, except the audit trail when the refusal itself is audited
    (``audited``: the actions it must have appended, in order) and the tables named in
    ``counted`` (where a refusal is counted, such as wrong two-factor codes)."""
    changed, actions = await written_since(engine, before)
    assert actions == list(audited), f"audit events appended: {actions}"
    allowed = ({"audit_events", "audit_head"} if audited else set()) | set(counted)
    assert changed <= allowed, f"written to: {sorted(changed - allowed)}"
    assert set(counted) <= changed, f"not counted in: {sorted(set(counted) - changed)}"
