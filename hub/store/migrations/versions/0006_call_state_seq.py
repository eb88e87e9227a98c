"""call state sequence: a counter that goes up with every change of a call's state

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00

Clients are told a call's state from more than one place at once (the event stream and
the answer to a reconnecting client's hello); the counter lets them drop a message that
was overtaken by a newer one instead of acting on it (a tablet in a live call must not
take a stale "waiting" for a hand-back and hang up).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consultations") as batch_op:
        batch_op.add_column(
            sa.Column("state_seq", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("consultations") as batch_op:
        batch_op.drop_column("state_seq")
