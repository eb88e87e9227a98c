"""Migration 0009: the old single notes box of each call becomes its first note entry,
still sealed as it was and readable; a downgrade never drops text written since."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Connection, insert, text

from hub.calls.note_entries import NewNote
from hub.cipher import Keyring
from hub.clock import FixedClock
from hub.context import HubContext
from hub.settings import Settings
from hub.store import tables as t
from hub.store.bootstrap import make_uow_factory
from hub.store.db import create_engine
from hub.store.migrate import alembic_config, upgrade

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.empty_database
async def test_old_notes_become_entries_and_downgrade_keeps_new_text(
    settings: Settings, keyring: Keyring
) -> None:
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine, "0008")
        async with engine.begin() as conn:
            await conn.execute(
                insert(t.care_homes).values(
                    id=1, code="AB123", name="Rose Court", address="", beds=9, created_at=AT
                )
            )
            await conn.execute(
                insert(t.residents).values(
                    id=1,
                    home_id=1,
                    given_name="Edna",
                    family_name="Smith",
                    date_of_birth=date(1931, 4, 2),
                    nhs_number="9434765919",
                    dnacpr=False,
                    end_of_life=False,
                    created_at=AT,
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO staff_users (id, username, display_name, role, skills, active,"
                    " password_hash, totp_confirmed, totp_last_counter, failed_attempts,"
                    " created_at) VALUES (5, 'cleo', 'Cleo Clinician', 'clinician', '[]', true,"
                    " 'x', false, 0, 0, :at)"
                ),
                {"at": AT.replace(tzinfo=None) if conn.dialect.name == "sqlite" else AT},
            )
            base = {
                "home_id": 1,
                "resident_id": 1,
                "state": "ended",
                "reason": "fall",
                "soft_signs": [],
                "observations": {},
                "requested_at": AT,
                "answered_at": AT + timedelta(minutes=2),
            }
            await conn.execute(
                insert(t.consultations),
                [
                    {
                        **base,
                        "id": 1,
                        "answered_by": 5,
                        "ended_at": AT + timedelta(minutes=20),
                        "notes_sealed": keyring.seal(
                            "Fell in the lounge; no head injury", "consultations:1:notes"
                        ),
                    },
                    {
                        **base,
                        "id": 2,
                        "answered_by": None,
                        "ended_at": None,
                        "notes_sealed": keyring.seal("Older notes", "consultations:2:notes"),
                    },
                    {**base, "id": 3, "answered_by": 5, "ended_at": None, "notes_sealed": None},
                ],
            )
        await upgrade(engine, "0009")  # (later downgrades are their migrations' business)
        ctx = HubContext(make_uow_factory(engine, keyring), FixedClock(AT), keyring, settings)
        async with ctx.uow() as uow:
            moved = await uow.notes.for_calls([1, 2, 3])
        assert set(moved) == {1, 2}
        (one,) = moved[1]
        assert (one.text, one.author_name, one.author_ref) == (
            "Fell in the lounge; no head injury",
            "Cleo Clinician",
            "staff:5",
        )
        assert one.written_at == AT + timedelta(minutes=20)  # when the call ended
        (two,) = moved[2]
        assert (two.text, two.author_name, two.written_at) == (
            "Older notes",
            "Earlier notes",
            AT + timedelta(minutes=2),
        )

        def down(conn: Connection) -> None:
            command.downgrade(alembic_config(conn), "0008")

        # A correction written since cannot go back into the old column: refused.
        async with ctx.uow() as uow:
            await uow.notes.add(
                NewNote(1, "staff:5", "Cleo Clinician", AT, "Fell in the hall", corrects=one.id)
            )
            await uow.commit()
        with pytest.raises(RuntimeError, match="would lose 1 note entries and 0 drafts"):
            async with engine.begin() as conn:
                await conn.run_sync(down)
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM consultation_notes WHERE NOT earlier"))
        async with engine.begin() as conn:
            await conn.run_sync(down)
            (old,) = (
                await conn.execute(text("SELECT notes_sealed FROM consultations WHERE id = 1"))
            ).one()
        assert keyring.open(old, "consultations:1:notes").startswith("Fell in the lounge")
    finally:
        await engine.dispose()
