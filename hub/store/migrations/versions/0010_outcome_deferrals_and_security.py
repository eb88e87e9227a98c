"""outcomes deferred with a reason, and the security level of a call with every change of it

(Placeholder laid down so that parallel work can chain its migrations; fill in or
leave as a no-op.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
