"""Admin pages over HTTP: homes, residents (form and CSV), tablets, staff, audit."""

from __future__ import annotations

import re

import aiohttp
import pytest

from tests.conftest import PASSWORD
from tests.web.helpers import csrf, login, post_form

HEADER = "given_name,family_name,date_of_birth,nhs_number,dnacpr,end_of_life,allergies,alerts\n"


@pytest.fixture
async def admin_client(client, ctx, clock, admin_user):  # type: ignore[no-untyped-def]
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    return client


async def test_create_home_and_resident(admin_client, ctx) -> None:
    resp = await post_form(
        admin_client,
        "/admin/homes",
        {"code": "vna3k", "name": "Willow Lodge", "address": "3 Way", "beds": "45"},
        token_from="/admin",
    )
    assert resp.status == 303
    home_url = resp.headers["Location"]
    resp = await post_form(
        admin_client,
        f"{home_url}/residents",
        {
            "given_name": "Edna",
            "family_name": "Smith",
            "date_of_birth": "1931-04-02",
            "nhs_number": "943 476 5919",
            "dnacpr": "on",
            "allergies": "Latex",
        },
        token_from=home_url,
    )
    assert resp.status == 303
    page = await (await admin_client.get(home_url)).text()
    assert "Willow Lodge" in page and "Edna Smith" in page and "943 476 5919" in page
    assert "DNACPR" in page


async def test_invalid_nhs_number_shows_error_and_keeps_input(admin_client, home) -> None:
    url = f"/admin/homes/{home.id}"
    resp = await post_form(
        admin_client,
        f"{url}/residents",
        {
            "given_name": "Edna",
            "family_name": "Smith",
            "date_of_birth": "1931-04-02",
            "nhs_number": "9434765918",
        },
        token_from=url,
    )
    assert resp.status == 422
    body = await resp.text()
    assert "NHS number 9434765918 fails its modulus-11 check digit" in body
    assert 'value="Edna"' in body


async def test_duplicate_resident_is_409(admin_client, home) -> None:
    url = f"/admin/homes/{home.id}"
    form = {
        "given_name": "Edna",
        "family_name": "Smith",
        "date_of_birth": "1931-04-02",
        "nhs_number": "9434765919",
    }
    assert (await post_form(admin_client, f"{url}/residents", form, token_from=url)).status == 303
    resp = await post_form(admin_client, f"{url}/residents", form, token_from=url)
    assert resp.status == 409 and "already exists" in await resp.text()


async def upload(client, home_id: int, content: str):  # type: ignore[no-untyped-def]
    url = f"/admin/homes/{home_id}"
    data = aiohttp.FormData()
    data.add_field("csrf_token", await csrf(client, url))
    data.add_field("file", content.encode(), filename="residents.csv", content_type="text/csv")
    return await client.post(f"{url}/residents/import", data=data)


async def test_csv_upload_bad_rows_line_numbered_nothing_imported(admin_client, ctx, home) -> None:
    bad = HEADER + (
        "Edna,Smith,1931-04-02,9434765919,,,,\n"
        "Bad,Number,1931-04-02,9434765918,,,,\n"
        "Al,Jones,not-a-date,4010232137,,,,\n"
    )
    resp = await upload(admin_client, home.id, bad)
    assert resp.status == 422
    body = await resp.text()
    assert "Line 3: NHS number 9434765918 fails its modulus-11 check digit" in body
    assert "Line 4: date of birth must be a date like 1934-05-21" in body
    async with ctx.uow() as uow:
        assert await uow.residents.for_home(home.id) == []
    good = HEADER + "Edna,Smith,1931-04-02,9434765919,yes,,Penicillin,\n"
    resp = await upload(admin_client, home.id, good)
    assert resp.status == 200 and "1 residents imported" in await resp.text()


async def test_csv_upload_not_utf8(admin_client, home) -> None:
    resp = await upload(admin_client, home.id, "")
    assert resp.status == 422
    data = aiohttp.FormData()
    data.add_field("csrf_token", await csrf(admin_client, f"/admin/homes/{home.id}"))
    data.add_field("file", b"\xff\xfe\x00bad", filename="r.csv", content_type="text/csv")
    resp = await admin_client.post(f"/admin/homes/{home.id}/residents/import", data=data)
    assert resp.status == 422 and "not UTF-8" in await resp.text()


async def test_issue_code_then_revoke_tablet(admin_client, ctx, home) -> None:
    url = f"/admin/homes/{home.id}"
    resp = await post_form(admin_client, f"{url}/codes", {"label": "Lounge"}, token_from=url)
    assert resp.status == 303 and resp.headers["Location"] == f"{url}#tablets"
    page = await (await admin_client.get(url)).text()
    code = re.search(r'data-testid="enrolment-code">([A-Z0-9-]+)<', page)
    assert code is not None and "Lounge" in page
    # Shown once: a reload shows the page without it, and issues nothing.
    again = await (await admin_client.get(url)).text()
    assert 'data-testid="enrolment-code"' not in again
    async with ctx.uow() as uow:
        assert len(await uow.devices.codes(home.id)) == 1
    from hub.people import enrolment

    enrolled = await enrolment.enrol(ctx, code.group(1))
    resp = await post_form(
        admin_client, f"/admin/devices/{enrolled.device.id}/revoke", {}, token_from=url
    )
    assert resp.status == 303
    assert await enrolment.device_actor(ctx, enrolled.token) is None
    assert "revoked" in await (await admin_client.get(url)).text()


async def test_add_staff_and_audit_page(admin_client) -> None:
    resp = await post_form(
        admin_client,
        "/admin/staff",
        {
            "username": "nurse7",
            "display_name": "Nia Nurse",
            "role": "clinician",
            "skills": "prescriber",
            "password": "a long enough password",
        },
        token_from="/admin/staff",
    )
    assert resp.status == 200 and "nurse7 added" in await resp.text()
    page = await (await admin_client.get("/admin/audit")).text()
    assert "Hash chain intact" in page and "staff.created" in page


async def test_clinician_cannot_open_admin(client, ctx, clock, clinician_user) -> None:
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    resp = await client.get("/admin")
    assert resp.status == 403
    assert (await client.get("/hub")).status == 200


async def test_a_tampered_or_foreign_code_message_shows_nothing(
    admin_client, home, other_home
) -> None:
    from web.http.flash import FLASH_COOKIE

    url = f"/admin/homes/{home.id}"
    resp = await post_form(admin_client, f"{url}/codes", {"label": "Lounge"}, token_from=url)
    sealed = resp.cookies[FLASH_COOKIE].value
    assert resp.cookies[FLASH_COOKIE]["httponly"] and resp.cookies[FLASH_COOKIE]["path"] == url
    await admin_client.get(url)  # shown, and the cookie deleted
    other = f"/admin/homes/{other_home.id}"  # sealed for another page: does not open there
    for value, path in ((sealed[:-4] + "AAAA", url), ("not-base64!", url), (sealed, other)):
        page = await admin_client.get(path, headers={"Cookie": f"{FLASH_COOKIE}={value}"})
        assert page.status == 200
        assert 'data-testid="enrolment-code"' not in await page.text()
    replayed = await admin_client.get(url, headers={"Cookie": f"{FLASH_COOKIE}={sealed}"})
    assert 'data-testid="enrolment-code"' in await replayed.text()  # the untampered one opens
