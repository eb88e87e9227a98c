"""tablet follow-up changes (confirm, undo) and GP visits as re-presentations

(Placeholder laid down so that parallel work can chain its migrations; fill in or
leave as a no-op.)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
