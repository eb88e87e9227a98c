"""Routing over HTTP: the console's read-only flag and shift line, ``/api/routing``, and
the cover-gap banner managers see on every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.people.access import Skill
from hub.rostering import plans
from hub.rostering.cover import Gap
from hub.rostering.routing_rules import NOT_ON_SHIFT
from tests.conftest import PASSWORD
from tests.hub.rota_fixtures import actor_for, rota_team
from tests.hub.test_calls_routing import publish_week, set_skills, staffed_hub, waiting_call
from tests.web.helpers import login, login_home_manager, post_form
from web.rota import cover_banner

LONDON = ZoneInfo("Europe/London")


async def test_off_shift_clinician_sees_the_queue_read_only(client, ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    off = hub.off[0]
    await login(client, ctx, clock, off.username, PASSWORD, off.id)
    body = await (await client.get("/console")).text()
    assert 'data-read-only="yes"' in body and 'data-on-shift="no"' in body
    assert 'data-testid="off-shift">Read-only: you are not on shift.' in body
    assert 'data-skill-for-reason=\'{"medication": "prescriber"}\'' in body


async def test_on_shift_clinician_answers_and_sees_when_the_shift_ends(
    client, ctx, clock, home
) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    on = hub.on[0]
    await login(client, ctx, clock, on.username, PASSWORD, on.id)
    now = clock.now()
    (current,) = [
        s
        for s in await plans.my_shifts(
            ctx, actor_for(on), now - timedelta(days=1), now + timedelta(days=1)
        )
        if s.starts_at <= now < s.ends_at
    ]
    body = await (await client.get("/console")).text()
    assert 'data-read-only="no"' in body and 'data-on-shift="yes"' in body
    assert f'data-skills="{" ".join(sorted(s.value for s in on.skills))}"' in body
    assert 'data-testid="off-shift" hidden>' in body
    ends = current.ends_at.astimezone(LONDON)
    day = "" if ends.date() == now.astimezone(LONDON).date() else ends.strftime("%a ")
    assert f'data-testid="shift-note">On shift until {day}{ends:%H:%M}</span>' in body


async def test_routing_json_says_who_may_answer(client, ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    nurse, prescriber, off = hub.on[0], hub.on[1], hub.off[0]
    await set_skills(ctx, nurse)
    await set_skills(ctx, prescriber, Skill.PRESCRIBER)
    call = await waiting_call(ctx, clock, home, "medication")

    await login(client, ctx, clock, off.username, PASSWORD, off.id)
    data = await (await client.get("/api/routing")).json()
    assert data["in_force"] and data["enforced"]
    assert data["viewer"]["read_only"] and not data["viewer"]["on_shift"]
    (entry,) = data["calls"]
    assert entry["call_id"] == call.id and entry["needs"] == "prescriber"
    assert (entry["may_answer"], entry["refusal"]) == (False, NOT_ON_SHIFT)
    assert data["alerts"] == []  # a prescriber is on shift, and the call is new
    assert set(data["on_shift_ids"]) == {u.id for u in hub.on}

    client.session.cookie_jar.clear()
    await login(client, ctx, clock, nurse.username, PASSWORD, nurse.id)
    data = await (await client.get("/api/routing")).json()
    assert not data["viewer"]["read_only"] and data["viewer"]["on_shift"]
    (entry,) = data["calls"]
    assert (entry["may_answer"], entry["refusal"]) == (False, "this call needs a prescriber")

    client.session.cookie_jar.clear()
    await login(client, ctx, clock, prescriber.username, PASSWORD, prescriber.id)
    data = await (await client.get("/api/routing")).json()
    assert data["calls"][0]["may_answer"] is True
    assert data["viewer"]["skills"] == ["clinician", "prescriber"]


async def test_routing_json_needs_a_login(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/api/routing")
    assert resp.status == 401


async def test_over_target_and_unanswerable_alerts_are_on_the_console(
    client, ctx, clock, home
) -> None:  # type: ignore[no-untyped-def]
    hub = await staffed_hub(ctx, clock)
    for user in hub.on:
        await set_skills(ctx, user)
    call = await waiting_call(ctx, clock, home, "medication")
    clock.advance(timedelta(minutes=10))
    await login(client, ctx, clock, hub.on[0].username, PASSWORD, hub.on[0].id)
    data = await (await client.get("/api/routing")).json()
    assert [(a["call_id"], a["kind"]) for a in data["alerts"]] == [
        (call.id, "unanswerable"),
        (call.id, "over_target"),
    ]
    assert data["calls"][0]["may_answer"] is True  # anyone on shift, since no prescriber is
    body = await (await client.get("/console")).text()
    assert (
        f'data-call-id="{call.id}" data-kind="unanswerable">Edna Smith at Rose Court '
        "(Medication): no prescriber is on shift</li>"
    ) in body


async def test_managers_see_cover_gaps_and_clinicians_do_not(
    client, ctx, clock, home, admin_user, clinician_user
) -> None:  # type: ignore[no-untyped-def]
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    body = await (await client.get("/hub")).text()
    assert (
        'data-testid="cover-banner">Cover gaps in the next 48 h: '
        "no published rota from Mon 02 Mar 10:00. "
        '<a href="/rota">Open the rota</a>'
    ) in body
    client.session.cookie_jar.clear()
    await login(client, ctx, clock, "cleo", PASSWORD, clinician_user.id)
    for page in ("/hub", "/console"):
        assert "cover-banner" not in await (await client.get(page)).text()


async def test_care_home_managers_do_not_see_the_banner(client, ctx, clock, home) -> None:  # type: ignore[no-untyped-def]
    await login_home_manager(client, ctx, clock, home.id)
    assert "cover-banner" not in await (await client.get("/reports")).text()


async def test_the_banner_counts_missing_skills_and_is_cached(
    client, ctx, clock, home, admin_user
) -> None:  # type: ignore[no-untyped-def]
    team = await rota_team(ctx)
    await login(client, ctx, clock, "ada", PASSWORD, admin_user.id)
    assert "no published rota from" in await (await client.get("/hub")).text()
    await publish_week(ctx)
    # Published behind the app's back: the cached line is still shown…
    assert "no published rota from" in await (await client.get("/hub")).text()
    # …until a change is posted through the rota pages (whatever the answer to it was).
    await post_form(client, "/rota/0/not-a-page", {}, token_from="/hub")
    assert "cover-banner" not in await (await client.get("/hub")).text()
    for user in team:  # nobody can prescribe any more
        await set_skills(ctx, user, *(s for s in user.skills if s is not Skill.PRESCRIBER))
    assert "cover-banner" not in await (await client.get("/hub")).text()  # cached
    clock.advance(timedelta(seconds=61))  # the cache lasts a minute
    body = await (await client.get("/hub")).text()
    # 08–22 needs a prescriber: Mon 10–22, Tue 08–22, Wed 08–10 (48 h from Mon 10:00).
    assert "Cover gaps in the next 48 h: 28 hours without a prescriber." in body


def test_the_banner_summary() -> None:
    at = datetime(2026, 12, 6, 22, tzinfo=UTC)
    gaps = [
        Gap(at, "short", 2, 1),
        Gap(at, "skill", 1, 0, "prescriber"),
        Gap(at + timedelta(hours=1), "skill", 1, 0, "prescriber"),
        Gap(at + timedelta(hours=1), "skill", 1, 0, "senior_clinician"),
        Gap(at + timedelta(hours=2), "no_rota"),
        Gap(at + timedelta(hours=3), "no_rota"),
    ]
    assert cover_banner.summarise(gaps, 48) == (
        "Cover gaps in the next 48 h: 1 hour short, 2 hours without a prescriber, "
        "1 hour without a senior clinician, no published rota from Mon 07 Dec 00:00"
    )
    assert cover_banner.summarise([], 48) is None
