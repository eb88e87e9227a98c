"""rota: contracts, leave, requests, hourly demand, rotas and their shifts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 18:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _staff_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["staff_id"], ["staff_users.id"], name=op.f(f"fk_{table}_staff_id_staff_users")
    )


def upgrade() -> None:
    op.create_table(
        "staff_contracts",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("contracted_hours", sa.Float(), nullable=False),
        sa.Column("night_capable", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _staff_fk("staff_contracts"),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_contracts")),
    )
    op.create_table(
        "staff_leave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _staff_fk("staff_leave"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_leave")),
    )
    op.create_index(op.f("ix_staff_leave_staff_id"), "staff_leave", ["staff_id"])
    op.create_table(
        "staff_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("shift", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _staff_fk("staff_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_requests")),
    )
    op.create_index(op.f("ix_staff_requests_staff_id"), "staff_requests", ["staff_id"])
    op.create_table(
        "rota_demand",
        sa.Column("hour_of_week", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("needed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour_of_week", name=op.f("pk_rota_demand")),
    )
    op.create_table(
        "rotas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("problem", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff_users.id"], name=op.f("fk_rotas_created_by_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["staff_users.id"], name=op.f("fk_rotas_published_by_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotas")),
    )
    op.create_index("ix_rotas_status_start", "rotas", ["status", "start_day"])
    op.create_table(
        "rota_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rota_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=40), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rota_id"], ["rotas.id"], name=op.f("fk_rota_shifts_rota_id_rotas")
        ),
        _staff_fk("rota_shifts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_shifts")),
    )
    op.create_index(
        "ix_rota_shifts_rota_staff_day", "rota_shifts", ["rota_id", "staff_id", "day"], unique=True
    )
    op.create_index("ix_rota_shifts_starts_at", "rota_shifts", ["starts_at"])


def downgrade() -> None:
    op.drop_index("ix_rota_shifts_starts_at", table_name="rota_shifts")
    op.drop_index("ix_rota_shifts_rota_staff_day", table_name="rota_shifts")
    op.drop_table("rota_shifts")
    op.drop_index("ix_rotas_status_start", table_name="rotas")
    op.drop_table("rotas")
    op.drop_table("rota_demand")
    op.drop_index(op.f("ix_staff_requests_staff_id"), table_name="staff_requests")
    op.drop_table("staff_requests")
    op.drop_index(op.f("ix_staff_leave_staff_id"), table_name="staff_leave")
    op.drop_table("staff_leave")
    op.drop_table("staff_contracts")
