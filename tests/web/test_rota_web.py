"""The rota lead's pages over HTTP on a real database: inputs, demand, generating in the
background with progress, the rota grid with hand edits, publish, sickness, and who
may see what."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from icalendar import Calendar

from hub.context import HubContext
from hub.people.access import SYSTEM
from hub.rostering import inputs, plans
from hub.rostering.jobs import JobRecord, JobState
from hub.rostering.problem import RotaStatus
from hub.settings import Settings
from rota.model import Assignment, RuleParams
from rota.problem_io import parse_problem
from rota.rules import RULES, check
from rota.solution_io import parse_assignments
from tests.conftest import PASSWORD
from tests.hub.rota_fixtures import (
    MONDAY,
    actor_for,
    call_history,
    rota_lead,
    rota_team,
    swap_legal_only_as_a_pair,
    with_nine_hour,
)
from tests.web.helpers import csrf, login, post_form
from tests.web.rota_helpers import JSON, NEXT_MONDAY, finish_job, generate_rota, start_job
from web.rota.jobs import ROTA_JOBS
from web.rota.page import HARD_RULE_LABELS


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Short solver runs: every job here (generate and sickness) stops within 2 s."""
    return settings.replace("rota", time_limit_s=2, days=7)


@pytest.fixture
async def team(ctx: HubContext):  # type: ignore[no-untyped-def]
    return await rota_team(ctx)


@pytest.fixture
async def lead(client, ctx, clock, team):  # type: ignore[no-untyped-def]
    actor = await rota_lead(ctx)
    await login(client, ctx, clock, "lead", PASSWORD, actor.id)
    return actor


async def _draft(client: TestClient) -> int:
    job = await finish_job(client, await generate_rota(client))
    assert job["state"] == "done", job
    match = re.fullmatch(r"/rota/(\d+)", job["redirect"])
    assert match, job
    return int(match.group(1))


# -- who may see what ---------------------------------------------------------------


async def test_pages_render_for_the_lead(client, lead, team) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/rota")
    body = await resp.text()
    assert resp.status == 200
    assert f'name="start" required value="{NEXT_MONDAY.isoformat()}"' in body
    assert 'name="days" min="1" max="84" required value="7"' in body
    assert 'href="/rota/people"' in body and 'href="/rota/demand"' in body
    assert '<a href="/rota">Rota</a>' in body  # the nav link
    people = await (await client.get("/rota/people")).text()
    assert all(u.display_name in people for u in team)
    assert people.count('name="hours"') == len(team)
    demand = await client.get("/rota/demand")
    html = await demand.text()
    assert demand.status == 200 and html.count('name="h') == 168
    assert 'data-testid="demand-chart"' in html
    assert (await client.get("/rota/mine")).status == 200


async def test_care_home_managers_are_refused(client, ctx, clock, home, team) -> None:  # type: ignore[no-untyped-def]
    manager = await rota_lead(ctx, home.id)
    await login(client, ctx, clock, f"chm{home.id}", PASSWORD, manager.id)
    for path in ("/rota", "/rota/people", "/rota/demand"):
        assert (await client.get(path)).status == 403, path
    token = await csrf(client, "/rota/mine")
    resp = await client.post(
        "/rota/generate",
        data={
            "csrf_token": token,
            "start": "2026-03-09",
            "days": "7",
            "pattern": "8h",
            "limit": "2",
        },
    )
    assert resp.status == 403
    assert '<a href="/rota">Rota</a>' not in await (await client.get("/rota/mine")).text()


async def test_a_clinician_sees_only_their_own_shifts_and_requests(
    client, ctx, clock, team
) -> None:  # type: ignore[no-untyped-def]
    me = team[8]
    await login(client, ctx, clock, me.username, PASSWORD, me.id)
    for path in ("/rota", "/rota/people", "/rota/demand"):
        assert (await client.get(path)).status == 403, path
    page = await client.get("/rota/mine")
    body = await page.text()
    assert page.status == 200 and "No published shifts" in body
    assert '<a href="/rota/mine">Rota</a>' in body
    request = {"kind": "day_off", "first": "2026-03-12", "last": "", "weight": "7", "shift": ""}
    resp = await post_form(client, "/rota/mine/requests", request, token_from="/rota/mine")
    assert resp.status == 303
    (own,) = await inputs.own_requests(ctx, actor_for(me))
    assert (own.first, own.last, own.weight) == (MONDAY + timedelta(days=10),) * 2 + (7,)
    bad = await post_form(
        client, "/rota/mine/requests", {**request, "weight": "0"}, token_from="/rota/mine"
    )
    text = await bad.text()
    assert bad.status == 422 and "request weight must be between 1 and 100" in text
    assert 'value="2026-03-12"' in text  # what was typed is kept
    resp = await post_form(
        client, f"/rota/mine/requests/{own.id}/remove", {}, token_from="/rota/mine"
    )
    assert resp.status == 303
    assert "No requests." in await (await client.get("/rota/mine")).text()


async def test_a_clinician_takes_their_shifts_to_their_calendar(client, ctx, clock, team) -> None:  # type: ignore[no-untyped-def]
    lead = await rota_lead(ctx)
    record = await plans.generate(ctx, lead, MONDAY, 7, "8h", time_limit_s=2)
    await plans.publish(ctx, lead, record.id)
    shifts = (await plans.view(ctx, lead, record.id)).shifts
    me = next(u for u in team if any(s.staff_id == u.id for s in shifts))
    mine = sorted((s for s in shifts if s.staff_id == me.id), key=lambda s: s.starts_at)
    await login(client, ctx, clock, me.username, PASSWORD, me.id)
    assert 'href="/rota/mine.ics"' in await (await client.get("/rota/mine")).text()

    resp = await client.get("/rota/mine.ics")
    assert resp.status == 200 and resp.content_type == "text/calendar"
    assert "attachment" in resp.headers["Content-Disposition"]
    calendar = Calendar.from_ical(await resp.read())
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    now = clock.now()
    expected = [s for s in mine if s.ends_at > now]  # from now on, as the page lists them
    assert [(e.decoded("dtstart"), e.decoded("dtend")) for e in events] == [
        (s.starts_at, s.ends_at) for s in expected
    ]
    assert [str(e["summary"]) for e in events] == [f"Hub shift: {s.shift}" for s in expected]
    assert len({str(e["uid"]) for e in events}) == len(events)  # one per person and day
    assert all(e.decoded("dtstart").utcoffset() == timedelta(0) for e in events)  # UTC


async def test_the_calendar_needs_a_login(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/rota/mine.ics", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/login?next=/rota/mine.ics"


# -- contracts, leave, requests, demand ------------------------------------------------


async def test_contract_leave_and_request_forms(client, ctx, lead, team) -> None:  # type: ignore[no-untyped-def]
    who = team[8]
    page = "/rota/people"
    resp = await post_form(
        client, "/rota/people/contract", {"staff_id": str(who.id), "hours": "30"}, token_from=page
    )
    assert resp.status == 303
    roster = await inputs.roster(ctx, lead)
    assert roster.contracts[who.id].contracted_hours == 30
    assert roster.contracts[who.id].night_capable is False  # box unticked: day only
    bad = await post_form(
        client,
        "/rota/people/contract",
        {"staff_id": str(who.id), "hours": "seventy", "night_capable": "on"},
        token_from=page,
    )
    assert bad.status == 422 and "is not a number of hours" in await bad.text()

    leave = {"staff_id": str(who.id), "first": "2026-03-10", "last": "2026-03-12", "kind": "annual"}
    assert (await post_form(client, "/rota/people/leave", leave, token_from=page)).status == 303
    clash = await post_form(
        client,
        "/rota/people/leave",
        {**leave, "first": "2026-03-12", "last": "2026-03-14", "kind": "training"},
        token_from=page,
    )
    text = await clash.text()
    assert clash.status == 422 and "overlaps" in text
    assert 'value="2026-03-14"' in text and '<option value="training" selected>' in text
    (entry,) = (await inputs.roster(ctx, lead)).leave
    removed = await post_form(client, f"/rota/people/leave/{entry.id}/remove", {}, token_from=page)
    assert removed.status == 303 and not (await inputs.roster(ctx, lead)).leave

    request = {
        "staff_id": str(who.id),
        "kind": "shift",
        "first": "2026-03-11",
        "last": "2026-03-13",
        "weight": "5",
        "shift": "early",
    }
    assert (
        await post_form(client, "/rota/people/requests", request, token_from=page)
    ).status == 303
    zero = await post_form(
        client, "/rota/people/requests", {**request, "weight": "0"}, token_from=page
    )
    assert zero.status == 422 and "between 1 and 100" in await zero.text()
    nobody = await post_form(
        client, "/rota/people/requests", {**request, "staff_id": "9999"}, token_from=page
    )
    assert nobody.status == 422 and "no clinician with id 9999" in await nobody.text()
    (kept,) = (await inputs.roster(ctx, lead)).requests
    assert (kept.shift, kept.weight) == ("early", 5)
    assert "Preferred shift: early" in await (await client.get(page)).text()
    gone = await post_form(client, f"/rota/people/requests/{kept.id}/remove", {}, token_from=page)
    assert gone.status == 303 and not (await inputs.roster(ctx, lead)).requests

    no_token = await client.post("/rota/people/leave", data=leave, allow_redirects=False)
    assert no_token.status == 403 and not (await inputs.roster(ctx, lead)).leave


async def test_demand_grid_save_bad_value_and_forecast(client, ctx, home, lead) -> None:  # type: ignore[no-untyped-def]
    week = {f"h{h}": str(2 + (h % 24 >= 8)) for h in range(168)}
    resp = await post_form(client, "/rota/demand", week, token_from="/rota/demand")
    assert resp.status == 303
    assert (await inputs.roster(ctx, lead)).demand == tuple(2 + (h % 24 >= 8) for h in range(168))
    bad = await post_form(
        client, "/rota/demand", {**week, "h5": "x", "h6": "9"}, token_from="/rota/demand"
    )
    text = await bad.text()
    assert bad.status == 422 and "Mon 05:00" in text
    assert 'name="h6" value="9"' in text  # nothing typed is lost
    high = await post_form(client, "/rota/demand", {**week, "h30": "51"}, token_from="/rota/demand")
    assert high.status == 422 and "must be 0–50" in await high.text()

    none = await client.get("/rota/demand?forecast=1&before=2026-03-02")
    assert none.status == 422 and "no answered calls" in await none.text()
    await call_history(ctx, home)
    found = await client.get("/rota/demand?forecast=1&before=2026-03-02")
    text = await found.text()
    assert found.status == 200 and 'data-testid="forecast-summary"' in text
    assert 'data-testid="arrivals-chart"' in text and "calls/h" in text
    assert "not saved yet" in text
    # The forecast fills the grid but saves nothing until the lead presses Save.
    assert (await inputs.roster(ctx, lead)).demand[0] == 2


# -- generating, the grid, editing, publishing -----------------------------------------


async def test_generate_in_the_background_and_show_the_grid(client, ctx, lead, team) -> None:  # type: ignore[no-untyped-def]
    job_id = await generate_rota(client)
    page = await client.get(f"/rota?job={job_id}", allow_redirects=False)
    if page.status == 200:  # still running: the page shows the progress panel
        body = await page.text()
        assert 'data-testid="rota-progress"' in body and f"/rota/jobs/{job_id}" in body
    job = await finish_job(client, job_id)
    assert job["state"] == "done" and job["error"] is None
    assert job["time_limit_s"] == 2 and job["solutions"] >= 0
    assert job["redirect"].startswith("/rota/")
    # Without JavaScript, the progress page moves on to the rota once it is done.
    after = await client.get(f"/rota?job={job_id}", allow_redirects=False)
    assert after.status == 303 and after.headers["Location"] == job["redirect"]

    resp = await client.get(job["redirect"])
    body = await resp.text()
    assert resp.status == 200
    assert all(u.display_name in body for u in team)
    grid = body.split('data-testid="rota-grid"')[1].split("</table>")[0]
    assert grid.count("<select ") == len(team) * 7
    assert 'data-testid="cover-chart"' in body and 'class="need"' in body
    assert 'data-testid="violations"' not in body
    assert 'data-testid="publish"' in body and 'data-testid="score"' in body
    overview = await (await client.get("/rota")).text()
    assert job["redirect"] in overview and "draft" in overview

    rota_id = job["redirect"].rsplit("/", 1)[1]
    problem_resp = await client.get(f"/rota/{rota_id}/problem.json")
    assert problem_resp.status == 200
    assert "attachment" in problem_resp.headers["Content-Disposition"]
    problem = parse_problem(json.loads(await problem_resp.text()))
    solution = json.loads(await (await client.get(f"/rota/{rota_id}/solution.json")).text())
    assert check(problem, parse_assignments(problem, solution)) == []
    assert solution["score"]["total"] >= 0 and solution["status"] in (
        "optimal",
        "feasible",
        "heuristic",
    )


async def test_a_pattern_from_config_is_offered_generated_and_shown(
    aiohttp_client, settings, engine, ctx, clock, team
) -> None:  # type: ignore[no-untyped-def]
    from web.app import create_app

    client = await aiohttp_client(create_app(with_nine_hour(settings), clock=clock))
    lead = await rota_lead(ctx)
    await login(client, ctx, clock, "lead", PASSWORD, lead.id)
    nine = "morning 07:00–16:00, evening 14:00–23:00, overnight 22:00–08:00"
    form = (await (await client.get("/rota")).text()).split('data-testid="generate-form"')[1]
    assert f'<option value="nine_hour" selected>nine_hour — {nine}</option>' in form
    assert '<option value="8h" >8h — early 07:00–15:00, day 10:00–18:00,' in form
    assert '<option value="12h" >12h — long_day 07:00–19:00,' in form
    people = await (await client.get("/rota/people")).text()
    assert '<option value="overnight" >overnight</option>' in people  # preferred shift
    assert '<option value="early" >early</option>' in people  # built-in ones still offered

    data = {"start": NEXT_MONDAY.isoformat(), "days": "7", "pattern": "nine_hour", "limit": "2"}
    job = await finish_job(client, await start_job(client, "/rota/generate", data, "/rota"))
    assert job["state"] == "done", job
    body = await (await client.get(job["redirect"])).text()
    assert f"nine_hour: {nine}" in body
    # The hub's own shifts get their first letter in the grid and a neutral colour (CSS).
    assert '<span class="key" data-shift="overnight">O</span> overnight 22:00–08:00' in body
    grid = body.split('data-testid="rota-grid"')[1].split("</table>")[0]
    assert 'data-shift="overnight"' in grid and 'data-shift="early"' not in grid
    assert '<option value="morning" >M</option>' in grid
    assert re.search(r'<option value="(morning|evening|overnight)" selected>[MEO]</option>', grid)
    css = await (await client.get("/static/css/rota.css")).text()
    assert '[data-shift]:where(:not([data-shift=""]))' in css

    bad = {**data, "pattern": "9h"}
    resp = await post_form(client, "/rota/generate", bad, token_from="/rota")
    assert resp.status == 422
    assert "unknown shift pattern &#39;9h&#39; (known: 8h, 12h, nine_hour)" in await resp.text()


async def test_a_breaking_hand_edit_is_shown_and_blocks_publishing(client, ctx, lead) -> None:  # type: ignore[no-untyped-def]
    rota_id = await _draft(client)
    page = f"/rota/{rota_id}"
    shown = await plans.view(ctx, lead, rota_id)
    night = next(s for s in shown.shifts if s.shift == "night" and s.day < shown.record.last)
    morning = night.day + timedelta(days=1)
    had = next(
        (s.shift for s in shown.shifts if s.staff_id == night.staff_id and s.day == morning), ""
    )
    cell = f"cell:{night.staff_id}:{morning.isoformat()}"
    resp = await post_form(client, f"{page}/edit", {cell: "early"}, token_from=page)
    assert resp.status == 303 and resp.headers["Location"] == f"{page}?saved=1"
    body = await (await client.get(page)).text()
    assert 'data-testid="violations"' in body and "min_rest" in body
    # The row names the clinician; the message does not repeat their id.
    row = re.search(
        r'<tr><td title="min_rest" data-rule="min_rest">Too little rest between shifts</td>'
        r"<td>([^<]*)</td><td>[^<]*</td><td>([^<]*)<",
        body,
    )
    assert row is not None and row.group(1) == shown.names[str(night.staff_id)]
    assert not row.group(2).startswith(f"{night.staff_id}:")
    assert re.search(r'data-testid="publish"\s+disabled', body)
    refused = await post_form(client, f"{page}/publish", {}, token_from=page)
    assert refused.status == 409 and "fix them before publishing" in await refused.text()

    undo = await post_form(client, f"{page}/edit", {cell: had}, token_from=page)
    assert undo.status == 303
    published = await post_form(client, f"{page}/publish", {}, token_from=page)
    assert published.status == 303
    body = await (await client.get(published.headers["Location"])).text()
    assert 'data-testid="rota-status">published' in body and 'data-testid="sickness-form"' in body
    assert (await plans.view(ctx, lead, rota_id)).record.status is RotaStatus.PUBLISHED

    # A published rota refuses the same edit, says why, and keeps every shift.
    again = await post_form(client, f"{page}/edit", {cell: "early"}, token_from=page)
    text = await again.text()
    assert again.status == 409 and 'data-testid="refused"' in text and "min_rest" in text
    assert (await plans.view(ctx, lead, rota_id)).shifts == shown.shifts


async def test_a_swap_on_a_published_rota_is_saved_as_one_change(client, ctx, lead) -> None:  # type: ignore[no-untyped-def]
    rota_id = await _draft(client)
    page = f"/rota/{rota_id}"
    assert (await post_form(client, f"{page}/publish", {}, token_from=page)).status == 303
    shown = await plans.view(ctx, lead, rota_id)
    chosen = set(shown.assignments)
    given, taker = swap_legal_only_as_a_pair(shown.problem, chosen)
    off = f"cell:{given.staff}:{given.day.isoformat()}"
    on = f"cell:{taker}:{given.day.isoformat()}"
    half = await post_form(client, f"{page}/edit", {off: ""}, token_from=page)
    assert half.status == 409 and "Nothing was saved" in await half.text()
    both = await post_form(client, f"{page}/edit", {off: "", on: given.shift}, token_from=page)
    assert both.status == 303 and both.headers["Location"] == f"{page}?saved=2"
    after = set((await plans.view(ctx, lead, rota_id)).assignments)
    assert after == (chosen - {given}) | {Assignment(taker, given.day, given.shift)}


async def test_one_job_at_a_time(client, ctx, lead) -> None:  # type: ignore[no-untyped-def]
    # A job that is running (a record with a fresh heartbeat, not a real solve, so that
    # it is still running however fast this machine finds the optimum).
    now = ctx.clock.now()
    busy = JobRecord("f" * 32, "generate", "Generating the 8h rota", "Lead", now, 60, now)
    async with ctx.uow() as uow:
        assert await uow.rota_jobs.add(busy)
        await uow.commit()
    second = await post_form(
        client,
        "/rota/generate",
        {"start": "2026-03-16", "days": "7", "pattern": "12h", "limit": "2"},
        token_from="/rota",
    )
    text = await second.text()
    assert second.status == 409 and "already running" in text
    assert 'value="2026-03-16"' in text  # the form keeps what was typed
    assert 'data-testid="rota-job"' in text and busy.id in text  # …and shows the job


async def test_bad_generate_input_and_no_contracts(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    actor = await rota_lead(ctx)
    await login(client, ctx, clock, "lead", PASSWORD, actor.id)
    nobody = await post_form(
        client,
        "/rota/generate",
        {"start": "2026-03-09", "days": "7", "pattern": "8h", "limit": "2"},
        token_from="/rota",
    )
    assert nobody.status == 422 and "no clinician has a contract" in await nobody.text()
    bad = await post_form(
        client,
        "/rota/generate",
        {"start": "9 March", "days": "7", "pattern": "8h", "limit": "2"},
        token_from="/rota",
    )
    assert bad.status == 422 and "is not a date" in await bad.text()


async def test_an_impossible_rota_fails_with_the_rule_named(client, ctx, lead, team) -> None:  # type: ignore[no-untyped-def]
    for user in team:  # nobody works nights: no senior clinician overnight
        await inputs.set_contract(ctx, lead, user.id, 37.5, False)
    job = await finish_job(client, await generate_rota(client))
    assert job["state"] == "failed" and "skill_cover:senior_clinician" in job["error"]
    page = await client.get(f"/rota?job={job['id']}")
    assert page.status == 200 and "skill_cover:senior_clinician" in await page.text()


async def test_sickness_is_a_background_job_too(client, ctx, lead) -> None:  # type: ignore[no-untyped-def]
    rota_id = await _draft(client)
    await plans.publish(ctx, lead, rota_id)
    page = f"/rota/{rota_id}"
    before = (await plans.view(ctx, lead, rota_id)).shifts
    sick = before[0]
    job_id = await start_job(
        client,
        f"{page}/sickness",
        {"staff": str(sick.staff_id), "first": sick.day.isoformat(), "last": sick.day.isoformat()},
        page,
    )
    job = await finish_job(client, job_id)
    assert job["state"] == "done" and job["kind"] == "sickness", job
    assert re.fullmatch(rf"{page}\?repaired=\d+(&resolved=.+)?", job["redirect"]), job
    body = await (await client.get(job["redirect"])).text()
    assert "Sickness recorded" in body and "shift change(s)" in body
    widened = await client.get(page, params={"repaired": "3", "resolved": "Mon 02 Mar–Wed 04 Mar"})
    assert "could not be covered within the rules, so Mon 02 Mar–Wed 04 Mar" in (
        await widened.text()
    )
    after = await plans.view(ctx, lead, rota_id)
    assert after.violations == []
    assert not [s for s in after.shifts if s.staff_id == sick.staff_id and s.day == sick.day]
    assert [e.kind.value for e in (await inputs.roster(ctx, lead)).leave] == ["sick"]
    draft_only = await post_form(
        client,
        f"{page}/sickness",
        {"staff": str(sick.staff_id), "first": "2026-03-30", "last": "2026-03-29"},
        token_from=page,
    )
    assert draft_only.status == 422 and "before" in await draft_only.text()


async def test_the_running_job_is_cancelled_on_shutdown(client, ctx, lead) -> None:  # type: ignore[no-untyped-def]
    job_id = await generate_rota(client, limit="30")
    local = client.app[ROTA_JOBS].local(job_id)
    assert local is not None
    await client.close()
    assert local.stop.is_set()  # the solver thread was told to stop
    async with ctx.uow() as uow:
        job = await uow.rota_jobs.get(job_id)
    assert job is not None and job.state is JobState.CANCELLED
    assert job.error is not None and "shutting down" in job.error


async def test_unknown_job_is_404_json(client, lead) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/rota/jobs/abc123", headers=JSON)
    assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"


async def test_the_demo_has_a_legal_draft_rota_for_its_manager(client, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from web.cli import demo_data

    summary = await demo_data.seed(ctx, months=0, rota_time_limit_s=2)
    assert summary.rota is not None and summary.rota.status is RotaStatus.DRAFT
    assert summary.rota.days == demo_data.ROTA_DAYS
    manager = next(x for x in summary.logins if x.username == "manager")
    async with ctx.uow() as uow:
        users = {u.username: u for u in await uow.staff.list()}
    await login(client, ctx, clock, "manager", manager.password, users["manager"].id)
    resp = await client.get(f"/rota/{summary.rota.id}")
    body = await resp.text()
    assert resp.status == 200 and 'data-testid="violations"' not in body
    shown = await plans.view(ctx, SYSTEM, summary.rota.id)
    assert shown.violations == [] and len(shown.problem.staff) == 12
    assert all(shown.names[s.id] in body for s in shown.problem.staff)
    assert shown.problem.leave and shown.problem.requests


def test_every_hard_rule_has_a_name_a_rota_lead_reads() -> None:
    codes = [r for r in RULES if not r.startswith("skill_cover:")]
    codes += [c.rule for c in RuleParams().skill_cover]
    assert [c for c in codes if c not in HARD_RULE_LABELS] == []
