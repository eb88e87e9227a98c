"""report rollup on UK days: re-key the report_daily_* rows by UK local day, not UTC

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:30:00

Reports count UK calendar days and months (Europe/London, British Summer Time
included), so the rollup's ``day`` is now the UK day a call was requested on: a call at
23:30 UTC on 30 June (00:30 BST) belongs to 1 July. The tables keep their shape; their
rows are emptied and refilled from the consultations with the rebuild that ``telehub
report rebuild-rollup`` runs (``hub.store.report_rollup.rebuild``), as 0005 filled them.

The downgrade empties and refills them again with the same rebuild keyed by UTC day
(``day_zone="UTC"``), which is what the code of revision 0006 reads; the hour-of-week
slots stay on UK time, as they always were.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from hub.store.report_rollup import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    from hub.store.report_rollup import rebuild

    rebuild(op.get_bind(), day_zone="UTC")
