"""Login and tablet enrolment are slowed per client address, never by locking an
account, and the answers do not tell known usernames from unknown ones."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from hub.people import enrolment
from hub.people.access import SYSTEM
from tests.conftest import PASSWORD
from tests.web.helpers import CSRF, post_form

TOKEN = re.compile(r'name="csrf_token" value="[0-9a-f]+"|content="[0-9a-f]{64}"')


class Elsewhere:
    """A browser on another address (127.0.0.2: all of 127/8 is loopback on Linux)."""

    def __init__(self, client: TestClient, session: aiohttp.ClientSession) -> None:
        self.base = f"http://{client.server.host}:{client.server.port}"
        self.session = session

    async def post_form(self, path: str, data: dict[str, str]) -> aiohttp.ClientResponse:
        page = await (await self.session.get(self.base + path)).text()
        found = CSRF.search(page)
        assert found, page
        return await self.session.post(
            self.base + path, data={**data, "csrf_token": found.group(1)}, allow_redirects=False
        )


@pytest.fixture
async def elsewhere(client: TestClient) -> AsyncIterator[Elsewhere]:
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as session:
        yield Elsewhere(client, session)


async def test_a_stranger_cannot_lock_a_clinician_out(client, admin_user, elsewhere) -> None:
    for _ in range(5):
        resp = await post_form(client, "/login", {"username": "ada", "password": "nope"})
        assert resp.status == 401
    resp = await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    assert resp.status == 429 and resp.headers["Retry-After"] == "31"
    assert "too many failed attempts: try again in 31 seconds" in await resp.text()
    # The clinician, at their own desk, is not locked out.
    resp = await elsewhere.post_form("/login", {"username": "ada", "password": PASSWORD})
    assert resp.status == 303 and resp.headers["Location"].startswith("/login/setup")


async def test_known_and_unknown_usernames_answer_alike(client, admin_user) -> None:
    for attempt in range(7):
        known = await post_form(client, "/login", {"username": "ada", "password": "nope"})
        unknown = await post_form(client, "/login", {"username": "adb", "password": "nope"})
        assert known.status == unknown.status == (401 if attempt < 5 else 429)
        assert known.headers.get("Retry-After") == unknown.headers.get("Retry-After")
        shown = [
            # The token out first: a random token may contain the username's letters.
            TOKEN.sub("", await r.text()).replace(u, "NAME")
            for r, u in ((known, "ada"), (unknown, "adb"))
        ]
        assert shown[0] == shown[1]


async def test_many_usernames_from_one_address_are_slowed_too(client, clock, admin_user) -> None:
    for i in range(20):
        resp = await post_form(client, "/login", {"username": f"user{i}", "password": "nope"})
        assert resp.status == 401
    resp = await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    assert resp.status == 429 and resp.headers["Retry-After"] == "31"
    clock.advance(timedelta(seconds=31))
    resp = await post_form(client, "/login", {"username": "ada", "password": PASSWORD})
    assert resp.status == 303


async def test_enrolment_codes_cannot_be_guessed_quickly(
    client, ctx, clock, home, elsewhere
) -> None:
    for _ in range(10):
        resp = await post_form(client, "/enrol", {"code": "ABCD-EFGH"})
        assert resp.status == 401
        assert "that enrolment code is not known" in await resp.text()
    issued = await enrolment.issue_code(ctx, SYSTEM, home.id, "Trolley")
    resp = await post_form(client, "/enrol", {"code": issued.code})
    assert resp.status == 429 and resp.headers["Retry-After"] == "31"
    assert "too many wrong enrolment codes: try again in 31 seconds" in await resp.text()
    assert resp.headers["X-Frame-Options"] == "DENY"
    # Another address (another care home) enrols at once; this one after the wait.
    other = await enrolment.issue_code(ctx, SYSTEM, home.id, "Lounge")
    assert (await elsewhere.post_form("/enrol", {"code": other.code})).status == 303
    clock.advance(timedelta(seconds=31))
    resp = await post_form(client, "/enrol", {"code": issued.code})
    assert resp.status == 303 and resp.headers["Location"] == "/tablet"
