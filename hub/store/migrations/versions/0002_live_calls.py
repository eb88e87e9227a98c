"""live calls: when the calling tablet was last heard from

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch_op:
        batch_op.add_column(sa.Column("device_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch_op:
        batch_op.drop_column("device_seen_at")
