"""report rollup: counted calls per UTC day (totals, per home; codes, hours, waits)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00

The tables are filled from the consultations already stored, with the rebuild that
``telehub report rebuild-rollup`` runs (``hub.store.report_rollup.rebuild``). A later
migration that reshapes these tables must empty and refill them itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
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
    op.create_table(
        "report_daily_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        *(sa.Column(flag, sa.Integer(), nullable=False) for flag in FLAGS),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_report_daily_totals")),
    )
    op.create_table(
        "report_daily_homes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("home_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        *(sa.Column(flag, sa.Integer(), nullable=False) for flag in FLAGS),
        sa.ForeignKeyConstraint(
            ["home_id"], ["care_homes.id"], name=op.f("fk_report_daily_homes_home_id_care_homes")
        ),
        sa.PrimaryKeyConstraint("day", "home_id", name=op.f("pk_report_daily_homes")),
    )
    op.create_table(
        "report_daily_codes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "code", name=op.f("pk_report_daily_codes")),
    )
    op.create_table(
        "report_daily_slots",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "slot", name=op.f("pk_report_daily_slots")),
    )
    from hub.store.report_rollup import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("report_daily_slots")
    op.drop_table("report_daily_codes")
    op.drop_table("report_daily_homes")
    op.drop_table("report_daily_totals")
