"""the audit chain keyed with an HMAC key kept outside the database

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00

From this revision on, each audit event's hash is an HMAC-SHA256 under
``crypto.audit_key`` (hub/audit/trail.py). The migration cannot know that key, so it does not
re-chain the events already stored: it marks the switch point instead.
``audit_head.keyed_from`` is the first sequence number that is keyed; events before it
keep their plain SHA-256 and are verified as such. On a new database it is 1 (every
event keyed). The switch point is part of every keyed event's MAC, so moving it later
breaks verification of the keyed events after it (docs/security.md, "The audit chain").

Downgrading drops the column; the keyed events stay keyed, and the older code's
``telehub audit verify`` then reports the first of them as not matching its hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.add_column(
            sa.Column("keyed_from", sa.BigInteger(), nullable=False, server_default=sa.text("1"))
        )
    op.execute("UPDATE audit_head SET keyed_from = seq + 1")


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch_op:
        batch_op.drop_column("keyed_from")
