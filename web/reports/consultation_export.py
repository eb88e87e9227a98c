"""The consultations export as CSV and JSON: one row (or object) per consultation, with
who took part — the answering clinician and every guest (GP, family member, interpreter,
other) — and how the call's media was secured, with every change of it.

Read from ``hub.reports.export.consultations`` like the FHIR export, so the three agree
and share its scope (a care-home manager exports only their own home's calls, guests
included) and its audit (``consultations.exported``, the format ``csv`` or ``json``).

- CSV is for managers in a spreadsheet: coded values in words, times as UK wall-clock
  time (``2026-03-02 10:31``, a form spreadsheets read as a date and time), the guests
  and the security changes each in one readable cell, so a call stays one row. Every
  cell is guarded against formula injection as the dashboard's CSV is (``safe_cell``):
  a guest typed their own name.
- JSON is for machines: codes beside their words, instants in ISO 8601 with an offset,
  guests and security changes as lists of objects.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from hub.calls.consultation import Consultation
from hub.calls.guests import Guest, GuestState
from hub.calls.security import label_of
from hub.reports.export import ConsultationExport
from web.http.local_time import hub_zone

CSV_COLUMNS = (
    "call_id",
    "requested_uk",
    "answered_uk",
    "ended_uk",
    "home",
    "home_code",
    "resident",
    "reason",
    "state",
    "clinician",
    "outcome",
    # Who took part and how the call was secured: at the end, so that columns added
    # later go after them and nothing before them ever moves.
    "guests",
    "security",
    "security_changes",
)


def csv_rows(found: ConsultationExport) -> list[dict[str, object]]:
    """One row per consultation, columns ``CSV_COLUMNS`` (not yet guarded: the writer
    passes every cell through ``safe_cell``)."""
    return [_csv_row(c, found) for c in found.calls]


def json_records(found: ConsultationExport) -> list[dict[str, Any]]:
    """One object per consultation."""
    return [_json_record(c, found) for c in found.calls]


def _csv_row(c: Consultation, found: ConsultationExport) -> dict[str, object]:
    home = found.homes.get(c.home_id)
    resident = found.residents.get(c.resident_id)
    clinician = found.staff.get(c.answered_by) if c.answered_by is not None else None
    day = _uk(c.requested_at).date()
    return {
        "call_id": c.id,
        "requested_uk": _uk_text(c.requested_at),
        "answered_uk": _uk_text(c.answered_at),
        "ended_uk": _uk_text(c.ended_at),
        "home": home.name if home else "",
        "home_code": home.code if home else "",
        "resident": resident.display_name if resident else "",
        "reason": c.reason.label,
        "state": c.state.label,
        "clinician": clinician.display_name if clinician else "",
        "outcome": c.outcome.label if c.outcome else "",
        "guests": "; ".join(_guest_text(g, day) for g in found.guests_of(c.id)),
        "security": label_of(c.security_level),
        "security_changes": "; ".join(
            f"{_clock_text(s.at, day)} {s.level.label}" for s in found.security_of(c.id)
        ),
    }


def _guest_text(g: Guest, day: date) -> str:
    """``Dr Patel (GP, let in 10:31, removed 10:40)``; times in UK time, with the date
    only when it is not the day the call was requested."""
    parts = [g.kind.label]
    if g.admitted_at is not None:
        parts.append(f"let in {_clock_text(g.admitted_at, day)}")
    elif not g.present:
        parts.append("not let in")
    if g.state is GuestState.REMOVED and g.left_at is not None:
        parts.append(f"removed {_clock_text(g.left_at, day)}")
    elif g.state is GuestState.LEFT and g.left_at is not None:
        parts.append(f"left {_clock_text(g.left_at, day)}")
    else:
        parts.append(g.state.label.lower())
    return f"{g.name} ({', '.join(parts)})"


def _json_record(c: Consultation, found: ConsultationExport) -> dict[str, Any]:
    home = found.homes.get(c.home_id)
    resident = found.residents.get(c.resident_id)
    clinician = found.staff.get(c.answered_by) if c.answered_by is not None else None
    return {
        "call_id": c.id,
        "state": c.state.value,
        "state_label": c.state.label,
        "requested_at": _iso(c.requested_at),
        "answered_at": _iso(c.answered_at),
        "ended_at": _iso(c.ended_at),
        "home": {"id": c.home_id, "code": home.code, "name": home.name} if home else None,
        "resident": {"id": c.resident_id, "name": resident.display_name} if resident else None,
        "reason": c.reason.value,
        "reason_label": c.reason.label,
        "clinician": clinician.display_name if clinician else None,
        "outcome": c.outcome.value if c.outcome else None,
        "outcome_label": c.outcome.label if c.outcome else None,
        "guests": [
            {
                "name": g.name,
                "kind": g.kind.value,
                "kind_label": g.kind.label,
                "state": g.state.value,
                "state_label": g.state.label,
                "joined_at": _iso(g.joined_at),  # arrived in the lobby
                "admitted_at": _iso(g.admitted_at),  # None: never let in
                "left_at": _iso(g.left_at),  # left, removed, or the call ended
            }
            for g in found.guests_of(c.id)
        ],
        "security": {
            "level": c.security_level,  # None: the browsers never said
            "label": label_of(c.security_level),
            "changes": [
                {
                    "at": _iso(s.at),
                    "level": s.level.value,
                    "label": s.level.label,
                    "reported_by": found.who(s.reported_by),  # as the call page names them
                    "reported_by_ref": s.reported_by,  # as the audit trail does
                }
                for s in found.security_of(c.id)
            ],
        },
    }


def _uk(at: datetime) -> datetime:
    return at.astimezone(hub_zone())


def _uk_text(at: datetime | None) -> str:
    return "" if at is None else _uk(at).strftime("%Y-%m-%d %H:%M")


def _clock_text(at: datetime, day: date) -> str:
    local = _uk(at)
    return local.strftime("%H:%M") if local.date() == day else local.strftime("%Y-%m-%d %H:%M")


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()
