"""clinical notes kept as entries (author, time, sealed text; corrections refer to the entry they correct)

(Placeholder laid down so that parallel work can chain its migrations; fill in or
leave as a no-op.)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
