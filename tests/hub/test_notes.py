"""Clinical notes as entries (hub/calls/notes.py) on a real database: nothing written is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from hub.calls import history, live, notes
from hub.calls.note_entries import corrected_ids
from hub.errors import Conflict, Forbidden, NotFound, ValidationError
from hub.people import resident_records
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident
from hub.people.residents import ResidentDetails
from tests.hub.test_calls import clinicians, edna, request, tablet


async def live_call(ctx, clock, home, n: int = 2):  # type: ignore[no-untyped-def]
    tab = await tablet(ctx, home)
    r = await edna(ctx, clock, home)
    nurses = await clinicians(ctx, n)
    call = await live.request_call(ctx, tab, request(r.id))
    await live.claim(ctx, nurses[0], call.id)
    return call, tab, nurses


async def raw(ctx, sql: str, **params: object) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    async with ctx.uow() as uow:
        result = await uow.consultations.conn.execute(text(sql), params)
        return [tuple(row) for row in result]


async def test_entries_are_added_never_replaced(ctx, clock, home) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    first = await notes.add(ctx, a, call.id, "Fell in the lounge at 09:00.")
    clock.advance(timedelta(seconds=60))
    second = await notes.add(ctx, a, call.id, "Sats 94% on air.")
    opened = await notes.open_notes(ctx, a, call.id)
    assert [e.text for e in opened.entries] == ["Fell in the lounge at 09:00.", "Sats 94% on air."]
    assert [e.author_name for e in opened.entries] == ["Nurse 0", "Nurse 0"]
    assert opened.entries[1].written_at > opened.entries[0].written_at
    assert (first.draft_revision, second.draft_revision) == (None, None)  # not from a draft


async def test_a_correction_is_a_new_entry_that_names_the_corrected_one(ctx, clock, home) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    wrong = (await notes.add(ctx, a, call.id, "Bruise on the right hip.")).entry
    fix = await notes.correct(ctx, a, call.id, wrong.id, "Left hip, not right.")
    fix2 = await notes.correct(ctx, a, call.id, fix.id, "Left hip and left wrist.")
    entries = (await notes.open_notes(ctx, a, call.id)).entries
    assert [e.text for e in entries] == [
        "Bruise on the right hip.",
        "Left hip, not right.",
        "Left hip and left wrist.",
    ]
    assert (fix.corrects, fix2.corrects) == (wrong.id, fix.id)
    assert corrected_ids(entries) == {wrong.id, fix.id}


async def test_a_correction_must_name_an_entry_of_the_same_call(
    ctx, clock, home, other_home
) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    other_tab = await tablet(ctx, other_home)
    other_resident = await add_resident(
        ctx,
        SYSTEM,
        other_home.id,
        ResidentDetails.parse(
            given_name="Alf",
            family_name="Jones",
            date_of_birth="1930-01-01",
            nhs_number="9434765927",
            today=clock.now().date(),
        ),
    )
    other = await live.request_call(ctx, other_tab, request(other_resident.id))
    await live.end(ctx, other_tab, other.id)  # cancelled: any clinician may add late
    elsewhere = (await notes.add(ctx, a, other.id, "Tried to call the home back.")).entry
    with pytest.raises(NotFound, match=f"no note entry {elsewhere.id} in call {call.id}"):
        await notes.correct(ctx, a, call.id, elsewhere.id, "Not this call's")
    with pytest.raises(NotFound, match=f"no note entry 999 in call {call.id}"):
        await notes.correct(ctx, a, call.id, 999, "No such entry")


@pytest.mark.parametrize(
    ("text_", "message"),
    [
        ("", "a note cannot be empty"),
        ("   \n ", "a note cannot be empty"),
        ("x" * 20_001, "notes must be at most 20000 characters"),
    ],
)
async def test_validation(ctx, clock, home, text_: str, message: str) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    with pytest.raises(ValidationError, match=message):
        await notes.add(ctx, a, call.id, text_)
    with pytest.raises(ValidationError, match="at most 20000 characters"):
        await notes.save_draft(ctx, a, call.id, "x" * 20_001, 0)
    await notes.add(ctx, a, call.id, "x" * 20_000)  # the limit itself is fine


async def test_who_may_write(ctx, clock, home, admin_user) -> None:
    call, tab, (a, b) = await live_call(ctx, clock, home)
    with pytest.raises(Forbidden, match=f"call {call.id} is being handled by Nurse 0"):
        await notes.add(ctx, b, call.id, "Not my call")
    with pytest.raises(Forbidden, match="is being handled by Nurse 0"):
        await notes.save_draft(ctx, b, call.id, "Not my call", 0)
    with pytest.raises(Forbidden, match="is being handled by Nurse 0"):
        await notes.open_notes(ctx, b, call.id)
    with pytest.raises(Forbidden, match="only clinicians"):
        await notes.add(ctx, tab, call.id, "A tablet writes notes?")
    with pytest.raises(Forbidden, match="only clinicians"):
        await notes.open_notes(ctx, tab, call.id)
    admin = Actor("staff", admin_user.id, admin_user.display_name, Role.ADMIN)
    with pytest.raises(Forbidden, match="only clinicians"):
        await notes.add(ctx, admin, call.id, "Admins do not write notes")
    await live.release(ctx, a, call.id)  # waiting: nobody holds it
    with pytest.raises(Conflict, match="waiting in the queue"):
        await notes.add(ctx, a, call.id, "Back in the queue")
    await live.claim(ctx, b, call.id)
    await notes.add(ctx, b, call.id, "Now mine")
    await live.end(ctx, b, call.id)
    # Over: any clinician may add a late entry (e.g. a result that came back).
    late = await notes.add(ctx, a, call.id, "Late: bloods normal.")
    assert late.entry.author_name == "Nurse 0"
    with pytest.raises(Conflict, match="has ended: add to the notes instead"):
        await notes.save_draft(ctx, b, call.id, "draft after the end", 0)
    with pytest.raises(NotFound, match="no call 999"):
        await notes.add(ctx, a, 999, "Nowhere")


async def test_drafts_are_per_author_and_never_silently_overwritten(ctx, clock, home) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    assert (await notes.open_notes(ctx, a, call.id)).draft.revision == 0
    saved = await notes.save_draft(ctx, a, call.id, "Resp 24", 0)
    assert isinstance(saved, notes.DraftSaved) and saved.revision == 1
    saved = await notes.save_draft(ctx, a, call.id, "Resp 24, sats 93%", 1)
    assert isinstance(saved, notes.DraftSaved) and saved.revision == 2
    # A second tab, still on revision 1 (or one that never saw the draft), is refused
    # and told what is stored, rather than overwriting it.
    for stale in (1, 0):
        clash = await notes.save_draft(ctx, a, call.id, "typed in the other tab", stale)
        assert isinstance(clash, notes.DraftConflict)
        assert (clash.current.text, clash.current.revision) == ("Resp 24, sats 93%", 2)
    opened = await notes.open_notes(ctx, a, call.id)  # a reload gives the draft back
    assert (opened.draft.text, opened.draft.revision) == ("Resp 24, sats 93%", 2)
    assert opened.draft.saved_at == clock.now()


async def test_add_from_the_draft_empties_it_unless_it_moved_on(ctx, clock, home) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    await notes.save_draft(ctx, a, call.id, "Chest clear", 0)
    added = await notes.add(ctx, a, call.id, "Chest clear", base=1)
    assert added.draft_revision == 2
    assert (await notes.open_notes(ctx, a, call.id)).draft.text == ""
    # Another tab saved meanwhile: its text stays in the draft.
    await notes.save_draft(ctx, a, call.id, "Other tab's text", 2)
    added = await notes.add(ctx, a, call.id, "This tab's text", base=2)
    assert added.draft_revision is None
    opened = await notes.open_notes(ctx, a, call.id)
    assert opened.draft.text == "Other tab's text"
    assert [e.text for e in opened.entries] == ["Chest clear", "This tab's text"]


@pytest.mark.parametrize("how", ["release", "transfer", "end", "tablet ends"])
async def test_hand_back_transfer_and_end_commit_the_draft(ctx, clock, home, how: str) -> None:
    call, tab, (a, b) = await live_call(ctx, clock, home)
    await notes.add(ctx, a, call.id, "First entry")
    await notes.save_draft(ctx, a, call.id, "Still typing this", 0)
    clock.advance(timedelta(seconds=30))
    if how == "release":
        await live.release(ctx, a, call.id)
    elif how == "transfer":
        await live.transfer(ctx, a, call.id, b.id)
    elif how == "end":
        await live.end(ctx, a, call.id)
    else:
        await live.end(ctx, tab, call.id)
    async with ctx.uow() as uow:
        entries = await uow.notes.for_call(call.id)
        draft = await uow.notes.draft(call.id, a.id)
    assert [(e.text, e.author_name) for e in entries] == [
        ("First entry", "Nurse 0"),
        ("Still typing this", "Nurse 0"),
    ]
    assert entries[1].written_at == clock.now()
    assert draft is not None and draft.text == ""
    if how == "transfer":  # the colleague now holding it sees every entry
        assert len((await notes.open_notes(ctx, b, call.id)).entries) == 2


async def test_a_refused_transfer_leaves_the_draft_a_draft(ctx, clock, home) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    await notes.save_draft(ctx, a, call.id, "Still typing", 0)
    with pytest.raises(Conflict, match="to yourself"):
        await live.transfer(ctx, a, call.id, a.id)
    opened = await notes.open_notes(ctx, a, call.id)
    assert opened.entries == [] and opened.draft.text == "Still typing"


async def test_text_is_sealed_at_rest_and_bound_to_its_row(ctx, clock, home) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    one = (await notes.add(ctx, a, call.id, "Chest clear. <b>Plan</b>: fluids")).entry
    two = (await notes.add(ctx, a, call.id, "Daughter informed")).entry
    await notes.save_draft(ctx, a, call.id, "Draft: sats 91%", 0)
    rows = await raw(ctx, "SELECT id, key_id, text_sealed FROM consultation_notes ORDER BY id")
    assert [r[1] for r in rows] == ["k1", "k1"]
    for _, _, sealed in rows:
        assert isinstance(sealed, str) and sealed.startswith("k1:")
        assert "Chest" not in sealed and "Daughter" not in sealed
    (draft,) = await raw(ctx, "SELECT text_sealed FROM note_drafts")
    assert isinstance(draft[0], str) and "sats" not in draft[0]
    # A ciphertext copied onto another entry does not open there.
    async with ctx.uow() as uow:
        await uow.consultations.conn.execute(  # type: ignore[attr-defined]
            text("UPDATE consultation_notes SET text_sealed = :s WHERE id = :i"),
            {"s": rows[0][2], "i": two.id},
        )
        from hub.cipher import CipherError

        with pytest.raises(CipherError):
            await uow.notes.get(two.id)
        assert (await uow.notes.get(one.id)).text.startswith("Chest clear")  # type: ignore[union-attr]


async def test_every_write_and_read_is_audited_without_the_text(ctx, clock, home) -> None:
    call, _, (a, _b) = await live_call(ctx, clock, home)
    wrong = (await notes.add(ctx, a, call.id, "Bruise right hip")).entry
    await notes.correct(ctx, a, call.id, wrong.id, "Left hip")
    await notes.save_draft(ctx, a, call.id, "Secret draft words", 0)
    await notes.open_notes(ctx, a, call.id)
    await live.end(ctx, a, call.id)
    async with ctx.uow() as uow:
        events = [e async for e in uow.audit.events()]
    mine = [e for e in events if e.action.startswith("call.note")]
    assert [(e.action, e.actor) for e in mine] == [
        ("call.note_added", a.ref),
        ("call.note_corrected", a.ref),
        ("call.notes_read", a.ref),
        ("call.note_added", a.ref),  # the draft, committed at the end
    ]
    assert mine[0].detail == {"entry": wrong.id, "chars": len("Bruise right hip")}
    assert mine[1].detail["corrects"] == wrong.id
    assert mine[3].detail["from_draft_during"] == "end"
    dumped = repr([e.detail for e in events])
    assert "Bruise" not in dumped and "Left hip" not in dumped and "Secret" not in dumped


async def test_call_page_and_resident_history_read_the_entries(ctx, clock, home) -> None:
    call, tab, (a, _b) = await live_call(ctx, clock, home)
    await notes.add(ctx, a, call.id, "Fell at 9")
    await live.end(ctx, a, call.id)
    record = await history.view_call(ctx, a, call.id)
    assert [e.text for e in record.notes] == ["Fell at 9"]
    resident = await resident_records.view_resident(ctx, SYSTEM, call.resident_id)
    assert [e.text for e in resident.notes[call.id]] == ["Fell at 9"]
    assert (
        await resident_records.view_resident(ctx, tab, call.resident_id)
    ).notes == {}  # a tablet
