"""clinical notes kept as entries (author, time, sealed text); a correction is a new entry

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 04:00:00

Until now a call had one notes box (``consultations.notes_sealed``) that every save
overwrote. From here notes are entries that are only ever added
(``consultation_notes``), and what a clinician is still typing is a draft per call and
author (``note_drafts``). The text of each old notes box becomes one entry of its call,
written by the clinician who last held the call (or "Earlier notes" if none), at the
time the call ended (or was answered, or requested). It is copied as it is, still
sealed: ``earlier`` tells the reader to open it with the old associated data. The old
column keeps its text and is no longer used.

Downgrading drops the new tables. It refuses when that would lose text written since
(new entries or unsaved drafts), because the old column cannot hold it: the keys are
not available to a migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EARLIER_NOTES = "Earlier notes"


def upgrade() -> None:
    op.create_table(
        "consultation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("author_ref", sa.String(length=40), nullable=False),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("text_sealed", sa.Text(), nullable=False),
        sa.Column("corrects", sa.Integer(), nullable=True),
        sa.Column("earlier", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_consultation_notes_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["corrects"],
            ["consultation_notes.id"],
            name=op.f("fk_consultation_notes_corrects_consultation_notes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_notes")),
    )
    with op.batch_alter_table("consultation_notes") as batch_op:
        batch_op.create_index("ix_consultation_notes_consultation", ["consultation_id"])
    op.create_table(
        "note_drafts",
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text_sealed", sa.Text(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_note_drafts_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_users.id"], name=op.f("fk_note_drafts_author_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("consultation_id", "author_id", name=op.f("pk_note_drafts")),
    )
    _move_old_notes()


def _move_old_notes() -> None:
    conn = op.get_bind()
    calls = sa.table(
        "consultations",
        sa.column("id", sa.Integer()),
        sa.column("notes_sealed", sa.Text()),
        sa.column("answered_by", sa.Integer()),
        sa.column("requested_at", sa.DateTime(timezone=True)),
        sa.column("answered_at", sa.DateTime(timezone=True)),
        sa.column("ended_at", sa.DateTime(timezone=True)),
    )
    staff = sa.table("staff_users", sa.column("id", sa.Integer()), sa.column("display_name"))
    notes = sa.table(
        "consultation_notes",
        sa.column("consultation_id", sa.Integer()),
        sa.column("author_ref", sa.String()),
        sa.column("author_name", sa.String()),
        sa.column("written_at", sa.DateTime(timezone=True)),
        sa.column("key_id", sa.String()),
        sa.column("text_sealed", sa.Text()),
        sa.column("earlier", sa.Boolean()),
    )
    names = {row.id: row.display_name for row in conn.execute(sa.select(staff))}
    rows = []
    for c in conn.execute(
        sa.select(calls).where(calls.c.notes_sealed.is_not(None)).order_by(calls.c.id)
    ):
        if not c.notes_sealed:
            continue
        rows.append(
            {
                "consultation_id": c.id,
                "author_ref": f"staff:{c.answered_by}" if c.answered_by else "system:0",
                "author_name": names.get(c.answered_by, EARLIER_NOTES),
                "written_at": c.ended_at or c.answered_at or c.requested_at,
                "key_id": c.notes_sealed.partition(":")[0],
                "text_sealed": c.notes_sealed,
                "earlier": True,
            }
        )
    for start in range(0, len(rows), 500):
        conn.execute(sa.insert(notes), rows[start : start + 500])


def downgrade() -> None:
    conn = op.get_bind()
    newer = conn.execute(
        sa.text("SELECT count(*) FROM consultation_notes WHERE NOT earlier")
    ).scalar_one()
    drafts = conn.execute(
        sa.text("SELECT count(*) FROM note_drafts WHERE text_sealed IS NOT NULL")
    ).scalar_one()
    if newer or drafts:
        raise RuntimeError(
            f"downgrading below 0009 would lose {newer} note entries and {drafts} drafts "
            "written since; the old single notes column cannot hold them"
        )
    op.drop_table("note_drafts")
    with op.batch_alter_table("consultation_notes") as batch_op:
        batch_op.drop_index("ix_consultation_notes_consultation")
    op.drop_table("consultation_notes")
