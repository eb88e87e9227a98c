"""The rota lead's pages: the rotas, generating one (a background job with progress),
one rota as a grid with hand edits, publish, withdraw, sickness and downloads.

Rota leads are hub managers and admins (``hub.rostering.inputs.require_lead``): care-home
managers and clinicians get 403 here; clinicians have ``/rota/mine``. Contracts, leave,
requests and demand are on the pages of ``web/rota/inputs.py``.
"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.context import HubContext
from hub.errors import Conflict, DomainError, ValidationError
from hub.people.access import Actor, Role
from hub.rostering import plans
from hub.rostering.inputs import require_lead
from hub.rostering.jobs import JobRecord, JobState
from hub.rostering.problem import RotaStatus
from rota.problem_io import dump_problem
from web.http.forms import form, int_param, text
from web.http.keys import CTX
from web.http.local_time import hub_zone, local
from web.http.render import render
from web.http.security import actor_of, require
from web.rota import inputs, page
from web.rota.charts import cover_chart
from web.rota.jobs import ROTA_JOBS

LEAD = (Role.MANAGER, Role.ADMIN)
_own = web.RouteTableDef()


def _lead(request: web.Request) -> Actor:
    actor = actor_of(request)
    require_lead(actor)
    return actor


def _ctx(request: web.Request) -> HubContext:
    return request.app[CTX]


def parse_day(raw: str, what: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError(f"{what}: {raw[:20]!r} is not a date like 2026-03-02") from None


def parse_number(raw: str, what: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValidationError(f"{what}: {raw[:20]!r} is not a number") from None


def _status(err: DomainError) -> int:
    return 409 if isinstance(err, Conflict) else 422


def _job_json(job: JobRecord | None) -> dict[str, Any] | None:
    return None if job is None else job.as_json()


async def _query_job(request: web.Request) -> JobRecord | None:
    job_id = request.query.get("job", "")
    if not job_id:
        return None
    return await request.app[ROTA_JOBS].get(actor_of(request), job_id)


# -- the list of rotas, and generating one ------------------------------------------


def next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


async def _render_overview(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
    job: JobRecord | None = None,
) -> web.StreamResponse:
    ctx = _ctx(request)
    actor = _lead(request)
    rotas = await plans.list_rotas(ctx, actor)
    names = await plans.staff_names(ctx, actor)
    settings = ctx.settings.rota
    today = ctx.clock.now().astimezone(hub_zone()).date()
    defaults = {
        "start": next_monday(today).isoformat(),
        "days": str(settings.days),
        "pattern": settings.pattern,
        "limit": str(settings.time_limit_s),
    }
    rows = [
        {
            "r": r,
            "objective": r.summary.get("objective"),
            "solver": r.summary.get("status", ""),
            "uncovered": page.uncovered_count(r.summary),
            "created_by": names.get(r.created_by, "—"),
            "published_by": names.get(r.published_by, "") if r.published_by else "",
        }
        for r in rotas
    ]
    shown_job = job or await request.app[ROTA_JOBS].running(actor)
    return render(
        "rota.html",
        request,
        {
            "rows": rows,
            "form": {**defaults, **(values or {})},
            "patterns": [
                {"name": name, "shifts": page.pattern_summary(shifts)}
                for name, shifts in settings.patterns.items()
            ],
            "error": error,
            "job": _job_json(shown_job),
            "local": local,
        },
        status=status,
    )


@_own.get("/rota")
@require(*LEAD, hub_wide=True)
async def overview(request: web.Request) -> web.StreamResponse:
    _lead(request)
    job = await _query_job(request)
    if job is not None and job.state is JobState.DONE and job.redirect:
        raise web.HTTPSeeOther(job.redirect)  # without JavaScript: refresh until done
    return await _render_overview(request, job=job)


@_own.post("/rota/generate")
@require(*LEAD, hub_wide=True)
async def generate(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    actor = _lead(request)
    data = await form(request)
    values = {k: text(data, k) for k in ("start", "days", "pattern", "limit")}
    try:
        start = parse_day(values["start"], "start")
        days = int(parse_number(values["days"], "days"))
        limit = parse_number(values["limit"], "time limit")
        if not 1 <= limit <= 600:
            raise ValidationError("the time limit must be between 1 and 600 seconds")
        pattern = values["pattern"]
        await plans.prepare(ctx, actor, start, days, pattern)  # refuses bad input now

        async def work(progress: plans.ProgressFn, stop: threading.Event) -> str:
            record = await plans.generate(
                ctx,
                actor,
                start,
                days,
                pattern,
                time_limit_s=limit,
                on_progress=progress,
                stop=stop,
            )
            return f"/rota/{record.id}"

        last = start + timedelta(days=days - 1)
        job = await request.app[ROTA_JOBS].start(
            "generate",
            f"Generating the {pattern} rota {start:%d %b}–{last:%d %b %Y}",
            actor.name,
            limit,
            work,
        )
    except (ValidationError, Conflict) as err:
        return await _render_overview(
            request, status=_status(err), error=err.message, values=values
        )
    raise web.HTTPSeeOther(f"/rota?job={job.id}")


@_own.get(r"/rota/jobs/{job_id:[0-9a-f]{1,64}}")
@require(*LEAD, hub_wide=True)
async def job_status(request: web.Request) -> web.StreamResponse:
    job = await request.app[ROTA_JOBS].get(_lead(request), request.match_info["job_id"])
    return web.json_response(_job_json(job))


# -- one rota -----------------------------------------------------------------------


async def _render_rota(
    request: web.Request,
    rota_id: int,
    *,
    status: int = 200,
    error: str | None = None,
    refused: list[page.Broken] | None = None,
    notice: str | None = None,
    sick_form: dict[str, str] | None = None,
    job: JobRecord | None = None,
) -> web.StreamResponse:
    ctx = _ctx(request)
    actor = _lead(request)
    shown = await plans.view(ctx, actor, rota_id)
    names = await plans.staff_names(ctx, actor)
    record = shown.record
    running = await request.app[ROTA_JOBS].running(actor)
    if job is None and running is not None and running.rota_id == rota_id:
        job = running
    return render(
        "rota_view.html",
        request,
        {
            "rec": record,
            "page": page.build(shown),
            "chart": cover_chart(
                shown.problem, shown.assignments, shown.score.uncovered, shown.violations
            ),
            "summary": record.summary,
            "created_by": names.get(record.created_by, "—"),
            "published_by": names.get(record.published_by or 0, ""),
            "editable": record.status is not RotaStatus.WITHDRAWN,
            "error": error,
            "refused": refused or [],
            "notice": notice,
            "sick": sick_form or {"first": "", "last": "", "staff": ""},
            "job": _job_json(job),
            "local": local,
        },
        status=status,
    )


@_own.get(r"/rota/{rota_id:\d+}")
@require(*LEAD, hub_wide=True)
async def rota_view(request: web.Request) -> web.StreamResponse:
    rota_id = int_param(request, "rota_id")
    _lead(request)
    job = await _query_job(request)
    if job is not None and job.state is JobState.DONE and job.redirect:
        raise web.HTTPSeeOther(job.redirect)
    notices = {
        "saved": "Saved {n} change(s).",
        "published": "Published: the rota is now in force for its period.",
        "withdrawn": "Withdrawn.",
        "repaired": "Sickness recorded; the affected days re-solved ({n} shift change(s)).",
    }
    notice = next(
        (msg.format(n=request.query[k][:4]) for k, msg in notices.items() if k in request.query),
        None,
    )
    if notice and "resolved" in request.query:
        notice += (
            " The sick days alone could not be covered within the rules, so "
            f"{request.query['resolved'][:40]} were re-solved: tell the people whose shifts moved."
        )
    return await _render_rota(request, rota_id, notice=notice, job=job)


@_own.post(r"/rota/{rota_id:\d+}/edit")
@require(*LEAD, hub_wide=True)
async def edit(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    actor = _lead(request)
    rota_id = int_param(request, "rota_id")
    data = await form(request)
    shown = await plans.view(ctx, actor, rota_id)
    current = {(a.staff, a.day): a.shift for a in shown.assignments}
    edits: list[plans.CellEdit] = []
    for name in dict.fromkeys(data.keys()):
        cell = page.parse_cell_field(name)
        if cell is None:
            continue
        staff_id, day = cell
        wanted = text(data, name) or None
        if current.get((str(staff_id), day)) != wanted:
            edits.append(plans.CellEdit(staff_id, day, wanted))
    if not edits:
        raise web.HTTPSeeOther(f"/rota/{rota_id}?saved=0")
    try:
        await plans.edit(ctx, actor, rota_id, edits)
    except plans.RotaRulesBroken as err:
        what = "this change" if len(edits) == 1 else f"these {len(edits)} changes together"
        message = f"Nothing was saved: {what} would break the published rota's rules."
        refused = page.broken_rules(err.violations, shown.names)
        return await _render_rota(request, rota_id, status=409, error=message, refused=refused)
    except (ValidationError, Conflict) as err:
        return await _render_rota(request, rota_id, status=_status(err), error=err.message)
    raise web.HTTPSeeOther(f"/rota/{rota_id}?saved={len(edits)}")


@_own.post(r"/rota/{rota_id:\d+}/publish")
@require(*LEAD, hub_wide=True)
async def publish(request: web.Request) -> web.StreamResponse:
    rota_id = int_param(request, "rota_id")
    try:
        await plans.publish(_ctx(request), _lead(request), rota_id)
    except plans.RotaRulesBroken as err:
        return await _render_rota(request, rota_id, status=409, error=err.message)
    except Conflict as err:
        return await _render_rota(request, rota_id, status=409, error=err.message)
    raise web.HTTPSeeOther(f"/rota/{rota_id}?published=1")


@_own.post(r"/rota/{rota_id:\d+}/withdraw")
@require(*LEAD, hub_wide=True)
async def withdraw(request: web.Request) -> web.StreamResponse:
    rota_id = int_param(request, "rota_id")
    await plans.withdraw(_ctx(request), _lead(request), rota_id)
    raise web.HTTPSeeOther(f"/rota/{rota_id}?withdrawn=1")


@_own.post(r"/rota/{rota_id:\d+}/sickness")
@require(*LEAD, hub_wide=True)
async def sickness(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    actor = _lead(request)
    rota_id = int_param(request, "rota_id")
    data = await form(request)
    values = {k: text(data, k) for k in ("staff", "first", "last")}
    try:
        shown = await plans.view(ctx, actor, rota_id)
        if shown.record.status is not RotaStatus.PUBLISHED:
            raise Conflict("sickness is handled on a published rota; edit a draft by hand")
        staff = values["staff"]
        if staff not in {s.id for s in shown.problem.staff}:
            raise ValidationError("choose a clinician on this rota")
        first = parse_day(values["first"], "from")
        last = parse_day(values["last"], "to")
        if last < first:
            raise ValidationError(f"to ({last}) is before from ({first})")
        if last < shown.record.start or shown.record.last < first:
            raise ValidationError(
                f"{first}–{last} is outside the rota ({shown.record.start}–{shown.record.last})"
            )

        async def work(progress: plans.ProgressFn, stop: threading.Event) -> str:
            done = await plans.report_sickness(
                ctx, actor, rota_id, int(staff), first, last, on_progress=progress, stop=stop
            )
            query = {"repaired": str(done.changed)}
            if done.days[0] < first or done.days[-1] > last:  # had to free more days
                query["resolved"] = f"{done.days[0]:%a %d %b}–{done.days[-1]:%a %d %b}"
            return f"/rota/{rota_id}?{urlencode(query)}"

        who = shown.names.get(staff, f"#{staff}")
        job = await request.app[ROTA_JOBS].start(
            "sickness",
            f"Re-solving rota {rota_id} for {who}'s sickness {first:%d %b}–{last:%d %b}",
            actor.name,
            float(ctx.settings.rota.time_limit_s),
            work,
            rota_id=rota_id,
        )
    except (ValidationError, Conflict) as err:
        return await _render_rota(
            request, rota_id, status=_status(err), error=err.message, sick_form=values
        )
    raise web.HTTPSeeOther(f"/rota/{rota_id}?job={job.id}")


def _download(data: Any, name: str) -> web.Response:
    return web.Response(
        text=json.dumps(data, indent=2),
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@_own.get(r"/rota/{rota_id:\d+}/problem.json")
@require(*LEAD, hub_wide=True)
async def problem_json(request: web.Request) -> web.StreamResponse:
    rota_id = int_param(request, "rota_id")
    shown = await plans.view(_ctx(request), _lead(request), rota_id)
    return _download(dump_problem(shown.problem), f"rota-{rota_id}-problem.json")


@_own.get(r"/rota/{rota_id:\d+}/solution.json")
@require(*LEAD, hub_wide=True)
async def solution_json(request: web.Request) -> web.StreamResponse:
    rota_id = int_param(request, "rota_id")
    shown = await plans.view(_ctx(request), _lead(request), rota_id)
    return _download(page.solution_json(shown), f"rota-{rota_id}-solution.json")


#: Every rota route: this module's and the inputs pages' (one entry in web/app.py).
routes: list[web.AbstractRouteDef] = [*inputs.routes, *_own]
