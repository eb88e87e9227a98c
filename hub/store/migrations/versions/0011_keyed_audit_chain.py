"""the audit chain keyed with an HMAC key kept outside the database

(Placeholder laid down so that parallel work can chain its migrations; fill in or
leave as a no-op.)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
