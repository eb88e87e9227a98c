"""Importing call logs from the web: streamed upload, NDJSON progress, result page."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from hub.calls import imports
from hub.calls.imports import import_calls
from hub.people.access import SYSTEM
from tests.conftest import PASSWORD
from tests.hub.test_call_import import GOOD, HEADER, hourly_rows, log
from tests.hub.test_calls import edna
from tests.web.helpers import csrf, login, login_home_manager
from web.calls import import_page
from web.calls.call_log import COLUMNS

URL = "/admin/import-calls"
NDJSON = "application/x-ndjson"
BAD_HOME = "ZZZ99,9434765919,,2026-02-03T10:00:00Z,,,fall,,,,\n"
BAD_NHS = "AB123,9434765918,,2026-02-03T11:00:00Z,,,fall,,,,\n"


def many(n: int) -> str:
    """``n`` good rows for Edna, an hour apart in January 2026."""
    return hourly_rows("AB123", ["9434765919"], datetime(2026, 1, 1, tzinfo=UTC), n)


@pytest.fixture
async def admin_client(client, ctx, clock, admin_user, home):  # type: ignore[no-untyped-def]
    await edna(ctx, clock, home)
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    return client


async def post(
    client: Any,
    content: bytes | None,
    *,
    skip: bool = False,
    script: bool = True,
    token: bool = True,
    filename: str = "calls.csv",
) -> Any:
    """Post like the page's script (token in a header, NDJSON wanted) or like a plain
    form (token as the first field)."""
    value = await csrf(client, URL)
    data = aiohttp.FormData()
    if token and not script:
        data.add_field("csrf_token", value)
    if content is not None:
        data.add_field("file", content, filename=filename, content_type="text/csv")
    if skip:
        data.add_field("skip_invalid", "on")
    data.add_field("note", "x")  # an unrelated field is skipped
    headers = {"Accept": f"{NDJSON}, application/json"} if script else {}
    if token and script:
        headers["X-CSRF-Token"] = value
    if content is None:  # still multipart, like a browser with no file chosen
        data.add_field("file", b"", filename="", content_type="application/octet-stream")
    return await client.post(URL, data=data, headers=headers)


async def ndjson(resp: Any) -> list[dict[str, Any]]:
    assert resp.content_type == NDJSON, await resp.text()
    return [json.loads(line) for line in (await resp.text()).splitlines()]


async def stored(ctx: Any) -> int:
    async with ctx.uow() as uow:
        return int(await uow.consultations.count())


async def imported_events(ctx: Any) -> list[dict[str, Any]]:
    async with ctx.uow() as uow:
        return [e.detail for e in await uow.audit.recent() if e.action == "consultation.imported"]


async def test_page_is_linked_and_explains_the_columns(admin_client) -> None:
    index = await (await admin_client.get("/admin")).text()
    assert 'href="/admin/import-calls"' in index
    resp = await admin_client.get(URL)
    assert resp.status == 200
    page = await resp.text()
    assert all(f"<code>{column}</code>" in page for column in COLUMNS)  # all explained
    assert 'name="skip_invalid"' in page and "checked" not in page.split('"skip_invalid"')[1][:30]
    assert 'enctype="multipart/form-data"' in page and "js/import_calls.js" in page
    # The token comes before the file: the upload is read as a stream.
    assert page.index('name="csrf_token"', page.index('id="import-form"')) < page.index(
        'name="file"'
    )
    assert "<script>" not in page  # no inline script (the CSP forbids it)


async def test_good_file_streams_progress_then_done(admin_client, ctx, monkeypatch) -> None:

    monkeypatch.setattr(import_page, "PROGRESS_EVERY_S", 0.001)
    resp = await post(admin_client, (HEADER + GOOD + many(300)).encode())
    assert resp.status == 200
    lines = await ndjson(resp)
    progress, done = lines[:-1], lines[-1]
    assert progress[0] == {"type": "progress", "checked": 0, "total": 302}
    assert all(p["type"] == "progress" and p["total"] == 302 for p in progress)
    checked = [p["checked"] for p in progress]
    assert checked == sorted(checked) and checked[-1] <= 302 and len(progress) >= 2
    assert done == {
        "type": "done",
        "imported": 302,
        "skipped": [],
        "skipped_count": 0,
        "duplicates": [],
        "duplicates_count": 0,
        "summary": "Imported 302 calls.",
    }
    assert await stored(ctx) == 302
    assert await imported_events(ctx) == [
        {"count": 302, "skipped": 0, "duplicates": 0, "source": "import-calls"}
    ]
    # The dashboard counts them (the report rollup is kept by the import).
    resp = await admin_client.get("/reports.json?from=2026-01-01&to=2026-02-28")
    total = (await resp.json())[-1]
    assert total["home"] == "All" and total["calls"] == 302
    assert total["avoided_ae_attendances"] == 301  # one of GOOD's rows went to A&E
    page = await (await admin_client.get("/reports?from=2026-01-01&to=2026-02-28")).text()
    assert "Rose Court" in page and ">302<" in page


async def test_bad_rows_all_or_nothing_are_refused(admin_client, ctx) -> None:
    resp = await post(admin_client, (HEADER + GOOD + BAD_HOME + BAD_NHS).encode())
    assert resp.status == 200
    lines = await ndjson(resp)
    assert lines[-1] == {
        "type": "refused",
        "errors": [
            [4, "unknown care home ZZZ99"],
            [5, "NHS number 9434765918 fails its modulus-11 check digit"],
        ],
        "count": 2,
    }
    assert await stored(ctx) == 0 and await imported_events(ctx) == []


async def test_refused_errors_are_capped_at_200_with_the_count(admin_client, ctx) -> None:
    resp = await post(admin_client, (HEADER + BAD_NHS.replace("T11", "T12") * 250).encode())
    refused = (await ndjson(resp))[-1]
    assert refused["type"] == "refused" and refused["count"] == 250
    assert len(refused["errors"]) == 200 and refused["errors"][0][0] == 2
    assert await stored(ctx) == 0


async def test_skip_invalid_imports_the_good_rows(admin_client, ctx) -> None:
    resp = await post(admin_client, (HEADER + GOOD + BAD_NHS).encode(), skip=True)
    done = (await ndjson(resp))[-1]
    assert done == {
        "type": "done",
        "imported": 2,
        "skipped": [[4, "NHS number 9434765918 fails its modulus-11 check digit"]],
        "skipped_count": 1,
        "duplicates": [],
        "duplicates_count": 0,
        "summary": "Imported 2 calls; skipped 1 bad row.",
    }
    assert await stored(ctx) == 2
    assert await imported_events(ctx) == [
        {"count": 2, "skipped": 1, "duplicates": 0, "source": "import-calls"}
    ]


async def test_header_problems_are_refused_on_line_1(admin_client, ctx) -> None:
    resp = await post(admin_client, b"home_code,when,reason\nAB123,x,fall\n")
    refused = (await ndjson(resp))[-1]
    assert refused["type"] == "refused" and refused["errors"][0][0] == 1
    assert "unknown column(s): when" in refused["errors"][0][1]


async def test_not_utf8_is_a_clear_error(admin_client, ctx) -> None:
    latin1 = (HEADER + GOOD.replace("Edna Smith", "Edná Smith")).encode("latin-1")
    resp = await post(admin_client, latin1)
    assert resp.status == 422
    [line] = await ndjson(resp)
    assert line["type"] == "error" and "not UTF-8" in line["message"]
    resp = await post(admin_client, latin1, script=False)
    assert resp.status == 422 and "not UTF-8" in await resp.text()
    assert await stored(ctx) == 0


async def test_a_utf8_bom_is_fine(admin_client, ctx) -> None:
    resp = await post(admin_client, ("\ufeff" + HEADER + GOOD).encode())
    assert (await ndjson(resp))[-1]["imported"] == 2


async def test_no_file_is_422(admin_client) -> None:
    resp = await post(admin_client, None)
    assert resp.status == 422
    assert (await ndjson(resp))[0]["message"] == "choose a CSV file to upload"
    resp = await post(admin_client, None, script=False)
    assert resp.status == 422 and "choose a CSV file to upload" in await resp.text()
    resp = await post(admin_client, b"", script=False)
    assert resp.status == 422 and "the file is empty" in await resp.text()


async def test_too_large_is_413(admin_client, ctx, monkeypatch) -> None:

    monkeypatch.setattr(import_page, "MAX_IMPORT_BYTES", 2 * 1024 * 1024)
    big = (HEADER + many(30_000)).encode()
    assert len(big) > 2 * 1024 * 1024
    resp = await post(admin_client, big)
    assert resp.status == 413
    assert "larger than 2 MB" in (await ndjson(resp))[0]["message"]
    resp = await post(admin_client, big, script=False)
    assert resp.status == 413 and "larger than 2 MB" in await resp.text()
    assert await stored(ctx) == 0


async def test_uploads_larger_than_the_apps_body_limit_work(
    aiohttp_client, settings, engine, clock, ctx, admin_user, home
) -> None:
    """The app's client_max_size does not apply to this route, with or without script."""
    from web.app import create_app

    small = replace(settings, server=replace(settings.server, max_body_bytes=4096))
    client = await aiohttp_client(create_app(small, clock=clock))
    await edna(ctx, clock, home)
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    body = (HEADER + many(200)).encode()
    assert len(body) > 4 * 4096
    resp = await post(client, body, script=False)
    assert resp.status == 200 and "Imported 200 calls" in await resp.text()
    resp = await post(client, body)  # the same calls again: all already stored
    done = (await ndjson(resp))[-1]
    assert done["type"] == "done" and done["imported"] == 0 and done["skipped_count"] == 0
    assert done["duplicates_count"] == 200 and len(done["duplicates"]) == 200
    assert done["duplicates"][0] == [2, "this call is already stored"]
    assert done["summary"] == "Imported 0 calls; skipped 200 duplicates."


@pytest.mark.parametrize("who", ["clinician", "manager"])
async def test_other_roles_get_403(client, ctx, clock, clinician_user, home, who) -> None:
    if who == "clinician":
        await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    else:
        await login_home_manager(client, ctx, clock, home.id)
    assert (await client.get(URL)).status == 403
    token = await csrf(client, "/hub")
    data = aiohttp.FormData()
    data.add_field("file", (HEADER + GOOD).encode(), filename="c.csv", content_type="text/csv")
    resp = await client.post(URL, data=data, headers={"X-CSRF-Token": token})
    assert resp.status == 403
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", (HEADER + GOOD).encode(), filename="c.csv", content_type="text/csv")
    assert (await client.post(URL, data=form)).status == 403
    assert "/admin/import-calls" not in await (await client.get("/hub")).text()
    assert await stored(ctx) == 0


async def test_anonymous_is_sent_to_log_in(client) -> None:
    resp = await client.get(URL, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_without_a_csrf_token_nothing_is_imported(admin_client, ctx) -> None:
    resp = await post(admin_client, (HEADER + GOOD).encode(), token=False)
    assert resp.status == 403 and "expired" in (await resp.json())["error"]["message"]
    resp = await post(admin_client, (HEADER + GOOD).encode(), token=False, script=False)
    assert resp.status == 403 and "did not come from telehub" in await resp.text()
    # A wrong token, and a right token sent after the file, are refused too.
    value = await csrf(admin_client, URL)
    for fields in (
        [("csrf_token", "0" * 64), ("file", (HEADER + GOOD).encode())],
        [("file", (HEADER + GOOD).encode()), ("csrf_token", value)],
    ):
        data = aiohttp.FormData()
        for name, field in fields:
            if isinstance(field, bytes):
                data.add_field(name, field, filename="c.csv", content_type="text/csv")
            else:
                data.add_field(name, field)
        assert (await admin_client.post(URL, data=data)).status == 403
    resp = await admin_client.post(
        URL, data={"csrf_token": value}, headers={"Accept": NDJSON, "X-CSRF-Token": value}
    )
    assert resp.status == 422  # not multipart: no file
    assert await stored(ctx) == 0


async def test_without_script_the_result_page_is_rendered(admin_client, ctx) -> None:
    resp = await post(admin_client, (HEADER + GOOD + BAD_HOME).encode(), script=False)
    assert resp.status == 422 and resp.content_type == "text/html"
    page = await resp.text()
    assert "Nothing was imported: 1 bad row" in page
    assert "Line 4: unknown care home ZZZ99" in page
    assert await stored(ctx) == 0
    resp = await post(admin_client, (HEADER + GOOD + BAD_HOME).encode(), script=False, skip=True)
    assert resp.status == 200
    page = await resp.text()
    assert "Imported 2 calls; skipped 1 bad row." in page
    assert "Line 4: unknown care home ZZZ99" in page
    assert await stored(ctx) == 2


async def test_errors_are_escaped_in_the_result_page(admin_client) -> None:
    row = "AB123,9434765919,,<b>x</b>,,,fall,,,,\n"
    resp = await post(admin_client, (HEADER + row).encode(), script=False)
    page = await resp.text()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


async def test_a_browser_leaving_mid_import_imports_nothing(admin_client, ctx, monkeypatch) -> None:
    """Rows already written inside the import's transaction are rolled back when the
    browser goes away: all or nothing holds."""

    monkeypatch.setattr(imports, "BATCH", 2)
    monkeypatch.setattr(import_page, "PROGRESS_EVERY_S", 0.01)
    written, cancelled = asyncio.Event(), asyncio.Event()
    write = imports._Writer._write

    async def write_then_hang(self: Any, batch: Any) -> None:
        await write(self, batch)  # the first batch is in the transaction…
        written.set()
        try:
            await asyncio.Event().wait()  # …and the import hangs until cancelled
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(imports._Writer, "_write", write_then_hang)
    value = await csrf(admin_client, URL)
    data = aiohttp.FormData()
    data.add_field("file", (HEADER + many(20)).encode(), filename="c.csv", content_type="text/csv")
    resp = await admin_client.post(
        URL, data=data, headers={"Accept": NDJSON, "X-CSRF-Token": value}
    )
    assert resp.status == 200
    while True:
        line = json.loads(await asyncio.wait_for(resp.content.readline(), 5))
        if line["checked"] > 0:
            break
    await asyncio.wait_for(written.wait(), 5)
    resp.close()  # the browser goes away
    await asyncio.wait_for(cancelled.wait(), 5)
    monkeypatch.setattr(imports._Writer, "_write", write)
    # The transaction was given back (a new import can write: it waits for the lock
    # until the cancelled one has rolled back) and nothing was kept.
    result = await import_calls(ctx, SYSTEM, log(HEADER + GOOD))
    assert result.imported == 2
    assert await stored(ctx) == 2
    assert [e["count"] for e in await imported_events(ctx)] == [2]


async def test_a_malformed_body_is_422(admin_client) -> None:
    value = await csrf(admin_client, URL)
    resp = await admin_client.post(
        URL,
        data=b"--nope\r\nnot a form",
        headers={
            "Content-Type": "multipart/form-data; boundary=xyz",
            "X-CSRF-Token": value,
            "Accept": NDJSON,
        },
    )
    assert resp.status == 422 and "not a well-formed form" in (await ndjson(resp))[0]["message"]


async def test_an_overlapping_upload_imports_the_rest_and_lists_duplicates(
    admin_client, ctx
) -> None:
    """Issue 10, item 12: a log overlapping one already imported is not refused."""
    resp = await post(admin_client, (HEADER + GOOD).encode(), script=False)
    assert resp.status == 200 and "Imported 2 calls." in await resp.text()
    first_new = many(1)
    resp = await post(admin_client, (HEADER + GOOD + first_new).encode(), script=False)
    assert resp.status == 200
    page = await resp.text()
    assert "Imported 1 call; skipped 2 duplicates." in page
    assert "Nothing was imported" not in page
    duplicates = page[page.index('data-testid="import-duplicates"') :]
    assert "Line 2: this call is already stored" in duplicates
    assert "Line 3: this call is already stored" in duplicates
    assert await stored(ctx) == 3
