"""Times typed into and shown on pages are the hub's local (UK) time; storage is UTC.

``<input type="datetime-local">`` sends a naive ``2026-03-02T10:30``: it is read as
Europe/London wall-clock time (falling back to UTC on a machine without a time-zone
database) and turned into an aware datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import ValidationError

HUB_ZONE = "Europe/London"


def hub_zone() -> tzinfo:
    try:
        return ZoneInfo(HUB_ZONE)
    except ZoneInfoNotFoundError:
        return UTC


def parse_local(raw: str, *, field: str, name: str = "the time") -> datetime:
    """A ``datetime-local`` value (or ISO 8601 with an offset) as an aware datetime."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError(
            f"{name} {raw[:40]!r} is not a date and time like 2026-03-02T10:30", field=field
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=hub_zone())
    return value


def local(value: datetime | None) -> str:
    """An instant as UK wall-clock time for people (``02 Mar 2026 10:30``)."""
    if value is None:
        return "—"
    return value.astimezone(hub_zone()).strftime("%d %b %Y %H:%M")
