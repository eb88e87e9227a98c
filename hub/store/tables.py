"""Table definitions (SQLAlchemy Core). Schema changes go through Alembic migrations.

Timestamps are stored as UTC and come back timezone-aware on both SQLite and
PostgreSQL (``UTCDateTime``). Clinical free text columns end in ``_sealed``: they hold
AES-GCM ciphertext with its key id (see ``hub/cipher.py``), never plain text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

care_homes = Table(
    "care_homes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(10), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("address", String(500), nullable=False, default=""),
    Column("beds", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

residents = Table(
    "residents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("home_id", Integer, ForeignKey("care_homes.id"), nullable=False, index=True),
    Column("given_name", String(100), nullable=False),
    Column("family_name", String(100), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("nhs_number", String(10), nullable=False, unique=True),
    Column("dnacpr", Boolean, nullable=False, default=False),
    Column("end_of_life", Boolean, nullable=False, default=False),
    Column("allergies_sealed", Text, nullable=True),
    Column("alerts_sealed", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

staff_users = Table(
    "staff_users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(40), nullable=False, unique=True),
    Column("display_name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("skills", JSON, nullable=False),
    Column("home_id", Integer, ForeignKey("care_homes.id"), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("password_hash", String(200), nullable=False),
    Column("totp_secret_sealed", Text, nullable=True),
    Column("totp_confirmed", Boolean, nullable=False, default=False),
    Column("totp_last_counter", BigInteger, nullable=False, default=0),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("stage", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("home_id", Integer, ForeignKey("care_homes.id"), nullable=False, index=True),
    Column("label", String(80), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("enrolled_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_seen_at", UTCDateTime, nullable=True),
)

enrolment_codes = Table(
    "enrolment_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("home_id", Integer, ForeignKey("care_homes.id"), nullable=False, index=True),
    Column("label", String(80), nullable=False),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=True),
)

consultations = Table(
    "consultations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("home_id", Integer, ForeignKey("care_homes.id"), nullable=False),
    Column("resident_id", Integer, ForeignKey("residents.id"), nullable=False),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=True),
    Column("state", String(20), nullable=False),
    Column("reason", String(30), nullable=False),
    Column("soft_signs", JSON, nullable=False),
    Column("observations", JSON, nullable=False),
    Column("news2_score", Integer, nullable=True),
    Column("news2_band", String(20), nullable=True),
    Column("intention", String(30), nullable=True),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("answered_by", Integer, ForeignKey("staff_users.id"), nullable=True),
    Column("outcome", String(40), nullable=True),
    Column("follow_up", String(30), nullable=True),
    Column("admission_judgement", String(10), nullable=True),
    Column("security_level", String(30), nullable=True),
    Column("notes_sealed", Text, nullable=True),
    Column("device_seen_at", UTCDateTime, nullable=True),
    Column("call_back_at", UTCDateTime, nullable=True),
    Column("outcome_at", UTCDateTime, nullable=True),
    # Derived by hub.avoided.avoided() whenever an outcome or re-presentation is stored,
    # so that reports aggregate in SQL.
    *(
        Column(flag, Boolean, nullable=False, server_default=false())
        for flag in (
            "attributable",
            "avoided_ae",
            "avoided_999",
            "avoided_conveyance",
            "avoided_admission",
            "avoided_gp",
        )
    ),
    Index("ix_consultations_resident_requested", "resident_id", "requested_at"),
    Index("ix_consultations_home_requested", "home_id", "requested_at"),
    Index("ix_consultations_state", "state"),
)

representations = Table(
    "representations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consultation_id", Integer, ForeignKey("consultations.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_by", String(40), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_representations_consultation", "consultation_id"),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(60), nullable=False),
    Column("actor", String(40), nullable=False),
    Column("subject_type", String(30), nullable=False),
    Column("subject_id", String(80), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_subject", "subject_type", "subject_id"),
)

# One row: the head of the audit chain. Appends lock it (SELECT ... FOR UPDATE on
# PostgreSQL; SQLite transactions are BEGIN IMMEDIATE), so concurrent writers queue
# up instead of forking the chain.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)
