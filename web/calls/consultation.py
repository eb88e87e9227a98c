"""One consultation for hub staff: its details, its outcome history, and amending it.

Opening the page is an audited access to the resident's record
(``hub.calls.history.view_call``). Amending goes through the one domain function,
``hub.calls.closure.record_outcome``, which refuses an amendment without a reason and
writes who changed what, from what, and why to the audit trail; the page reads that
history back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from hub.calls import closure, guest_services, history, notes, security
from hub.calls.consultation import SOFT_SIGNS, State
from hub.calls.history import CallRecord, HistoryEntry
from hub.calls.lifecycle import TERMINAL
from hub.errors import NotFound, ValidationError
from hub.outcomes.avoided import EVENT_LABELS
from hub.outcomes.codes import AdmissionJudgement, FollowUp, OutcomeCode, RepresentationKind
from hub.people.access import Role
from web.http.forms import form, int_param, text
from web.http.keys import CTX
from web.http.local_time import hub_zone, local, parse_local
from web.http.render import render
from web.http.security import actor_of, require

routes = web.RouteTableDef()
STAFF = (Role.CLINICIAN, Role.MANAGER, Role.ADMIN)
FIELDS = ("outcome", "follow_up", "call_back_at", "admission_judgement", "why")


@routes.get("/calls/{call_id}")
@require(*STAFF)
async def call_detail(request: web.Request) -> web.StreamResponse:
    return await _render(request)


@routes.post("/calls/{call_id}/notes")
@require(Role.CLINICIAN)
async def add_note(request: web.Request) -> web.StreamResponse:
    """A late entry or a correction, once the call is over (hub/calls/notes.py decides)."""
    ctx = request.app[CTX]
    actor = actor_of(request)
    call_id = int_param(request, "call_id")
    data = await form(request)
    submitted = {"text": text(data, "text"), "corrects": text(data, "corrects")}
    try:
        if submitted["corrects"]:
            if not submitted["corrects"].isdigit():
                raise ValidationError("choose the entry to correct from the list")
            await notes.correct(ctx, actor, call_id, int(submitted["corrects"]), submitted["text"])
        else:
            await notes.add(ctx, actor, call_id, submitted["text"])
    except (ValidationError, NotFound) as err:  # shown with the form, the text kept
        if isinstance(err, NotFound) and not err.message.startswith("no note entry"):
            raise
        return await _render(request, note_form=submitted, note_error=err.message, status=422)
    raise web.HTTPSeeOther(f"/calls/{call_id}#notes")


@routes.post("/calls/{call_id}/outcome")
@require(Role.CLINICIAN, refusal="only clinicians record outcomes")
async def amend_outcome(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    call_id = int_param(request, "call_id")
    data = await form(request)
    submitted = {name: text(data, name)[:2000] for name in FIELDS}
    values: dict[str, Any] = dict(submitted)
    try:
        if submitted["call_back_at"]:
            at = parse_local(submitted["call_back_at"], field="call_back_at", name="call back time")
            values["call_back_at"] = at.isoformat()
        await closure.record_outcome(ctx, actor, call_id, values, submitted["why"])
    except NotFound:
        await history.audit_refused(ctx, actor, call_id, "outcome")
        raise
    except ValidationError as err:
        return await _render(request, submitted=submitted, error=err, status=422)
    raise web.HTTPSeeOther(f"/calls/{call_id}#history")


async def _render(
    request: web.Request,
    *,
    submitted: Mapping[str, str] | None = None,
    error: ValidationError | None = None,
    status: int = 200,
    note_form: Mapping[str, str] | None = None,
    note_error: str | None = None,
) -> web.StreamResponse:
    ctx = request.app[CTX]
    actor = actor_of(request)
    call_id = int_param(request, "call_id")
    record = await history.view_call(ctx, actor, call_id)
    guests = (await guest_services.participants(ctx, actor, call_id)).guests
    call = record.call
    amending = call.outcome is not None
    can_edit = (
        actor.role is Role.CLINICIAN
        and call.state is State.ENDED
        and (amending or call.answered_by == actor.id)
    )
    return render(
        "consultation.html",
        request,
        {
            "rec": record,
            "call": call,
            "guests": guests,
            "local": local,
            "soft_sign_labels": SOFT_SIGNS,
            "security_label": security.label_of(call.security_level),
            "history": [_history_row(e) for e in reversed(record.history)],
            "amending": amending,
            # Late entries and corrections once the call is over (live: the console).
            "can_add_note": actor.role is Role.CLINICIAN and call.state in TERMINAL,
            "terminal": call.state in TERMINAL,
            "ended": call.state is State.ENDED,
            "note_form": note_form or {"text": "", "corrects": ""},
            "note_error": note_error,
            "can_edit": can_edit,
            "is_clinician": actor.role is Role.CLINICIAN,
            "form": submitted if submitted is not None else _current(record),
            "error": error.message if error else None,
            "error_field": error.field if error else None,
            "outcomes": list(OutcomeCode),
            "follow_ups": list(FollowUp),
            "judgements": list(AdmissionJudgement),
        },
        status=status,
    )


def _current(record: CallRecord) -> dict[str, str]:
    """The form starts from the outcome as it stands."""
    c = record.call
    call_back = ""
    if c.call_back_at:
        call_back = c.call_back_at.astimezone(hub_zone()).strftime("%Y-%m-%dT%H:%M")
    return {
        "outcome": c.outcome.value if c.outcome else "",
        "follow_up": c.follow_up.value if c.follow_up else "",
        "call_back_at": call_back,
        "admission_judgement": c.admission_judgement.value if c.admission_judgement else "",
        "why": "",
    }


def _label(enum: Any, value: str | None) -> str:
    if not value:
        return "—"
    try:
        return str(enum(value).label)
    except ValueError:
        return value


def _history_row(entry: HistoryEntry) -> dict[str, str]:
    d = entry.detail
    if entry.action in ("call.representation", "call.representation_undone"):
        at = d.get("at")
        when = local(datetime.fromisoformat(at)) if isinstance(at, str) else "—"
        done = "undone" if entry.action == "call.representation_undone" else "recorded"
        what = f"Re-presentation {done}: {_label(RepresentationKind, d.get('kind'))} ({when})"
    elif entry.action == "call.outcome_deferred":
        what = "Outcome deferred (still outstanding until it is recorded)"
    elif entry.action == "call.outcome_amended":
        before = _label(OutcomeCode, d.get("previous"))
        what = f"Outcome amended: {before} → {_label(OutcomeCode, d.get('outcome'))}"
    else:
        what = f"Outcome recorded: {_label(OutcomeCode, d.get('outcome'))}"
    extra = []
    for key, words in (
        ("no_longer_avoided", "no longer counted as avoided"),
        ("avoided_again", "counted as avoided again"),
    ):
        events = d.get(key)
        if isinstance(events, list) and events:
            names = ", ".join(EVENT_LABELS.get(str(e), str(e)) for e in events)
            extra.append(f"{words}: {names}")
    if d.get("follow_up"):
        extra.append(f"follow-up: {_label(FollowUp, d.get('follow_up'))}")
    if d.get("admission_judgement"):
        judgement = _label(AdmissionJudgement, d.get("admission_judgement"))
        extra.append(f"admission likely: {judgement}")
    return {
        "at": local(entry.at),
        "who": entry.who,
        "what": what,
        "extra": "; ".join(extra),
        "why": entry.why,
        "action": entry.action,
    }
