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
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.engine import Dialect

from hub.outcomes.avoided import FLAG_COLUMNS


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
    # Goes up by one with every change of state (see migration 0006).
    Column("state_seq", Integer, nullable=False, server_default=text("0")),
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
    # Legacy: the one notes box before notes were entries. Migration 0009 moved its text
    # into consultation_notes; nothing reads or writes it now (kept for a downgrade).
    Column("notes_sealed", Text, nullable=True),
    Column("device_seen_at", UTCDateTime, nullable=True),
    Column("call_back_at", UTCDateTime, nullable=True),
    Column("outcome_at", UTCDateTime, nullable=True),
    # An ended call's outcome put off with a reason (migration 0010): still outstanding.
    Column("outcome_deferred_at", UTCDateTime, nullable=True),
    Column("outcome_deferred_reason", String(500), nullable=True),
    # Derived by hub.outcomes.avoided.avoided() whenever an outcome or re-presentation is stored,
    # so that reports aggregate in SQL.
    *(
        Column(flag, Boolean, nullable=False, server_default=false())
        for flag in FLAG_COLUMNS.values()
    ),
    Index("ix_consultations_resident_requested", "resident_id", "requested_at"),
    Index("ix_consultations_home_requested", "home_id", "requested_at"),
    Index("ix_consultations_state", "state"),
    # The mean handling time read on every call event, and a clinician's calls still
    # without an outcome read on every answer (migration 0014).
    Index("ix_consultations_state_ended", "state", "ended_at"),
    Index(
        "ix_consultations_awaiting_outcome",
        "answered_by",
        "ended_at",
        sqlite_where=text("outcome IS NULL"),
        postgresql_where=text("outcome IS NULL"),
    ),
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
    # Undone by whoever recorded it, within outcomes.representation_undo_minutes: the
    # row stays for the record but no longer counts (migration 0012).
    Column("undone_at", UTCDateTime, nullable=True),
    Column("undone_by", String(40), nullable=True),
    Index("ix_representations_consultation", "consultation_id"),
)

# Clinical notes as entries that are only ever added (migration 0009, hub/calls/notes.py).
# Each text is sealed with its own associated data (``consultation_notes:<id>``);
# ``earlier`` marks text moved from the old single ``consultations.notes_sealed``
# column, still sealed as it was (``consultations:<call id>:notes``). A correction is a
# new row whose ``corrects`` names the row it corrects.
consultation_notes = Table(
    "consultation_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consultation_id", Integer, ForeignKey("consultations.id"), nullable=False),
    Column("author_ref", String(40), nullable=False),
    Column("author_name", String(120), nullable=False),
    Column("written_at", UTCDateTime, nullable=False),
    Column("key_id", String(40), nullable=False),
    Column("text_sealed", Text, nullable=False),
    Column("corrects", Integer, ForeignKey("consultation_notes.id"), nullable=True),
    Column("earlier", Boolean, nullable=False, server_default=false()),
    Index("ix_consultation_notes_consultation", "consultation_id"),
)

# What a clinician is still typing for a call: one draft per call and author, sealed
# with ``note_drafts:<call id>:<author id>``; ``revision`` goes up with every save.
note_drafts = Table(
    "note_drafts",
    metadata,
    Column("consultation_id", Integer, ForeignKey("consultations.id"), primary_key=True),
    Column("author_id", Integer, ForeignKey("staff_users.id"), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("text_sealed", Text, nullable=True),
    Column("saved_at", UTCDateTime, nullable=False),
)

# Every change of a call's negotiated security level (migration 0010), as its parties
# reported it; consultations.security_level holds the latest (hub/calls/security.py).
call_security_levels = Table(
    "call_security_levels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consultation_id", Integer, ForeignKey("consultations.id"), nullable=False),
    Column("level", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reported_by", String(40), nullable=False),
    Index("ix_call_security_levels_consultation", "consultation_id"),
)

# The rota (rota/ solves it; these tables keep its inputs and published results).
staff_contracts = Table(
    "staff_contracts",
    metadata,
    Column("staff_id", Integer, ForeignKey("staff_users.id"), primary_key=True),
    Column("contracted_hours", Float, nullable=False),
    Column("night_capable", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

staff_leave = Table(
    "staff_leave",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("staff_id", Integer, ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

staff_requests = Table(
    "staff_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("staff_id", Integer, ForeignKey("staff_users.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("first_day", Date, nullable=False),
    Column("last_day", Date, nullable=False),
    Column("weight", Integer, nullable=False),
    Column("shift", String(40), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

rota_demand = Table(
    "rota_demand",
    metadata,
    # Monday 00:00 local = 0 … Sunday 23:00 = 167.
    Column("hour_of_week", Integer, primary_key=True, autoincrement=False),
    Column("needed", Integer, nullable=False),
)

rotas = Table(
    "rotas",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("start_day", Date, nullable=False),
    Column("days", Integer, nullable=False),
    Column("pattern", String(20), nullable=False),
    Column("status", String(12), nullable=False),
    # The exact problem solved (docs/rota.md format) and the solver's summary, so a
    # rota can be re-checked and explained later whatever happened to contracts since.
    Column("problem", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("created_by", Integer, ForeignKey("staff_users.id"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_by", Integer, ForeignKey("staff_users.id"), nullable=True),
    Column("published_at", UTCDateTime, nullable=True),
    Index("ix_rotas_status_start", "status", "start_day"),
)

rota_shifts = Table(
    "rota_shifts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rota_id", Integer, ForeignKey("rotas.id"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff_users.id"), nullable=False),
    Column("day", Date, nullable=False),
    Column("shift", String(40), nullable=False),
    # Real instants (the hub's wall-clock start, elapsed length): what routing asks.
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Index("ix_rota_shifts_rota_staff_day", "rota_id", "staff_id", "day", unique=True),
    Index("ix_rota_shifts_starts_at", "starts_at"),
)

# Background rota jobs (hub/rostering/jobs.py): written by the process that runs the solver,
# read by all. The partial unique index allows one running job at a time, hub-wide.
_RUNNING = text("state = 'running'")
rota_jobs = Table(
    "rota_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("started_by", String(200), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("time_limit_s", Float, nullable=False),
    Column("rota_id", Integer, ForeignKey("rotas.id"), nullable=True),
    Column("state", String(20), nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Column("elapsed_s", Float, nullable=False),
    Column("objective", Float, nullable=True),
    Column("best_bound", Float, nullable=True),
    Column("solutions", Integer, nullable=False),
    Column("redirect", String(300), nullable=True),
    Column("error", Text, nullable=True),
    Index(
        "uq_rota_jobs_one_running",
        "state",
        unique=True,
        sqlite_where=_RUNNING,
        postgresql_where=_RUNNING,
    ),
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
    # The first event whose hash is keyed (migration 0011); earlier ones are plain SHA-256.
    Column("keyed_from", BigInteger, nullable=False, server_default=text("1")),
)

# The report rollup (migrations 0005, 0007): counted consultations summed per UK day, kept
# in step by hub/store/report_rollup.py in the transaction of every write that changes
# a reported figure, and recomputed from scratch by `telehub report rebuild-rollup`.
# Per care home, and for all homes together (totals): the avoided-event counts. For all
# homes together: the outcome and reason mix (codes) and the local hour of week and
# answer-time histogram (slots).
report_daily_totals = Table(
    "report_daily_totals",
    metadata,
    Column("day", Date, primary_key=True),
    Column("calls", Integer, nullable=False),
    *(Column(flag, Integer, nullable=False) for flag in FLAG_COLUMNS.values()),
)

report_daily_homes = Table(
    "report_daily_homes",
    metadata,
    Column("day", Date, primary_key=True),
    Column("home_id", Integer, ForeignKey("care_homes.id"), primary_key=True, autoincrement=False),
    Column("calls", Integer, nullable=False),
    *(Column(flag, Integer, nullable=False) for flag in FLAG_COLUMNS.values()),
)

report_daily_codes = Table(
    "report_daily_codes",
    metadata,
    Column("day", Date, primary_key=True),
    Column("kind", String(10), primary_key=True),  # outcome | reason
    Column("code", String(40), primary_key=True),
    Column("calls", Integer, nullable=False),
)

report_daily_slots = Table(
    "report_daily_slots",
    metadata,
    Column("day", Date, primary_key=True),
    # hour: Monday 00:00 UK local time = 0 … Sunday 23:00 = 167;
    # wait: answer-time histogram bucket (hub.reports.summary.wait_bucket).
    Column("kind", String(10), primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("calls", Integer, nullable=False),
)

# Guests of a live call (migration 0013, hub/calls/guest_services.py): a clinician's
# single-use invitation links, and the guests who came through them. Tokens are kept
# only as SHA-256 digests. One guest per invitation (``invitation_id`` is unique).
call_invitations = Table(
    "call_invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consultation_id", Integer, ForeignKey("consultations.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index("ix_call_invitations_consultation", "consultation_id"),
)

call_guests = Table(
    "call_guests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("consultation_id", Integer, ForeignKey("consultations.id"), nullable=False),
    Column(
        "invitation_id", Integer, ForeignKey("call_invitations.id"), nullable=False, unique=True
    ),
    Column("kind", String(20), nullable=False),
    Column("name", String(60), nullable=False),
    # The guest's session cookie, as a digest; emptied when the guest is gone.
    Column("session_hash", String(64), nullable=True, unique=True),
    Column("state", String(10), nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("admitted_at", UTCDateTime, nullable=True),
    Column("left_at", UTCDateTime, nullable=True),
    Column("removed_by", String(40), nullable=True),
    Index("ix_call_guests_consultation", "consultation_id"),
)
