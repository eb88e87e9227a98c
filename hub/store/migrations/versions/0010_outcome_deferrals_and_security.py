"""outcomes deferred with a reason, and the security level of a call with every change of it

A clinician may defer an ended call's outcome with a reason (``outcome_deferred_at``,
``outcome_deferred_reason`` on the consultation); the call stays "outcome outstanding"
until the outcome is recorded. The security level actually negotiated by the browsers
(``direct`` or ``relay``) is kept on the consultation, and every change of it in
``call_security_levels``. The demo data's old values (``p2p``, ``turn``) become the
new words; the downgrade turns them back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_TO_NEW = {"p2p": "direct", "turn": "relay"}


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch_op:
        batch_op.add_column(
            sa.Column("outcome_deferred_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("outcome_deferred_reason", sa.String(length=500), nullable=True)
        )
    op.create_table(
        "call_security_levels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_call_security_levels_consultation_id_consultations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_security_levels")),
    )
    with op.batch_alter_table("call_security_levels") as batch_op:
        batch_op.create_index("ix_call_security_levels_consultation", ["consultation_id"])
    _rename_levels(OLD_TO_NEW)


def downgrade() -> None:
    _rename_levels({new: old for old, new in OLD_TO_NEW.items()})
    with op.batch_alter_table("call_security_levels") as batch_op:
        batch_op.drop_index("ix_call_security_levels_consultation")
    op.drop_table("call_security_levels")
    with op.batch_alter_table("consultations") as batch_op:
        batch_op.drop_column("outcome_deferred_reason")
        batch_op.drop_column("outcome_deferred_at")


def _rename_levels(mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        op.execute(
            sa.text(
                "UPDATE consultations SET security_level = :new WHERE security_level = :old"
            ).bindparams(new=new, old=old)
        )
