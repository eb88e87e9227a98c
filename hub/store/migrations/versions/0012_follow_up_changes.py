"""follow-up changes: re-presentations can be undone, and a GP visit is one

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00

A re-presentation (docs/outcomes.md) can be undone for a few minutes by whoever
recorded it (``outcomes.representation_undo_minutes``): the row stays, with who undid
it and when, and no longer counts. ``representations.kind`` may now be ``gp_visit``
(it fits the existing ``String(20)``), which cancels an avoided urgent GP visit.

The downgrade cannot keep either: the code before this revision would count an undone
row and cannot read ``gp_visit``. It deletes undone rows and GP visits, sets each
call's ``avoided_gp`` back to the rule without GP visits (intended an urgent GP visit
and managed in the home; nothing else ever cancelled it), and rebuilds the report
rollup from the consultations (``hub.store.report_rollup.rebuild``) so that the
figures match the flags again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_MANAGED = ("managed_advice", "managed_medication", "managed_monitoring")


def upgrade() -> None:
    with op.batch_alter_table("representations") as batch_op:
        batch_op.add_column(sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("undone_by", sa.String(length=40), nullable=True))


def downgrade() -> None:
    from hub.store.report_rollup import rebuild

    reps = sa.table(
        "representations", sa.column("kind", sa.String), sa.column("undone_at", sa.DateTime)
    )
    calls = sa.table(
        "consultations",
        sa.column("intention", sa.String),
        sa.column("outcome", sa.String),
        sa.column("attributable", sa.Boolean),
        sa.column("avoided_gp", sa.Boolean),
    )
    op.execute(sa.delete(reps).where(reps.c.undone_at.is_not(None)))
    op.execute(sa.delete(reps).where(reps.c.kind == "gp_visit"))
    op.execute(
        sa.update(calls).values(
            avoided_gp=sa.case(
                (
                    sa.and_(
                        calls.c.attributable,
                        calls.c.intention == "urgent_gp",
                        calls.c.outcome.in_(_MANAGED),
                    ),
                    sa.true(),
                ),
                else_=sa.false(),
            )
        )
    )
    with op.batch_alter_table("representations") as batch_op:
        batch_op.drop_column("undone_by")
        batch_op.drop_column("undone_at")
    rebuild(op.get_bind())
