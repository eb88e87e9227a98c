"""The two-step re-presentation form shared by the tablet and the resident page.

Choose what happened (no choice is made for the person) → a server-rendered page says
exactly what changes (``hub.outcomes.representations.preview``) → **Confirm** posts the same
fields with ``confirm=yes`` and it is recorded; then **Undo** is offered for
``outcomes.representation_undo_minutes``. It all works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.context import HubContext
from hub.errors import ValidationError
from hub.outcomes.representations import Change
from web.http.forms import form, text
from web.http.local_time import local, parse_local
from web.http.render import render


async def read(request: web.Request, ctx: HubContext) -> tuple[dict[str, Any], bool]:
    """The submitted re-presentation (a typed time is UK time; empty = now) and whether
    this is the confirming post. Raises ``ValidationError`` when nothing was chosen."""
    data = await form(request)
    kind = text(data, "kind").strip()
    if not kind:
        raise ValidationError("choose what happened first", field="kind")
    when = text(data, "at").strip()
    at = parse_local(when, field="at", name="when") if when else ctx.clock.now()
    return {"kind": kind, "at": at.isoformat()}, text(data, "confirm") == "yes"


def confirm_page(
    request: web.Request,
    ctx: HubContext,
    change: Change,
    *,
    action: str,
    back: str,
    body_class: str = "",
) -> web.Response:
    return render(
        "representation_confirm.html",
        request,
        {
            "change": change,
            "action": action,
            "back": back,
            "body_class": body_class,
            "local": local,
            "undo_minutes": ctx.settings.outcomes.representation_undo_minutes,
        },
    )
