"""A demo database: three care homes, residents, hub staff, months of past calls, and
a draft rota for the coming four weeks (contracts, leave, requests and demand included).

Generation is pure and deterministic (``plan_*``, ``generate_consultations``); ``seed``
stores it on a fresh database. Calls follow the published figures: answered in ~2–3
minutes by day, ~30% needing no onward care, ~87% of residents staying in the home.
"""

from __future__ import annotations

import base64
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import Enum
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nhs_number.validate import calculate_checksum

from hub.calls.consultation import SOFT_SIGNS, Consultation, Reason, State
from hub.calls.history import PastCall, store_historical_calls
from hub.calls.news2 import Consciousness, Observations, score
from hub.context import HubContext
from hub.outcomes.codes import AdmissionJudgement, FollowUp, Intention, OutcomeCode
from hub.people.access import SYSTEM, Actor, Role
from hub.people.admin import add_resident, create_home, create_staff, set_demo_totp
from hub.people.enrolment import issue_code
from hub.people.homes import NewHome
from hub.people.residents import Resident, ResidentDetails
from hub.people.staff import NewStaff, StaffUser
from hub.rostering import inputs, plans
from hub.rostering.problem import LeaveKind, RotaRecord
from rota.model import RequestKind
from rota.solver import Progress as RotaProgress

# Outcome, follow-up and judgement values below are those of hub.outcomes.codes' enums
# (tests/hub/test_demo.py checks they match).

DEMO_PASSWORD = "telehub-demo-password"  # noqa: S105 (printed for the demo)
NEWSTARTER = "newstarter"  # the one login left to set up two-factor at first login
BATCH = 500  # consultations per unit of work
Progress = Callable[[int, int], None]  # (done, total)
RotaProgressFn = Callable[[RotaProgress], None]
ROTA_DAYS = 28
ROTA_TIME_LIMIT_S = 6.0  # the demo's draft rota: CP-SAT proves this one optimal in ~5 s
Period = tuple[datetime, datetime]  # [start, end)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    display_name: str
    totp_secret: str | None
    home_name: str | None = None  # a home-scoped login sees this care home only

    @property
    def role_label(self) -> str:
        """The role as people say it: a manager of one home is a "home manager"."""
        if self.role is Role.MANAGER:
            return "home manager" if self.home_name else "hub manager"
        return self.role.value


@dataclass(frozen=True)
class DemoSummary:
    logins: list[DemoLogin]
    enrolment_codes: list[tuple[str, str]]  # (home name, plain enrolment code)
    homes: int
    residents: int
    consultations: int
    rota: RotaRecord | None = None  # the draft rota generated for the coming weeks


_HOMES = (
    ("Rosewood Court Care Home", "14 Skipton Road, Keighley, West Yorkshire BD21 2TA"),
    ("Aire View Nursing Home", "Bradley Lane, Steeton, Keighley BD20 6RR"),
    ("Wharfedale Lodge", "Leeds Road, Otley LS21 1BZ"),
)
# (weight, women's given names, men's given names, family names), for people born 1925–1950
_NAMES = (
    (
        70,
        "Margaret Dorothy Joan Betty Doris Jean Eileen Irene Sheila Barbara Audrey Kathleen "
        "Elsie Edna Mavis Brenda Pauline Marjorie Vera Hilda Sylvia Winifred",
        "Arthur Harold Kenneth Ronald Dennis Stanley Frederick Leslie Norman Derek Raymond "
        "Geoffrey Bernard Alan Clifford Eric",
        "Smith Jones Taylor Brown Wilson Roberts Walker Robinson Wood Thompson Wright Hughes "
        "Green Hall Clarke Jackson Holmes Sutcliffe Pickles Ackroyd Barraclough Greenwood",
    ),
    (8, "Bronwen Gwen Megan Glenys", "Dafydd Gareth Emrys Idris", "Davies Evans Griffiths"),
    (6, "Siobhan Bridget Moira Maureen", "Eamon Patrick Seamus", "Murphy O'Brien Kelly Byrne"),
    (6, "Surinder Gurmit Kulwant", "Rajinder Gurdial Harbans", "Singh Kaur Sandhu Gill"),
    (5, "Zubeda Rashida Begum", "Mohammed Abdul Ghulam", "Hussain Khan Ahmed Akhtar"),
    (5, "Hyacinth Gloria Myrtle", "Winston Delroy Lloyd", "Campbell Francis Bailey"),
    (3, "Halina Krystyna", "Zbigniew Tadeusz", "Kowalski Nowak"),
)
_ALLERGIES = ("Penicillin", "Latex", "Codeine", "Trimethoprim", "Elastoplast", "Sulfonamides")
_ALERTS = (
    "Hard of hearing; speaks Welsh|Registered blind: say who you are before you speak|"
    "Type 2 diabetes on insulin|Dementia: responds best to her first name|"
    "Punjabi speaker; son interprets|Warfarin: check INR book|PEG fed, nil by mouth|"
    "Lasting power of attorney (health): daughter|COPD, home oxygen 2 L/min|"
    "Parkinson's: time-critical medication"
).split("|")
# username, display name, role, skills
_STAFF = (
    ("admin", "Alex Morgan", "admin", ""),
    ("manager", "Priya Shah", "manager", ""),
    ("nurse1", "Hannah Clarke", "clinician", "clinician"),
    ("nurse2", "Tom Fletcher", "clinician", "clinician senior_clinician"),
    ("nurse3", "Bukola Adeyemi", "clinician", "clinician senior_clinician prescriber"),
    ("nurse4", "Gareth Pritchard", "clinician", "clinician prescriber"),
    (NEWSTARTER, "Sophie Allen", "clinician", "clinician"),
)
# The manager of the first care home: sees that home's calls and reports, nothing else.
HOME_MANAGER = ("homemanager", "Janet Holroyd")


# The rest of the hub's rota team, shaped like a small real hub (tests/hub/rota_fixtures.py):
# with the clinicians above, six senior clinicians (two prescribing), five prescribers
# (one day-only) and three nurses (one day-only). They log in like everyone else.
_ROTA_STAFF = (
    ("nurse5", "Olivia Bennett", "clinician", "clinician senior_clinician prescriber"),
    ("nurse6", "Daniel Okafor", "clinician", "clinician senior_clinician"),
    ("nurse7", "Fiona MacLeod", "clinician", "clinician senior_clinician"),
    ("nurse8", "Imran Qureshi", "clinician", "clinician senior_clinician"),
    ("nurse9", "Rachel Whitaker", "clinician", "clinician prescriber"),
    ("nurse10", "Liam Doyle", "clinician", "clinician prescriber"),
    ("nurse11", "Grace Owusu", "clinician", "clinician"),
)
# username: (contracted hours a week, works nights)
_CONTRACTS = {
    "nurse1": (37.5, True),
    "nurse2": (37.5, True),
    "nurse3": (37.5, True),
    "nurse4": (30.0, True),
    "nurse5": (37.5, True),
    "nurse6": (37.5, True),
    "nurse7": (30.0, True),
    "nurse8": (37.5, True),
    "nurse9": (22.5, False),
    "nurse10": (37.5, True),
    "nurse11": (30.0, False),
    NEWSTARTER: (37.5, True),
}
# username, first and last day (offsets into the rota), kind
_LEAVE = (
    ("nurse6", 5, 9, LeaveKind.ANNUAL),
    ("nurse1", 12, 12, LeaveKind.TRAINING),
    ("nurse9", 19, 22, LeaveKind.ANNUAL),
)
# username, kind, first and last day (offsets), weight, shift
_REQUESTS: tuple[tuple[str, RequestKind, int, int, int, str | None], ...] = (
    ("nurse2", RequestKind.DAY_OFF, 4, 4, 5, None),
    ("nurse4", RequestKind.NO_NIGHTS, 14, 20, 3, None),
    ("nurse5", RequestKind.SHIFT, 7, 9, 2, "early"),
    ("nurse10", RequestKind.DAY_OFF, 10, 10, 10, None),
)


def plan_rota_staff() -> list[NewStaff]:
    return [NewStaff.parse(u, name, role, skills.split()) for u, name, role, skills in _ROTA_STAFF]


def demo_week_demand() -> tuple[int, ...]:
    """Clinicians needed per hour of the week (Monday 00:00 first): two around the
    clock, three 10:00–18:00 on weekdays — within what twelve contracts can staff."""
    return tuple(3 if day < 5 and 10 <= hour < 18 else 2 for day in range(7) for hour in range(24))


def rng_for(seed: int, topic: str) -> random.Random:
    """One generator per topic, so adding a resident does not reshuffle every call."""
    return random.Random(f"{seed}:{topic}")


def plan_homes(rng: random.Random) -> list[NewHome]:
    letters = "ABCDEFGHJKLMNPQRSTUVWXY"
    homes = []
    for n, (name, address) in enumerate(rng.sample(_HOMES, 3), 1):  # n keeps codes distinct
        code = f"V{rng.choice(letters)}{rng.choice(letters)}{n}{rng.choice(letters)}"
        homes.append(NewHome.parse(code, name, address, rng.randint(30, 60)))
    return homes


def nhs_test_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct valid NHS numbers in the 999 range, which is kept for testing."""
    found: dict[str, None] = {}
    while len(found) < count:
        stem = f"999{rng.randrange(10**6):06d}"
        check = calculate_checksum(stem)
        if check is not None and check != 10:
            found[f"{stem}{check}"] = None
    return list(found)


def plan_residents(rng: random.Random, homes: int, today: date) -> list[list[ResidentDetails]]:
    """About ten residents per home, two in three of them women."""
    counts = [rng.randint(9, 11) for _ in range(homes)]
    numbers = iter(nhs_test_numbers(rng, sum(counts)))
    used: set[tuple[str, str]] = set()
    plan: list[list[ResidentDetails]] = []
    for count in counts:
        residents: list[ResidentDetails] = []
        end_of_life_at = rng.randrange(count)  # one resident per home is at the end of life
        while len(residents) < count:
            _, women, men, family = rng.choices(_NAMES, [g[0] for g in _NAMES])[0]
            given = rng.choice((women if rng.random() < 0.68 else men).split())
            name = (given, rng.choice(family.split()))
            if name in used:
                continue
            used.add(name)
            end_of_life = len(residents) == end_of_life_at
            allergies = rng.sample(_ALLERGIES, rng.choice((1, 1, 2))) if rng.random() < 0.3 else []
            residents.append(
                ResidentDetails.parse(
                    given_name=name[0],
                    family_name=name[1],
                    date_of_birth=date(1925, 1, 1) + timedelta(days=rng.randrange(26 * 365)),
                    nhs_number=next(numbers),
                    dnacpr=end_of_life or rng.random() < 0.4,
                    end_of_life=end_of_life,
                    allergies=", ".join(allergies),
                    alerts=rng.choice(_ALERTS) if rng.random() < 0.35 else "",
                    today=today,
                )
            )
        plan.append(residents)
    return plan


def plan_staff() -> list[NewStaff]:
    return [NewStaff.parse(u, name, role, skills.split()) for u, name, role, skills in _STAFF]


def totp_secret(rng: random.Random) -> str:
    """A base32 TOTP secret like ``pyotp.random_base32()`` makes, but drawn from ``rng``."""
    return base64.b32encode(rng.randbytes(20)).decode()


# Relative arrivals by UK hour of day: quiet nights, the morning round, an evening peak.
_HOUR_WEIGHTS = (2, 1.5, 1.2, 1, 1, 1.2, 2, 4, 6, 7, 7, 6, 5, 5, 5.5, 6, 6.5, 7, 7.5, 7, 6, 5, 4, 3)
# reason: (relative frequency, likely soft signs, how the note starts)
_REASONS = {
    Reason.FALL: (28, "less_mobile new_pain", "Unwitnessed fall in bedroom, no head strike."),
    Reason.BREATHING: (20, "breathing_changed skin_colour", "More breathless today, wet cough."),
    Reason.CHEST_PAIN: (4, "new_pain breathing_changed", "Central chest tightness, 20 min."),
    Reason.CONFUSION: (10, "more_confused agitated", "More confused than usual, agitated."),
    Reason.INFECTION: (12, "passing_less_urine not_eating", "Off food and drink, dark urine."),
    Reason.PAIN: (7, "new_pain agitated", "New pain, grimacing when moved."),
    Reason.SKIN_WOUND: (6, "", "Skin tear to forearm on wheelchair, oozing."),
    Reason.MEDICATION: (6, "", "Evening dose omitted in error; staff ask for advice."),
    Reason.END_OF_LIFE: (0, "not_eating breathing_changed", "Known end of life, restless."),
    Reason.OTHER: (5, "not_themselves", "Carers concerned, not their usual self."),
}
# outcome: (weight, growth with severity², reasons that double it, how the note ends)
_OUTCOMES = {
    "managed_advice": (11, -1, "fall", "Advice to staff, repeat obs in 4 h."),
    "managed_medication": (7, 0, "infection pain medication", "Medication advised, on MAR."),
    "managed_monitoring": (9, -0.5, "", "Monitoring plan agreed; 4-hourly obs overnight."),
    "gp_in_hours": (26, 0, "", "Practice asked for a same-day GP visit."),
    "gp_out_of_hours": (26, 0, "", "Referred to the out-of-hours GP."),
    "community_team": (12, 0, "skin_wound", "Referred to district nurses for review today."),
    "called_999_not_conveyed": (3, 3, "chest_pain", "999 called; crew assessed, left in home."),
    "called_999_conveyed": (2.5, 18, "chest_pain", "999 called; conveyed to hospital."),
    "sent_to_ae": (2.5, 12, "fall", "Sent to A&E by taxi with a carer."),
    "admitted_direct": (1, 5, "", "Direct admission to the frailty unit arranged."),
    "end_of_life_support": (0, 0, "", "Anticipatory medicines given per plan; family updated."),
    "other": (3, 0, "", "Plan discussed with the home manager."),
}
_LEAVES_HOME = {"called_999_conveyed", "sent_to_ae", "admitted_direct"}
_INTENTIONS = tuple(i.value for i in Intention)


def uk_zone() -> tzinfo:
    try:
        return ZoneInfo("Europe/London")
    except ZoneInfoNotFoundError:  # no time-zone database: UTC is close enough for a demo
        return UTC


def demo_period(now: datetime, months: int) -> Period:
    """[start, end): about ``months`` months up to UK midnight this morning."""
    zone = uk_zone()
    end = datetime.combine(now.astimezone(zone).date(), time(), zone)
    start = datetime.combine(end.date() - timedelta(days=round(months * 30.44)), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def generate_consultations(
    rng: random.Random, residents: Sequence[Resident], clinicians: Sequence[int], period: Period
) -> list[Consultation]:
    """Ended (and ~3% cancelled) calls requested and over within [start, end), oldest first."""
    zone, (start, end) = uk_zone(), period
    calls = []
    for home_id in sorted({r.home_id for r in residents}):
        here = [r for r in residents if r.home_id == home_id]
        propensity = [rng.lognormvariate(0, 0.7) for _ in here]  # some call far more often
        rate = rng.uniform(2.2, 3.8)  # calls a day
        day = start.astimezone(zone).date()
        while day < end.astimezone(zone).date():
            busier = 1.15 if day.weekday() >= 5 else 1.0  # no GP surgery at the weekend
            for hour, weight in enumerate(_HOUR_WEIGHTS):
                if rng.random() < rate * busier * weight / sum(_HOUR_WEIGHTS):
                    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))
                    resident = rng.choices(here, propensity)[0]
                    call = _call(rng, resident, clinicians, local.replace(tzinfo=zone))
                    if start <= call.requested_at and (call.ended_at or call.requested_at) < end:
                        calls.append(call)
            day += timedelta(days=1)
    return sorted(calls, key=lambda c: c.requested_at)


def _minutes(m: float) -> timedelta:
    return timedelta(seconds=round(m * 60))


def _call(
    rng: random.Random, r: Resident, clinicians: Sequence[int], local: datetime
) -> Consultation:
    eol = 98 if r.details.end_of_life else 0  # as likely as every other reason together
    weights = [eol if k is Reason.END_OF_LIFE else w for k, (w, _, _) in _REASONS.items()]
    reason = rng.choices(list(_REASONS), weights)[0]
    picked = [rng.choice(_REASONS[reason][1].split() or sorted(SOFT_SIGNS))]
    picked += rng.sample(sorted(SOFT_SIGNS), 3)
    signs = tuple(dict.fromkeys(picked))[: rng.choice((1, 2, 2, 3))]
    severity = rng.betavariate(1.3, 4.5)  # 0–1, mostly mild
    raw: dict[str, object] = {}
    points = band = None
    if rng.random() < 0.7:
        obs = _observations(rng, reason, severity)
        result = score(obs)
        raw, points, band = _dump(obs), result.aggregate, result.band
    raw_intention = _intention(rng, reason, severity, r)
    intention = Intention(raw_intention) if raw_intention else None
    at = local.astimezone(UTC)
    # id, home, resident, device, state, reason, soft signs, observations, NEWS2 score, band
    base = Consultation(
        0, r.home_id, r.id, None, State.ENDED, reason, signs, raw, points, band, intention, at
    )
    if rng.random() < 0.03:  # the home cancelled, or gave up waiting
        state = State.CANCELLED if rng.random() < 0.6 else State.ABANDONED
        return replace(base, state=state, ended_at=at + _minutes(rng.uniform(0.5, 8)))
    night, peak = local.hour >= 23 or local.hour < 7, 17 <= local.hour < 21
    median = 4.0 if night else 3.3 if peak else 2.3  # minutes to answer
    wait = min(20.0, max(0.25, rng.lognormvariate(math.log(median), 0.55)))
    outcome = _outcome(rng, reason, severity, r, local)
    stays = outcome not in _LEAVES_HOME
    watch = outcome.startswith("managed") or outcome == "called_999_not_conveyed"
    follow_weights = (45, 45, 10) if watch else (25, 60, 15) if stays else (0, 0, 1)
    follow_up = rng.choices(("call_back", "home_to_call_if_worse", "none"), follow_weights)[0]
    judgement = None  # would the resident have been admitted without the hub?
    if stays and intention in (Intention.CALL_999, Intention.AE):
        yes = 0.25 + 0.6 * severity
        judgement = rng.choices(("yes", "no", "unsure"), (yes, 0.7 - 0.7 * yes, 0.3 - 0.3 * yes))[0]
    ended = at + _minutes(wait + rng.triangular(5, 25, 10))
    return replace(
        base,
        answered_at=at + _minutes(wait),
        ended_at=ended,
        call_back_at=ended + _minutes(rng.choice((120, 240, 480)))
        if follow_up == "call_back"
        else None,
        outcome_at=ended,
        answered_by=rng.choice(clinicians),
        outcome=OutcomeCode(outcome),
        follow_up=FollowUp(follow_up),
        admission_judgement=AdmissionJudgement(judgement) if judgement else None,
        security_level="relay" if rng.random() < 0.15 else "direct",  # hub.calls.security
    )


def note_text(call: Consultation) -> str:
    """What the clinician wrote about an ended demo call (one note entry)."""
    points, band = call.news2_score, call.news2_band
    news2 = "" if points is None else f" NEWS2 {points} ({band})."
    return f"{_REASONS[call.reason][2]}{news2} {_OUTCOMES[call.outcome or ''][3]}"


def _observations(rng: random.Random, reason: Reason, s: float) -> Observations:
    """One set, worse with severity ``s``; in ~30% some are not taken (never scored as 0)."""
    chest = reason in (Reason.BREATHING, Reason.INFECTION, Reason.CHEST_PAIN)
    confused = rng.random() < (0.3 + 0.4 * s if reason is Reason.CONFUSION or s > 0.5 else 0.02)
    fever = 2.0 * s if reason is Reason.INFECTION else 0.4 * s
    full = Observations(
        respiration_rate=round(rng.gauss(17 + (10 if chest else 5) * s, 2)),
        spo2=min(100, round(rng.gauss(96.5 - (9 if chest else 3) * s, 1.3))),
        on_oxygen=rng.random() < 0.02 + (0.2 * s if chest else 0),
        systolic_bp=round(rng.gauss(136 - 35 * s, 16)),
        pulse=round(rng.gauss(78 + 35 * s, 10)),
        consciousness=Consciousness.NEW_CONFUSION if confused else Consciousness.ALERT,
        temperature=round(min(41.0, max(34.0, rng.gauss(36.8 + fever, 0.35))), 1),
    )
    if rng.random() < 0.3:  # carers often cannot count breaths or take a BP
        optional = ("respiration_rate", "systolic_bp", "temperature", "on_oxygen", "consciousness")
        dropped = rng.sample(optional, rng.randint(1, 3))
        full = replace(full, **cast(dict[str, Any], dict.fromkeys(dropped)))
    return full


def _dump(obs: Observations) -> dict[str, object]:
    """The measured values as JSON (``Observations(**d)`` rebuilds them)."""
    raw = {f.name: getattr(obs, f.name) for f in fields(obs)}
    if obs.spo2 is None:
        raw["spo2_scale"] = None
    return {k: v.value if isinstance(v, Enum) else v for k, v in raw.items() if v is not None}


def _intention(rng: random.Random, reason: Reason, s: float, r: Resident) -> str | None:
    """What the home would have done without the hub (~5% not recorded)."""
    if rng.random() < 0.05:
        return None
    fall = 1.5 if reason is Reason.FALL else 1.0
    eol = 0.3 if r.details.end_of_life else 1.0
    weights = (28 * (1 + 2 * s) * fall * eol, 16 * (1 + s) * eol, 33, 12, 8 * (1 - s) / eol)
    return rng.choices(_INTENTIONS, weights)[0]


def _outcome(rng: random.Random, reason: Reason, s: float, r: Resident, local: datetime) -> str:
    if r.details.end_of_life and (reason is Reason.END_OF_LIFE or rng.random() < 0.3):
        return "end_of_life_support"
    in_hours = local.weekday() < 5 and 8 <= local.hour < 18
    weights = {}
    for code, (weight, growth, boosted, _) in _OUTCOMES.items():
        w = weight * (1 + growth * s * s) * (2 if reason.value in boosted.split() else 1)
        if code in _LEAVES_HOME and r.details.end_of_life:
            w /= 4  # plans for end of life avoid hospital
        weights[code] = max(0.0, w)
    weights["gp_out_of_hours" if in_hours else "gp_in_hours"] = 0
    return rng.choices(list(weights), list(weights.values()))[0]


async def seed(
    ctx: HubContext,
    *,
    seed: int = 7,
    months: int = 6,
    on_progress: Progress | None = None,
    rota_time_limit_s: float = ROTA_TIME_LIMIT_S,
    on_rota_progress: RotaProgressFn | None = None,
) -> DemoSummary:
    """Fill a fresh database with the demo; ``on_progress(done, total)`` after each batch
    of calls, ``on_rota_progress`` while the draft rota is solved (``rota_time_limit_s``
    0 leaves the rota out)."""
    now = ctx.clock.now()
    homes = [await create_home(ctx, SYSTEM, new) for new in plan_homes(rng_for(seed, "homes"))]
    plan = plan_residents(rng_for(seed, "residents"), len(homes), now.date())
    residents = [
        await add_resident(ctx, SYSTEM, home.id, details)
        for home, planned in zip(homes, plan, strict=True)
        for details in planned
    ]

    users = [await create_staff(ctx, SYSTEM, new, DEMO_PASSWORD) for new in plan_staff()]
    secrets_rng = rng_for(seed, "totp")
    secrets = {u.id: totp_secret(secrets_rng) for u in users if u.username != NEWSTARTER}
    await set_demo_totp(ctx, SYSTEM, secrets)
    logins = [
        DemoLogin(u.username, DEMO_PASSWORD, u.role, u.display_name, secrets.get(u.id))
        for u in users
    ]
    clinicians = [u.id for u in users if u.role is Role.CLINICIAN and u.id in secrets]
    # The rest of the rota team, with secrets of their own (the calls stay as they were).
    team = [await create_staff(ctx, SYSTEM, new, DEMO_PASSWORD) for new in plan_rota_staff()]
    team_rng = rng_for(seed, "rota-totp")
    team_secrets = {u.id: totp_secret(team_rng) for u in team}
    await set_demo_totp(ctx, SYSTEM, team_secrets)
    logins += [
        DemoLogin(u.username, DEMO_PASSWORD, u.role, u.display_name, team_secrets[u.id])
        for u in team
    ]
    if not any(u.role is Role.MANAGER and u.home_id is not None for u in [*users, *team]):
        logins.append(await _home_manager(ctx, homes[0].id, homes[0].name, seed))
    codes = [(h.name, (await issue_code(ctx, SYSTEM, h.id, "Demo tablet")).code) for h in homes]

    period = demo_period(now, months)
    calls = generate_consultations(rng_for(seed, "calls"), residents, clinicians, period)
    for first in range(0, len(calls), BATCH):
        batch = calls[first : first + BATCH]
        # Each answered call's note is its clinician's, written when it ended.
        past = [PastCall(c, note_text(c) if c.answered_by is not None else None) for c in batch]
        await store_historical_calls(ctx, SYSTEM, past, source="demo")
        if on_progress:
            on_progress(first + len(batch), len(calls))
    rota = None
    if rota_time_limit_s:
        lead = next(u for u in users if u.role is Role.MANAGER and u.home_id is None)
        start = now.astimezone(uk_zone()).date()
        rota = await seed_rota(
            ctx,
            Actor("staff", lead.id, lead.display_name, lead.role),
            [*users, *team],
            start,
            time_limit_s=rota_time_limit_s,
            on_progress=on_rota_progress,
        )
    return DemoSummary(logins, codes, len(homes), len(residents), len(calls), rota)


async def _home_manager(ctx: HubContext, home_id: int, home_name: str, seed: int) -> DemoLogin:
    """A manager scoped to one care home, with two-factor set up like the others."""
    username, name = HOME_MANAGER
    new = NewStaff.parse(username, name, Role.MANAGER.value, [], home_id=home_id)
    user = await create_staff(ctx, SYSTEM, new, DEMO_PASSWORD)
    secret = totp_secret(rng_for(seed, "home-manager-totp"))
    await set_demo_totp(ctx, SYSTEM, {user.id: secret})
    return DemoLogin(username, DEMO_PASSWORD, user.role, name, secret, home_name)


async def seed_rota(
    ctx: HubContext,
    lead: Actor,
    users: Sequence[StaffUser],
    start: date,
    *,
    days: int = ROTA_DAYS,
    time_limit_s: float = ROTA_TIME_LIMIT_S,
    on_progress: RotaProgressFn | None = None,
) -> RotaRecord:
    """Contracts, leave, requests and demand for the rota team, then a **draft** rota
    from ``start`` (not published: the rota lead looks at it first)."""
    by_name = {u.username: u for u in users}
    for username, (hours, nights) in _CONTRACTS.items():
        await inputs.set_contract(ctx, lead, by_name[username].id, hours, nights)
    for username, first, last, kind in _LEAVE:
        await inputs.add_leave(
            ctx,
            lead,
            by_name[username].id,
            start + timedelta(days=first),
            start + timedelta(days=last),
            kind,
        )
    for username, request, first, last, weight, shift in _REQUESTS:
        await inputs.add_request(
            ctx,
            lead,
            by_name[username].id,
            request,
            start + timedelta(days=first),
            start + timedelta(days=last),
            weight,
            shift,
        )
    await inputs.set_demand(ctx, lead, list(demo_week_demand()))
    return await plans.generate(
        ctx, lead, start, days, "8h", time_limit_s=time_limit_s, on_progress=on_progress
    )
