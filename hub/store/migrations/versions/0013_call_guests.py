"""guests of a live call: single-use invitation links and the guests who came

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:00:00

A clinician with a live call can invite a GP, family member or interpreter by link
(hub/calls/guest_services.py). ``call_invitations`` keeps each link (its token only as
a SHA-256 digest), who made it, when it expires, and when it was used or withdrawn;
``call_guests`` keeps each guest who came through one (at most one per link), their
name and kind, their session (a digest, emptied when they are gone) and when they
waited, were let in, and left or were removed.

The downgrade drops both tables, and with them the record of who took part as a guest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_call_invitations_consultation_id_consultations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_call_invitations_token_hash")),
    )
    with op.batch_alter_table("call_invitations") as batch_op:
        batch_op.create_index("ix_call_invitations_consultation", ["consultation_id"])
    op.create_table(
        "call_guests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_call_guests_consultation_id_consultations"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["call_invitations.id"],
            name=op.f("fk_call_guests_invitation_id_call_invitations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_guests")),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_call_guests_invitation_id")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_call_guests_session_hash")),
    )
    with op.batch_alter_table("call_guests") as batch_op:
        batch_op.create_index("ix_call_guests_consultation", ["consultation_id"])


def downgrade() -> None:
    with op.batch_alter_table("call_guests") as batch_op:
        batch_op.drop_index("ix_call_guests_consultation")
    op.drop_table("call_guests")
    with op.batch_alter_table("call_invitations") as batch_op:
        batch_op.drop_index("ix_call_invitations_consultation")
    op.drop_table("call_invitations")
