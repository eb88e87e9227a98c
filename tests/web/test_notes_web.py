"""Every note entry of a call on the call page and in the resident's history: author,
UK time, and corrections linked both ways (the corrected entry stays, marked)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.calls import live, notes
from tests.conftest import PASSWORD
from tests.hub.test_calls import edna, request, tablet
from tests.web.closed_calls import nurse_of
from tests.web.helpers import login, post_form


async def call_with_notes(ctx, clock, home, clinician_user):  # type: ignore[no-untyped-def]
    clock.current = datetime(2026, 7, 1, 8, 55, tzinfo=UTC)  # summer: UK time is UTC+1
    tab = await tablet(ctx, home)
    resident = await edna(ctx, clock, home)
    nurse = nurse_of(clinician_user)
    call = await live.request_call(ctx, tab, request(resident.id))
    await live.claim(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=7))  # 09:02 UTC
    first = (await notes.add(ctx, nurse, call.id, "Bruise on the right hip.\nWalking.")).entry
    await notes.save_draft(ctx, nurse, call.id, "Daughter informed.", 0)
    clock.advance(timedelta(minutes=5))  # 09:07 UTC: the end commits the draft
    await live.end(ctx, nurse, call.id)
    clock.advance(timedelta(minutes=8))  # 09:15 UTC: a late correction
    fix = await notes.correct(ctx, nurse, call.id, first.id, "Bruise on the LEFT hip.")
    return call, first, fix


async def test_the_call_page_shows_every_entry(client, ctx, clock, home, clinician_user) -> None:
    call, first, fix = await call_with_notes(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    body = await (await client.get(f"/calls/{call.id}")).text()
    notes_html = body[body.index('data-testid="notes-') :]
    for text in (
        "Bruise on the right hip.\nWalking.",
        "Daughter informed.",
        "Bruise on the LEFT hip.",
    ):
        assert text in notes_html
    assert notes_html.index("right hip") < notes_html.index("Daughter") < notes_html.index("LEFT")
    assert "01 Jul 2026 10:02" in notes_html and "01 Jul 2026 10:15" in notes_html  # UK time
    assert f'id="note-{first.id}" class="note corrected"' in notes_html
    assert (
        f'href="#note-{fix.id}" class="corrected-mark">Corrected at 01 Jul 2026 10:15' in notes_html
    )
    assert (
        f'href="#note-{first.id}" class="correction">Correction to the 01 Jul 2026 10:02 entry'
        in notes_html
    )
    assert notes_html.count("<strong>Cleo Clinician</strong>") == 3


async def test_the_resident_history_shows_every_entry(
    client, ctx, clock, home, clinician_user
) -> None:
    call, first, _ = await call_with_notes(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    body = await (await client.get(f"/residents/{call.resident_id}")).text()
    assert f'data-testid="notes-{call.id}"' in body
    for text in ("Bruise on the right hip.", "Daughter informed.", "Bruise on the LEFT hip."):
        assert text in body
    assert f'id="note-{first.id}" class="note corrected"' in body


async def test_a_late_entry_and_a_correction_from_the_call_page(
    client, ctx, clock, home, clinician_user
) -> None:
    call, first, _ = await call_with_notes(ctx, clock, home, clinician_user)
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    page = f"/calls/{call.id}"
    assert 'data-testid="note-form"' in await (await client.get(page)).text()
    resp = await post_form(
        client, f"{page}/notes", {"text": "Bloods normal.", "corrects": ""}, token_from=page
    )
    assert resp.status == 303
    resp = await post_form(
        client,
        f"{page}/notes",
        {"text": "Walking with a frame.", "corrects": str(first.id)},
        token_from=page,
    )
    assert resp.status == 303
    async with ctx.uow() as uow:
        entries = await uow.notes.for_call(call.id)
    assert [(e.text, e.corrects) for e in entries[-2:]] == [
        ("Bloods normal.", None),
        ("Walking with a frame.", first.id),
    ]
    # Blank text: refused with the form shown again; nothing written.
    resp = await post_form(client, f"{page}/notes", {"text": "  ", "corrects": ""}, token_from=page)
    assert resp.status == 422
    assert "a note cannot be empty" in await resp.text()
    async with ctx.uow() as uow:
        assert len(await uow.notes.for_call(call.id)) == len(entries)


async def test_a_manager_reads_the_notes_but_adds_none(
    client, ctx, clock, home, admin_user
) -> None:
    from hub.people.access import SYSTEM
    from hub.people.admin import create_staff
    from hub.people.staff import NewStaff

    cleo = await create_staff(
        ctx, SYSTEM, NewStaff.parse("cleo", "Cleo Clinician", "clinician", ["clinician"]), PASSWORD
    )
    call, _, _ = await call_with_notes(ctx, clock, home, cleo)
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    body = await (await client.get(f"/calls/{call.id}")).text()
    assert "Daughter informed." in body and 'data-testid="note-form"' not in body
    resp = await post_form(
        client, f"/calls/{call.id}/notes", {"text": "x", "corrects": ""}, token_from="/"
    )
    assert resp.status == 403
