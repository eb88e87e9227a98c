"""indexes for the two reads on every call event and every answer that scanned the table

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 16:00:00

Telling the consoles about a call event reads the mean handling time of the last week's
ended calls, and answering a call reads the clinician's ended calls still without an
outcome. Neither had an index it could use: on a hub with 500,000 past calls they took
165 ms and 121 ms (full scans), on every event and every answer. With these indexes:
0.2 ms and 0.02 ms (docs/benchmarks.md, "Ring latency"). ``ix_consultations_awaiting_
outcome`` is partial (only calls without an outcome), so it stays as small as the work
outstanding. The downgrade drops them; nothing is lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_consultations_state_ended", "consultations", ["state", "ended_at"])
    op.create_index(
        "ix_consultations_awaiting_outcome",
        "consultations",
        ["answered_by", "ended_at"],
        sqlite_where=sa.text("outcome IS NULL"),
        postgresql_where=sa.text("outcome IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_consultations_awaiting_outcome", table_name="consultations")
    op.drop_index("ix_consultations_state_ended", table_name="consultations")
