"""outcomes: call-back time, amendments, re-presentations, derived avoided flags

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FLAGS = (
    "attributable",
    "avoided_ae",
    "avoided_999",
    "avoided_conveyance",
    "avoided_admission",
    "avoided_gp",
)


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch_op:
        batch_op.add_column(sa.Column("call_back_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
        for flag in FLAGS:
            batch_op.add_column(
                sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false())
            )
    op.create_table(
        "representations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultations.id"],
            name=op.f("fk_representations_consultation_id_consultations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_representations")),
    )
    with op.batch_alter_table("representations") as batch_op:
        batch_op.create_index("ix_representations_consultation", ["consultation_id"])


def downgrade() -> None:
    with op.batch_alter_table("representations") as batch_op:
        batch_op.drop_index("ix_representations_consultation")
    op.drop_table("representations")
    with op.batch_alter_table("consultations") as batch_op:
        for flag in reversed(FLAGS):
            batch_op.drop_column(flag)
        batch_op.drop_column("outcome_at")
        batch_op.drop_column("call_back_at")
