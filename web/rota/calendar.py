"""A clinician's published shifts as an iCalendar file, for their phone or desktop
calendar (``GET /rota/mine.ics``, linked from "My shifts").

Times are written in UTC, so no calendar can misplace a shift across a clock change; a
calendar shows them in its own zone. Each shift's UID is the person and the day, so
importing a newer file after the rota changed (a sickness repair, a new rota) updates
the day's event instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from hub.rostering.problem import ShiftRecord
from web.http.local_time import hub_zone

PRODUCT = "-//telehub//rota//EN"
# The same for every download whatever host name the hub was reached by, so that a
# newer file always updates the events of an older one.
UID_DOMAIN = "rota.telehub"


def shifts_calendar(name: str, shifts: Sequence[ShiftRecord], made_at: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"telehub shifts: {name}")
    zone = hub_zone()
    for s in shifts:
        start, end = s.starts_at.astimezone(zone), s.ends_at.astimezone(zone)
        event = Event()
        event.add("uid", f"shift-{s.staff_id}-{s.day.isoformat()}@{UID_DOMAIN}")
        event.add("dtstamp", made_at.astimezone(UTC))
        event.add("dtstart", s.starts_at.astimezone(UTC))
        event.add("dtend", s.ends_at.astimezone(UTC))
        event.add("summary", f"Hub shift: {s.shift}")
        event.add(
            "description",
            f"{s.shift} shift on the telehub clinical hub rota, "
            f"{start:%a %d %b %H:%M}–{end:%H:%M} UK time",
        )
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
