"""The demo seed: homes, residents, staff with two-factor, and plausible past calls."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pyotp
from nhs_number.validate import is_valid

from hub.audit.trail import verify
from hub.calls.consultation import SOFT_SIGNS, Consultation, State
from hub.calls.news2 import Observations, score
from hub.clock import FixedClock
from hub.context import HubContext
from hub.people.access import Role, Skill
from hub.people.auth import totp_context
from hub.people.residents import Resident
from web.cli import demo_data

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CLINICIANS = [3, 4, 5, 6]
LEAVES = {"called_999_conveyed", "sent_to_ae", "admitted_direct"}


def _residents(seed: int) -> list[Resident]:
    plan = demo_data.plan_residents(demo_data.rng_for(seed, "residents"), 3, NOW.date())
    flat = [(home_id, d) for home_id, details in enumerate(plan, 1) for d in details]
    return [Resident(i, home_id, d, NOW) for i, (home_id, d) in enumerate(flat, 1)]


def _calls(seed: int = 7, months: int = 6) -> list[Consultation]:
    period = demo_data.demo_period(NOW, months)
    return demo_data.generate_consultations(
        demo_data.rng_for(seed, "calls"), _residents(seed), CLINICIANS, period
    )


async def test_seed_fills_a_fresh_database(ctx: HubContext, clock: FixedClock) -> None:
    progress: list[tuple[int, int]] = []
    summary = await demo_data.seed(ctx, months=1, on_progress=lambda d, t: progress.append((d, t)))

    assert summary.homes == 3
    assert 27 <= summary.residents <= 33
    assert {login.role for login in summary.logins} == set(Role)
    assert [x.username for x in summary.logins if x.totp_secret is None] == [demo_data.NEWSTARTER]
    assert {x.password for x in summary.logins} == {"telehub-demo-password"}
    assert {"admin", "manager", "nurse1", "nurse2", "nurse3"} <= {
        x.username for x in summary.logins
    }
    assert len({name for name, _ in summary.enrolment_codes}) == 3
    assert len({code for _, code in summary.enrolment_codes}) == 3
    assert 150 <= summary.consultations <= 400  # 2–4 a day for each of 3 homes, for a month
    assert progress[-1] == (summary.consultations, summary.consultations)

    async with ctx.uow() as uow:
        homes = await uow.homes.list()
        codes = [c for h in homes for c in await uow.devices.codes(h.id)]
        residents = [r for h in homes for r in await uow.residents.for_home(h.id)]
        calls = [c for r in residents for c in await uow.consultations.for_resident(r.id, 10**6)]
        count = await uow.consultations.count()
        notes = await uow.notes.for_calls([c.id for c in calls])
        staff = {u.username: u for u in await uow.staff.list()}
        creds = {u.username: await uow.staff.credentials(u.id) for u in staff.values()}
        events = [e async for e in uow.audit.events()]

    assert {h.name for h in homes} == {name for name, _ in summary.enrolment_codes}
    assert all(30 <= h.beds <= 60 and re.fullmatch(r"V[A-Z]{2}[0-9][A-Z]", h.code) for h in homes)
    assert sorted(c.home_id for c in codes) == sorted(h.id for h in homes)

    assert len(residents) == summary.residents
    numbers = [r.details.nhs_number for r in residents]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("999") and is_valid(n) for n in numbers)
    assert all(1925 <= r.details.date_of_birth.year <= 1950 for r in residents)
    assert Counter(r.home_id for r in residents if r.details.end_of_life) == Counter(
        h.id for h in homes
    )
    assert any(r.details.dnacpr and not r.details.end_of_life for r in residents)
    assert any(r.details.allergies for r in residents)
    assert any(r.details.alerts for r in residents)

    for login in summary.logins:
        user, sealed = staff[login.username], creds[login.username].totp_secret_sealed
        assert user.role is login.role
        if login.totp_secret is None:
            assert not user.totp_confirmed and sealed is None
        else:
            assert user.totp_confirmed and sealed is not None
            assert ctx.keyring.open(sealed, totp_context(user.id)) == login.totp_secret
            assert len(pyotp.TOTP(login.totp_secret).at(clock.now())) == 6
    assert Skill.SENIOR_CLINICIAN in staff["nurse2"].skills
    assert {Skill.PRESCRIBER, Skill.SENIOR_CLINICIAN} <= staff["nurse3"].skills
    clinician_ids = {u.id for u in staff.values() if u.role is Role.CLINICIAN and u.totp_confirmed}

    start, end = demo_data.demo_period(clock.now(), 1)
    assert end <= clock.now()
    assert count == len(calls) == summary.consultations
    home_of = {r.id: r.home_id for r in residents}
    for c in calls:
        assert c.home_id == home_of[c.resident_id]
        assert start <= c.requested_at < end
        assert c.ended_at is not None and c.requested_at <= c.ended_at < end
        assert 1 <= len(c.soft_signs) <= 3 and set(c.soft_signs) <= set(SOFT_SIGNS)
        if c.observations:
            result = score(Observations(**c.observations))  # type: ignore[arg-type]
            assert (c.news2_score, c.news2_band) == (result.aggregate, result.band.value)
        if c.state is State.ENDED:
            assert c.answered_at is not None and c.requested_at <= c.answered_at <= c.ended_at
            assert c.outcome and c.follow_up and c.answered_by in clinician_ids
            assert c.security_level in ("direct", "relay")
            assert [n.text for n in notes[c.id]] == [demo_data.note_text(c)]  # sealed, opened
            assert notes[c.id][0].author_ref == f"staff:{c.answered_by}"
        else:
            assert c.state in (State.CANCELLED, State.ABANDONED)
            assert c.answered_at is None and c.outcome is None and c.answered_by is None

    assert verify(events, ctx.keyring.audit_key).ok
    imported = [e for e in events if e.action == "consultation.imported"]
    assert sum(e.detail["count"] for e in imported) == summary.consultations
    assert all(e.detail["source"] == "demo" for e in imported)


def test_the_same_seed_gives_the_same_data() -> None:
    homes, totp, nhs = (demo_data.rng_for(7, t) for t in ("homes", "totp", "nhs"))
    assert demo_data.plan_homes(homes) == demo_data.plan_homes(demo_data.rng_for(7, "homes"))
    assert demo_data.plan_homes(demo_data.rng_for(7, "homes")) != demo_data.plan_homes(
        demo_data.rng_for(8, "homes")
    )
    assert demo_data.totp_secret(totp) == demo_data.totp_secret(demo_data.rng_for(7, "totp"))
    assert demo_data.nhs_test_numbers(nhs, 30) == demo_data.nhs_test_numbers(
        demo_data.rng_for(7, "nhs"), 30
    )
    assert _residents(7) == _residents(7) != _residents(8)
    assert demo_data.plan_staff() == demo_data.plan_staff()
    first = _calls(7, 1)
    assert first == _calls(7, 1)
    assert first != _calls(8, 1)
    assert [demo_data.note_text(c) for c in first if c.outcome] == [
        demo_data.note_text(c) for c in _calls(7, 1) if c.outcome
    ]


def test_nhs_numbers_are_valid_test_numbers() -> None:
    numbers = demo_data.nhs_test_numbers(demo_data.rng_for(1, "nhs"), 500)
    assert len(set(numbers)) == 500
    assert all(len(n) == 10 and n.startswith("999") and is_valid(n) for n in numbers)


def test_the_period_ends_at_uk_midnight_this_morning() -> None:
    assert demo_data.demo_period(NOW, 6) == (
        datetime(2025, 8, 30, 23, 0, tzinfo=UTC),  # 31 August (183 days before), BST
        datetime(2026, 3, 2, 0, 0, tzinfo=UTC),  # 2 March, GMT
    )
    summer = datetime(2026, 7, 1, 0, 30, tzinfo=UTC)  # 01:30 BST on 1 July
    assert demo_data.demo_period(summer, 1)[1] == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)


def test_six_months_of_calls_match_the_published_figures() -> None:
    calls = _calls()
    start, end = demo_data.demo_period(NOW, 6)
    days = (end - start) / timedelta(days=1)
    assert 2.0 <= len(calls) / days / 3 <= 4.0  # calls per home per day
    assert all(start <= c.requested_at and c.ended_at and c.ended_at < end for c in calls)
    assert calls == sorted(calls, key=lambda c: c.requested_at)

    ended = [c for c in calls if c.state is State.ENDED]
    assert 0.01 <= 1 - len(ended) / len(calls) <= 0.06  # cancelled or abandoned
    outcomes = Counter(c.outcome or "" for c in ended)
    managed = sum(n for o, n in outcomes.items() if o.startswith("managed_")) / len(ended)
    stayed = 1 - sum(outcomes[o] for o in LEAVES) / len(ended)
    assert 0.25 <= managed <= 0.35  # ≈30% need no onward care
    assert 0.83 <= stayed <= 0.91  # ≈87% stay in the home
    assert {"community_team", "called_999_conveyed", "sent_to_ae", "admitted_direct"} <= set(
        outcomes
    )

    intentions = Counter(c.intention for c in calls)
    assert 0.02 <= intentions[None] / len(calls) <= 0.09
    top = intentions["call_999"] + intentions["ae"] + intentions["urgent_gp"]
    assert top / len(calls) > 0.7
    assert 0.6 <= sum(bool(c.observations) for c in calls) / len(calls) <= 0.8
    assert any(0 < len(c.observations) < 7 for c in calls)  # some partial sets
    assert 0.08 <= sum(c.security_level == "relay" for c in ended) / len(ended) <= 0.22

    zone = demo_data.uk_zone()
    hour = {id(c): c.requested_at.astimezone(zone).hour for c in calls}
    day = [c for c in ended if 9 <= hour[id(c)] < 17]
    night = [c for c in ended if hour[id(c)] < 7]
    assert len(night) < len(day) / 3

    def waits(cs: list[Consultation]) -> list[float]:
        return [(c.answered_at - c.requested_at).total_seconds() / 60 for c in cs if c.answered_at]

    assert 1.5 <= statistics.median(waits(day)) <= 3.0
    assert statistics.median(waits(night)) > statistics.median(waits(day))
    assert max(waits(ended)) <= 20
    durations = [(c.ended_at - c.answered_at) for c in ended if c.ended_at and c.answered_at]
    assert all(timedelta(minutes=5) <= d <= timedelta(minutes=25) for d in durations)

    residents = {r.id: r for r in _residents(7)}
    for c in ended:
        if c.outcome == "end_of_life_support":
            assert residents[c.resident_id].details.end_of_life
        if c.admission_judgement is not None:
            assert c.intention in ("call_999", "ae") and c.outcome not in LEAVES
    assert Counter(c.admission_judgement for c in ended)["yes"] > 0


def test_demo_residents_are_plausible() -> None:
    plan = demo_data.plan_residents(demo_data.rng_for(7, "residents"), 3, date(2026, 3, 2))
    assert [8 <= len(home) <= 12 for home in plan] == [True] * 3
    people = [d for home in plan for d in home]
    assert len({(d.given_name, d.family_name) for d in people}) == len(people)
    assert len({d.family_name for d in people}) > len(people) / 2


def test_demo_outcome_codes_are_the_coded_list() -> None:
    from hub.outcomes.codes import OutcomeCode
    from web.cli import demo_data

    assert set(demo_data._OUTCOMES) == {c.value for c in OutcomeCode}
